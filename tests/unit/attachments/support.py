"""Helpers of the attachment tests: multipart events as API Gateway delivers them (base64), presigned
uploads through moto, the bucket's own events, and what the bucket and the table hold."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote_plus

import boto3
import requests
from urllib3 import encode_multipart_formdata

from tests.support import ACME_USER, EVENTS, LambdaContext, Response, event, invoke, load_function

BUCKET = "helpdesk-attachmentsbucket"  # ATTACHMENTS_BUCKET (tests/conftest.py)
REGION = "eu-west-1"

File = tuple[str, bytes, str]  # filename, bytes, declared content type


def multipart(
    name: str,
    payload: dict[str, Any] | None,
    files: list[File],
    **adjust: Any,
) -> dict[str, Any]:
    """events/<name>.json with a multipart/form-data body, base64-encoded as API Gateway sends it."""
    fields: list[tuple[str, Any]] = []
    if payload is not None:
        fields.append(("payload", json.dumps(payload)))
    fields += [("attachments", file) for file in files]
    body, content_type = encode_multipart_formdata(fields)
    sample = event(name, headers={"content-type": content_type}, **adjust)
    sample["body"] = base64.b64encode(body).decode()
    sample["isBase64Encoded"] = True
    return sample


def create(files: list[File] | None = None, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ticket filed by `claims` (acme's user), with `files` as multipart when given."""
    claims = claims or ACME_USER
    if files:
        payload = {"category": "technical", "body": "Pods restart every few minutes; logs attached."}
        response = invoke("create_ticket", multipart("create_ticket", payload, files, claims=claims))
    else:
        response = invoke("create_ticket", event("create_ticket", claims=claims))
    assert response.status == 201, response
    ticket: dict[str, Any] = response.json()
    return ticket


def reply(ticket_id: str, files: list[File], claims: dict[str, Any] | None = None, **payload: Any) -> Response:
    body = {"body": "Here is more output.", **payload}
    sample = multipart("reply_ticket", body, files, claims=claims or ACME_USER, path={"ticket_id": ticket_id})
    return invoke("reply_ticket", sample)


def view(ticket_id: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    response = invoke("get_ticket", event("get_ticket", path={"ticket_id": ticket_id}, claims=claims or ACME_USER))
    assert response.status == 200, response
    conversation: dict[str, Any] = response.json()
    return conversation


def presign(ticket_id: str, claims: dict[str, Any] | None = None, **request: Any) -> Response:
    body = {"filename": "kubelet.log", "content_type": "text/plain", "size": 1024, **request}
    sample = event("upload_attachment", claims=claims or ACME_USER, path={"ticket_id": ticket_id}, body=body)
    return invoke("upload_attachment", sample)


def post_upload(grant: dict[str, Any], data: bytes, filename: str = "upload.bin") -> int:
    """The client's half of a presigned POST: the policy's fields, then the file (moto stores it;
    it does not check the policy, so tests decode it instead)."""
    content_type = grant["fields"].get("Content-Type", "application/octet-stream")
    answer = requests.post(
        grant["upload_url"], data=grant["fields"], files={"file": (filename, data, content_type)}, timeout=10
    )
    return answer.status_code


def object_created(key: str, bucket: str = BUCKET) -> dict[str, Any]:
    """events/check_attachment.json for one object, as the bucket sends it (keys URL-encoded)."""
    sample: dict[str, Any] = json.loads((EVENTS / "check_attachment.json").read_text())
    record = sample["Records"][0]["s3"]
    record["bucket"]["name"] = bucket
    record["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["object"]["key"] = quote_plus(key, safe="/")
    return sample


def run_check(key: str, bucket: str = BUCKET) -> None:
    load_function("check_attachment").lambda_handler(object_created(key, bucket), LambdaContext())


def download(ticket_id: str, attachment_id: str, claims: dict[str, Any] | None = None) -> Response:
    path = {"ticket_id": ticket_id, "attachment_id": attachment_id}
    return invoke("get_attachment", event("get_attachment", path=path, claims=claims or ACME_USER))


def follow(response: Response) -> requests.Response:
    """Follow a 302 to its presigned URL (served by moto), as a browser or the CLI would."""
    assert response.status == 302, response
    return requests.get(response.headers["location"], timeout=10)


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def stored_keys(prefix: str = "tickets/") -> list[str]:
    listing = s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def key_of(ticket_id: str, attachment_id: str) -> str:
    return f"tickets/{ticket_id}/{attachment_id}"


def attachment_items(ticket_id: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    response = client.query(
        TableName="helpdesk-table",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :att)",
        ExpressionAttributeValues={":pk": {"S": f"TICKET#{ticket_id}"}, ":att": {"S": "ATT#"}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return items
