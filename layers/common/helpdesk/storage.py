"""Data access: the attachments bucket (S3). With repository.py and review_queue.py, the only
modules that speak boto3.

Objects live under `tickets/<ticket id>/<attachment id>`: keys the server chooses, never a client's
filename. Only the functions that store or serve attachments import this module, and create/reply
only for a multipart request, so no other cold start pays for an S3 client.

Presigned URLs are signed here, without a call to AWS, by the function's own role; virtual-hosted
addressing gives regional URLs in AWS (path-style against a local endpoint such as moto's)."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from helpdesk.settings import settings

PREFIX = "tickets/"

client = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
BUCKET = settings().attachments_bucket


def object_key(ticket_id: str, attachment_id: str) -> str:
    return f"{PREFIX}{ticket_id}/{attachment_id}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(ticket id, attachment id) of a key this module chose, else None."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def put(key: str, data: bytes, content_type: str) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)


def delete(keys: Iterable[str]) -> None:
    objects = [{"Key": key} for key in keys]
    if objects:
        client.delete_objects(Bucket=BUCKET, Delete={"Objects": objects, "Quiet": True})


def size(key: str) -> int | None:
    """The object's size (HeadObject), None when there is no such object."""
    try:
        return int(client.head_object(Bucket=BUCKET, Key=key)["ContentLength"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read(key: str, first: int, last: int) -> bytes:
    """Bytes `first`..`last` (inclusive) of the object: one ranged GetObject."""
    response = client.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={first}-{last}")
    data: bytes = response["Body"].read()
    return data


def presigned_post(key: str, content_type: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str], str]:
    """A browser-style upload of one object: its URL, the form fields to send before the file, and
    when it expires. The policy pins the key and the Content-Type, and allows 1..max_bytes bytes."""
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    grant = client.generate_presigned_post(
        Bucket=BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
    return grant["url"], dict(grant["fields"]), expires_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def presigned_get(key: str, content_type: str, disposition: str, expires_in: int) -> str:
    """A short-lived GET of the object, answered with the given Content-Type and Content-Disposition."""
    url: str = client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": BUCKET,
            "Key": key,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": "private, no-store",
        },
        ExpiresIn=expires_in,
    )
    return url
