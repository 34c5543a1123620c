"""Reviews of drafts over the API, and filing a ticket from an accepted review."""

from __future__ import annotations

from helpdesk.domain.models import ReviewStatus
from helpdesk.store import reviews as repository
from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, event, invoke

RESULT = {
    "summary": "Payments pods crash-loop since the 1.30 upgrade",
    "suggested_category": "bug",
    "category_confidence": 0.8,
    "suggested_severity": "high",
    "severity_confidence": 0.7,
    "quality": {"score": 70, "issues": [{"code": "no_cluster", "message": "No cluster named"}]},
    "questions": ["Which cluster is affected?"],
    "duplicates": [],
}


def request_review(claims: dict | None = None) -> dict:
    response = invoke("request_review", event("request_review", claims=claims or ACME_USER))
    assert response.status == 202, response
    return response.json()


def file(review_id: str, claims: dict | None = None, **fields: object) -> object:
    return invoke(
        "create_ticket", event("create_ticket", claims=claims or ACME_USER, body={"review_id": review_id, **fields})
    )


def test_a_review_is_queued_and_pending_until_the_reviewer_has_run(aws, sqs_messages) -> None:
    # When a user asks for a review of a draft
    review = request_review()
    # Then it is pending, can be read back, and a job for it is on the queue
    assert review["status"] == "pending"
    assert (
        invoke("get_review", event("get_review", path={"review_id": review["review_id"]})).json()["status"] == "pending"
    )
    assert sqs_messages() == [{"kind": "draft", "org_id": "acme", "ticket_id": None, "review_id": review["review_id"]}]


def test_another_org_cannot_read_a_review_but_support_can(aws) -> None:
    review_id = request_review()["review_id"]
    assert invoke("get_review", event("get_review", path={"review_id": review_id}, claims=GLOBEX_USER)).status == 404
    assert invoke("get_review", event("get_review", path={"review_id": review_id}, claims=SUPPORT)).status == 200
    assert invoke("get_review", event("get_review", path={"review_id": review_id}, claims=ACME_ADMIN)).status == 200


def test_a_pending_review_cannot_be_filed_yet(aws) -> None:
    review_id = request_review()["review_id"]
    response = file(review_id)
    assert response.status == 409
    assert "still running" in response.json()["detail"]


def test_filing_an_accepted_review_opens_the_ticket_with_the_review_and_answers(aws, sqs_messages) -> None:
    # Given a completed review
    review_id = request_review()["review_id"]
    repository.complete_review(review_id, ReviewStatus.COMPLETED, RESULT)
    sqs_messages()
    # When the user files it, answering its question and overriding the severity
    response = file(review_id, answers={"Which cluster is affected?": "prod-eu"}, severity="critical")
    # Then the ticket is open at once, with the review, its suggestions and the answers
    assert response.status == 201, response
    ticket = response.json()
    assert ticket["status"] == "open"
    assert ticket["waiting_on"] == "us"
    assert ticket["category"] == "technical"  # the draft named one; the suggestion does not override it
    assert ticket["severity"] == "critical"
    assert ticket["summary"] == RESULT["summary"]
    assert ticket["review"] == {"status": "completed", "review_id": review_id, "result": RESULT}
    conversation = invoke("get_ticket", event("get_ticket", path={"ticket_id": ticket["id"]})).json()
    kinds = [message["author"]["kind"] for message in conversation["messages"]]
    assert kinds == ["user", "ai"]
    assert "prod-eu" in conversation["messages"][0]["body"]
    assert "Which cluster is affected?" in conversation["messages"][1]["body"]
    # and it is queued for the duplicate index, not for another review
    assert sqs_messages() == [{"kind": "index", "org_id": "acme", "ticket_id": ticket["id"], "review_id": None}]


def test_suggestions_fill_what_the_draft_left_open(aws) -> None:
    review = invoke("request_review", event("request_review", body={"body": "Our invoice for October is wrong."}))
    review_id = review.json()["review_id"]
    repository.complete_review(review_id, ReviewStatus.COMPLETED, {**RESULT, "suggested_category": "billing"})
    ticket = file(review_id).json()
    assert ticket["category"] == "billing"
    assert ticket["severity"] == "high"
    assert ticket["subject"] == "Our invoice for October is wrong."


def test_a_review_files_one_ticket_only(aws) -> None:
    review_id = request_review()["review_id"]
    repository.complete_review(review_id, ReviewStatus.COMPLETED, RESULT)
    assert file(review_id).status == 201
    again = file(review_id)
    assert again.status == 409
    assert "already been filed" in again.json()["detail"]


def test_another_orgs_or_an_unknown_review_is_not_found(aws) -> None:
    review_id = request_review()["review_id"]
    repository.complete_review(review_id, ReviewStatus.COMPLETED, RESULT)
    assert file(review_id, claims=GLOBEX_USER).status == 404
    assert file("01JDQ50Z9X2V7N8K3M5P6R7S8X").status == 404
    # and the org's own user can still file it afterwards: nothing was consumed
    assert file(review_id).status == 201


def test_review_requests_are_validated(aws) -> None:
    for body in ({}, {"body": ""}, {"body": "x", "status": "open"}, {"body": 5}, {"category": "nope", "body": "x"}):
        response = invoke("request_review", event("request_review", body=body))
        assert response.status == 422, (body, response)
        assert response.headers["content-type"] == "application/problem+json"


def test_answers_that_take_the_body_past_its_limit_are_422_and_file_nothing(aws) -> None:
    # Given a completed review of a draft
    review_id = request_review()["review_id"]
    repository.complete_review(review_id, ReviewStatus.COMPLETED, RESULT)
    # When it is filed with answers that, appended to the body, make it longer than 50,000 characters
    answers = {f"Question {n}?": "x" * 49_000 for n in range(3)}
    response = file(review_id, answers=answers)
    # Then it is a clear 422 (never a 500), and the review can still be filed
    assert response.status == 422, response
    assert "50,000" in response.json()["detail"]
    assert file(review_id, answers={"Which cluster?": "prod-eu"}).status == 201


def test_properties_merged_past_twenty_are_422(aws) -> None:
    # Given a review of a draft with 15 properties
    draft = {"body": "Pods restart in prod-eu since 10:00 UTC.", "properties": {f"k{n}": "v" for n in range(15)}}
    review = invoke("request_review", event("request_review", claims=ACME_USER, body=draft)).json()
    repository.complete_review(review["review_id"], ReviewStatus.COMPLETED, RESULT)
    # When it is filed with 10 more of its own
    response = file(review["review_id"], properties={f"extra{n}": "v" for n in range(10)})
    # Then the merged 25 are refused
    assert response.status == 422, response
    assert "20" in response.json()["detail"]


def test_a_pending_review_refusal_is_not_replayed_for_the_same_idempotency_key(aws) -> None:
    # Given a filing refused because its review is still running
    review_id = request_review()["review_id"]
    key = {"Idempotency-Key": "file-when-ready"}
    sample = event("create_ticket", claims=ACME_USER, body={"review_id": review_id}, headers=key)
    first = invoke("create_ticket", sample)
    assert first.status == 409 and first.headers["retry-after"] == "1"
    # When the review completes and the client retries with the same key
    repository.complete_review(review_id, ReviewStatus.COMPLETED, RESULT)
    # Then the retry files the ticket, instead of replaying the 409 for 24 h
    assert invoke("create_ticket", sample).status == 201
