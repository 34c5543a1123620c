"""Amazon S3: the attachments bucket.

Objects live under `tickets/<ticket id>/<attachment id>`: keys the server chooses, never a client's
filename. Only the functions that store or serve attachments import this module, and create/reply
only for a multipart request.

Presigned URLs are signed here with botocore's own S3 SigV4 signers and the function's role, without
an S3 client: building one (service model, endpoint rules) costs a share of a cold start (`make bench`)
that a download or an upload grant never needs. The client is created on first use, by the calls that do
speak to S3. Addressing is virtual-hosted and regional in AWS, path-style against a configured
endpoint such as moto's (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, as botocore reads them); a test
holds both signers to what boto3's generate_presigned_url/_post produce."""

import os
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.auth import ISO8601, S3SigV4PostAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.compat import get_current_datetime
from botocore.exceptions import ClientError

from helpdesk.settings import settings

PREFIX = "tickets/"
BUCKET = settings().attachments_bucket


@cache
def client() -> Any:
    from botocore.config import Config

    return boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


def _bucket_url() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{endpoint.rstrip('/')}/{BUCKET}"
    region = _region()
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{BUCKET}.s3.{region}.{suffix}"


def _region() -> str:
    return str(boto3._get_default_session().region_name)


def _credentials() -> Any:
    """The role's credentials as of now (Lambda's are temporary: frozen per signature)."""
    return boto3._get_default_session().get_credentials().get_frozen_credentials()


def object_key(ticket_id: str, attachment_id: str) -> str:
    return f"{PREFIX}{ticket_id}/{attachment_id}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(ticket id, attachment id) of a key this module chose, else None."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def put(key: str, data: bytes, content_type: str) -> None:
    client().put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)


def delete(keys: Iterable[str]) -> None:
    objects = [{"Key": key} for key in keys]
    if objects:
        client().delete_objects(Bucket=BUCKET, Delete={"Objects": objects, "Quiet": True})


def size(key: str) -> int | None:
    """The object's size (HeadObject), None when there is no such object."""
    try:
        return int(client().head_object(Bucket=BUCKET, Key=key)["ContentLength"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read(key: str, first: int, last: int) -> bytes:
    """Bytes `first`..`last` (inclusive) of the object: one ranged GetObject."""
    response = client().get_object(Bucket=BUCKET, Key=key, Range=f"bytes={first}-{last}")
    data: bytes = response["Body"].read()
    return data


def presigned_post(key: str, content_type: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str], str]:
    """A browser-style upload of one object: its URL, the form fields to send before the file, and
    when it expires. The policy pins the bucket, the key and the Content-Type, and allows
    1..max_bytes bytes (fields and conditions in the order boto3's generate_presigned_post uses)."""
    expiration = (get_current_datetime() + timedelta(seconds=expires_in)).strftime(ISO8601)
    fields = {"Content-Type": content_type, "key": key}
    conditions: list[Any] = [
        {"Content-Type": content_type},
        ["content-length-range", 1, max_bytes],
        {"bucket": BUCKET},
        {"key": key},
    ]
    request = AWSRequest(method="POST", url=f"{_bucket_url()}/")
    request.context["s3-presign-post-fields"] = fields
    request.context["s3-presign-post-policy"] = {"expiration": expiration, "conditions": conditions}
    S3SigV4PostAuth(_credentials(), "s3", _region()).add_auth(request)
    return request.url, dict(request.context["s3-presign-post-fields"]), expiration


def presigned_get(key: str, content_type: str, disposition: str, expires_in: int) -> str:
    """A short-lived GET of the object, answered with the given Content-Type and Content-Disposition."""
    params = {
        "response-cache-control": "private, no-store",
        "response-content-disposition": disposition,
        "response-content-type": content_type,
    }
    request = AWSRequest(method="GET", url=f"{_bucket_url()}/{quote(key, safe='/~')}", params=params)
    S3SigV4QueryAuth(_credentials(), "s3", _region(), expires=expires_in).add_auth(request)
    url: str = request.url
    return url
