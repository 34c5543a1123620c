"""The `$default` route: a resource's other methods are 405 with Allow, anything else 404."""

from __future__ import annotations

import pytest

from tests.support import event, invoke


def unmatched(method: str, path: str) -> dict:
    sample = event("unmatched_route")
    sample["requestContext"]["http"]["method"] = method
    sample["rawPath"] = sample["requestContext"]["http"]["path"] = path
    return sample


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/me", "GET, PATCH"),
        ("PUT", "/v1/tickets", "GET, POST"),
        ("PUT", "/v1/tickets/t-1/close", "POST"),
        ("DELETE", "/v1/tickets/review", "POST"),  # the /review resource, not a ticket id
        ("HEAD", "/v1/tickets/t-1/attachments/a-1", "GET"),
    ],
)
def test_another_method_on_a_resource_is_405_with_allow(method: str, path: str, allow: str) -> None:
    response = invoke("unmatched_route", unmatched(method, path))
    assert response.status == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/tickets/", "/v1/tickets/t-1/close/x", "/v2/tickets", "/v1/me/"])
def test_a_path_that_is_no_resource_is_404(path: str) -> None:
    response = invoke("unmatched_route", unmatched("GET", path))
    assert response.status == 404
    assert response.json()["title"] == "Not found"
    assert "allow" not in response.headers
