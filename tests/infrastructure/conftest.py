"""The template, and the CloudFormation that SAM turns it into (IAM roles with their policies)."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from local import template

PARAMETERS = {
    "JwtIssuer": "https://issuer.example.com",
    "JwtAudience": "helpdesk",
    "SenderEmail": "noreply@example.com",
    "SupportEmail": "support@example.com",
}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def sam() -> dict[str, Any]:
    return template.load()


@pytest.fixture(scope="session")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform, as `sam package` would hand it to CloudFormation."""
    from samtranslator.translator.transform import transform

    document = copy.deepcopy(sam)
    for resource in document["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://artifacts/{props[key].strip('/')}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    return transform(document, dict(PARAMETERS), _NoManagedPolicies())
