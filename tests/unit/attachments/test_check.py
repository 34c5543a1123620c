"""The upload check (functions/check_attachment, on the bucket's object-created events): presigned
uploads judged by their stored bytes, marked available or rejected, rejected bytes deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import EVENTS, SUPPORT, LambdaContext, load_function
from tests.unit.attachments.support import (
    BUCKET,
    attachment_items,
    create,
    download,
    follow,
    key_of,
    object_created,
    post_upload,
    presign,
    reply,
    run_check,
    s3,
    stored_keys,
    view,
)
from tests.unit.attachments.test_content import ALLOWED, JAR, LOG, png
from tests.unit.attachments.test_endpoints import DISGUISES, REJECTED, served_type

MB = 1024 * 1024
# A presigned upload carries at least one byte (the policy's content-length-range starts at 1).
UPLOADABLE = {name: sample for name, sample in ALLOWED.items() if sample[0]}


def granted_upload(data: bytes, declared: int | None = None, **request: Any) -> tuple[str, str, str]:
    """A ticket, a presigned upload for it, and `data` POSTed to S3: (ticket id, attachment id, key)."""
    ticket = create()
    response = presign(ticket["id"], size=declared if declared is not None else max(1, len(data)), **request)
    assert response.status == 201, response
    grant = response.json()
    assert post_upload(grant, data) in (200, 204)
    return ticket["id"], grant["attachment_id"], key_of(ticket["id"], grant["attachment_id"])


def record(ticket_id: str, attachment_id: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    return next(a for a in view(ticket_id, claims=claims)["attachments"] if a["id"] == attachment_id)


@pytest.mark.parametrize(("data", "content_type"), UPLOADABLE.values(), ids=UPLOADABLE.keys())
def test_a_checked_upload_of_every_allowed_type_becomes_available_with_its_real_type(
    aws, data: bytes, content_type: str
) -> None:
    ticket_id, attachment_id, key = granted_upload(data, content_type="application/octet-stream")
    assert record(ticket_id, attachment_id)["status"] == "pending_upload"

    run_check(key)

    attachment = record(ticket_id, attachment_id)
    assert attachment["status"] == "available"
    assert attachment["content_type"] == content_type
    assert attachment["size"] == len(data)
    fetched = follow(download(ticket_id, attachment_id))
    assert fetched.content == data
    assert fetched.headers["content-type"] == served_type(content_type)


@pytest.mark.parametrize(("filename", "declared"), DISGUISES)
@pytest.mark.parametrize("data", REJECTED.values(), ids=REJECTED.keys())
def test_a_rejected_upload_is_deleted_and_never_downloadable(aws, data: bytes, filename: str, declared: str) -> None:
    ticket_id, attachment_id, key = granted_upload(data, filename=filename, content_type=declared)

    run_check(key)

    attachment = record(ticket_id, attachment_id)
    assert attachment["status"] == "rejected"
    assert "cannot be attached" in attachment["rejection_reason"]
    assert key not in stored_keys()
    for claims in (None, SUPPORT):
        response = download(ticket_id, attachment_id, claims=claims)
        assert response.status == 409
        assert "rejected" in response.json()["detail"]
        assert "location" not in response.headers


def test_an_upload_larger_than_declared_is_rejected(aws) -> None:
    # moto does not enforce the policy's content-length-range; the check does not rely on it
    ticket_id, attachment_id, key = granted_upload(LOG * 10, declared=len(LOG))

    run_check(key)

    attachment = record(ticket_id, attachment_id)
    assert attachment["status"] == "rejected"
    assert f"larger than the {len(LOG)} bytes declared" in attachment["rejection_reason"]
    assert stored_keys() == []


def test_an_upload_of_10_mb_and_one_byte_is_rejected(aws) -> None:
    ticket_id, attachment_id, key = granted_upload(b"x" * (10 * MB + 1), declared=10 * MB)

    run_check(key)

    assert record(ticket_id, attachment_id)["status"] == "rejected"
    assert "larger than 10 MB" in record(ticket_id, attachment_id)["rejection_reason"]
    assert stored_keys() == []


def test_large_uploads_are_judged_from_their_head_and_tail(aws) -> None:
    # Given a 3 MB log, and the same log with a Java archive appended
    log = LOG * (3 * MB // len(LOG))
    ticket_id, plain_id, plain_key = granted_upload(log)
    _, jar_ticket_id, jar_key = granted_upload(log + JAR)
    jar_ticket = jar_key.split("/")[1]

    run_check(plain_key)
    run_check(jar_key)

    assert record(ticket_id, plain_id)["status"] == "available"
    assert record(ticket_id, plain_id)["content_type"] == "text/plain"
    rejected = record(jar_ticket, jar_ticket_id)
    assert rejected["status"] == "rejected"
    assert rejected["content_type"] == "application/zip"
    assert stored_keys() == [plain_key]


def test_the_check_is_idempotent_and_a_rejection_is_final(aws) -> None:
    ticket_id, attachment_id, key = granted_upload(png())
    run_check(key)
    run_check(key)  # a repeated event
    assert record(ticket_id, attachment_id)["status"] == "available"

    # When the grant is used again (before it expires) to swap in something else
    s3().put_object(Bucket=BUCKET, Key=key, Body=JAR, ContentType="image/png")
    run_check(key)
    # Then the new bytes are judged, rejected and deleted
    assert record(ticket_id, attachment_id)["status"] == "rejected"
    assert stored_keys() == []

    # And a rejection stays one: good bytes uploaded after it are deleted too
    s3().put_object(Bucket=BUCKET, Key=key, Body=png(), ContentType="image/png")
    run_check(key)
    run_check(key)
    assert record(ticket_id, attachment_id)["status"] == "rejected"
    assert stored_keys() == []
    assert download(ticket_id, attachment_id).status == 409


def test_objects_it_did_not_grant_are_left_alone(aws) -> None:
    # Given a file attached inline (checked in its request) and objects the check knows nothing of
    ticket = create()
    inline = reply(ticket["id"], [("kubelet.log", LOG, "text/plain")]).json()["attachments"][0]
    inline_key = key_of(ticket["id"], inline["id"])
    strangers = [
        f"tickets/{ticket['id']}/01JDQ5B3C4D5E6F7G8H9J0K1M2",  # no record
        "tickets/not-an-id/either",
        "tickets/a/b/c",
        "elsewhere/file.txt",
    ]
    for key in strangers:
        s3().put_object(Bucket=BUCKET, Key=key, Body=JAR)

    for key in [inline_key, *strangers]:
        run_check(key)
    run_check(inline_key, bucket="some-other-bucket")

    assert record(ticket["id"], inline["id"]) == inline
    assert sorted(stored_keys("")) == sorted([inline_key, *strangers])


def test_a_rejection_gives_the_ticket_its_room_back(aws) -> None:
    # Given a ticket at its limit of 20, the last one a presigned upload of an executable
    ticket = create([(f"f{i}.log", LOG, "text/plain") for i in range(3)])
    for _ in range(5):
        assert reply(ticket["id"], [(f"r{i}.log", LOG, "text/plain") for i in range(3)]).status == 201
    assert presign(ticket["id"]).status == 201
    grant = presign(ticket["id"], size=len(REJECTED["elf"])).json()
    assert presign(ticket["id"]).status == 409
    post_upload(grant, REJECTED["elf"])

    # When the check rejects it (twice: the room comes back once)
    run_check(key_of(ticket["id"], grant["attachment_id"]))
    run_check(key_of(ticket["id"], grant["attachment_id"]))

    # Then one more attachment fits, and only one
    assert presign(ticket["id"]).status == 201
    assert presign(ticket["id"]).status == 409


def test_the_sample_event_is_handled_and_keys_are_decoded_as_s3_encodes_them(aws) -> None:
    # Given the sample event as it is (its object has no record here): it is ignored, not an error
    sample = json.loads((EVENTS / "check_attachment.json").read_text())
    assert load_function("check_attachment").lambda_handler(sample, LambdaContext()) is None
    # And S3's URL-encoded keys ("+" for a space) are decoded before they are looked up
    records = load_function("check_attachment").S3Notification.model_validate(object_created("tickets/a b/c=d"))
    assert records.Records[0].s3.object.key == "tickets/a+b/c%3Dd"
    assert records.Records[0].key == "tickets/a b/c=d"
    assert [item["origin"]["S"] for item in attachment_items("01JDQ4Z9X2V7N8K3M5P6R7S8T9")] == []
