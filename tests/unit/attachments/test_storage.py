"""Presigned URLs are signed without an S3 client (storage.py): held here to exactly what boto3's own
generate_presigned_url / generate_presigned_post produce for the same request, clock and role."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import datetime
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from helpdesk.adapters import storage
from tests.support import ROOT

NOW = datetime(2026, 11, 23, 12, 34, 56)  # botocore's clock: naive UTC
KEY = "tickets/01JD0000000000000000000000/01JD0000000000000000000001"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """One instant for botocore's signers, its presigned-post policy and storage.py."""
    clock = mock.Mock(return_value=NOW)
    for module in ("botocore.auth", "botocore.signers", "helpdesk.adapters.storage"):
        monkeypatch.setattr(f"{module}.get_current_datetime", clock)


@pytest.fixture
def boto3_s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client storage.py used to presign with: SigV4, virtual-hosted, the function's region and role."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    return boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


def test_a_presigned_get_is_what_boto3_signs(frozen: None, boto3_s3: Any) -> None:
    disposition = "attachment; filename=\"a b.log\"; filename*=UTF-8''a%20b.log"
    expected = boto3_s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": storage.BUCKET,
            "Key": KEY,
            "ResponseContentType": "text/plain; charset=utf-8",
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": "private, no-store",
        },
        ExpiresIn=60,
    )

    ours = storage.presigned_get(KEY, "text/plain; charset=utf-8", disposition, 60)

    mine, theirs = urlsplit(ours), urlsplit(expected)
    assert (mine.scheme, mine.netloc, mine.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert mine.netloc == f"{storage.BUCKET}.s3.eu-west-1.amazonaws.com"
    assert parse_qs(mine.query) == parse_qs(theirs.query)  # the same signature over the same parameters
    assert "X-Amz-Security-Token" in parse_qs(mine.query)  # a role's temporary credentials travel along


def test_a_presigned_post_is_what_boto3_signs(frozen: None, boto3_s3: Any) -> None:
    content_type, size = "image/png", 7 * 1024 * 1024
    expected = boto3_s3.generate_presigned_post(
        Bucket=storage.BUCKET,
        Key=KEY,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
        ExpiresIn=300,
    )

    url, fields, expires_at = storage.presigned_post(KEY, content_type, size, 300)

    assert url == expected["url"]
    assert fields == expected["fields"]  # policy and signature byte for byte
    assert expires_at == "2026-11-23T12:39:56Z"
    assert json.loads(base64.b64decode(fields["policy"]))["expiration"] == expires_at


def test_a_configured_endpoint_is_addressed_path_style(frozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")
    assert storage.presigned_get(KEY, "text/plain", "attachment", 60).startswith(
        f"http://127.0.0.1:4566/{storage.BUCKET}/{KEY}?"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://localhost:9000")  # the service's own wins, as in botocore
    assert storage.presigned_post(KEY, "text/plain", 10, 60)[0] == f"http://localhost:9000/{storage.BUCKET}/"


CLIENTS_MADE = """
import boto3
made, make = [], boto3.client
boto3.client = lambda service, *args, **kwargs: made.append(service) or make(service, *args, **kwargs)
import app, helpdesk.adapters.storage as storage
storage.presigned_get("tickets/a/b", "text/plain", "attachment", 60)
storage.presigned_post("tickets/a/b", "text/plain", 10, 60)
print(" ".join(made))
"""


def test_the_download_function_creates_no_s3_client() -> None:
    """Its cold start and its requests: presigning loads no S3 service model or endpoint rules."""
    path = f"{ROOT / 'functions/get_attachment'}{os.pathsep}{ROOT / 'layers/common'}"
    result = subprocess.run(
        [sys.executable, "-c", CLIENTS_MADE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.stdout.split() == ["dynamodb"]
