"""The local identity provider's signing key: an RSA key set kept under .local/, and tokens signed
with it (RS256, like Cognito's). The key is made on first use and kept, so tokens survive a restart
of the stack; delete .local/ to rotate it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local import config

PRIVATE_KEY = "jwt-signing-key.pem"
KEY_SET = "jwks.json"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def ensure(directory: Path | None = None) -> dict[str, Any]:
    """The public key set (JWKS), creating the key pair when there is none yet."""
    directory = directory or config.state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    key_path, set_path = directory / PRIVATE_KEY, directory / KEY_SET
    if key_path.exists() and set_path.exists():
        key_set: dict[str, Any] = json.loads(set_path.read_text())
        return key_set
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    public = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    # RFC 7638 thumbprint as the key id, as most identity providers do
    kid = base64.urlsafe_b64encode(hashlib.sha256(json.dumps(public, separators=(",", ":")).encode()).digest())
    key_set = {"keys": [{**public, "kid": kid.decode().rstrip("="), "alg": "RS256", "use": "sig"}]}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    set_path.write_text(json.dumps(key_set, indent=2) + "\n")
    return key_set


def mint(
    claims: dict[str, Any],
    *,
    ttl: int = 24 * 3600,
    issuer: str = config.ISSUER,
    audience: str = config.AUDIENCE,
    directory: Path | None = None,
) -> str:
    """A signed token with the standard claims filled in (`claims` overrides them)."""
    directory = directory or config.state_dir()
    kid = ensure(directory)["keys"][0]["kid"]
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "token_use": "id",
        **claims,
    }
    private_key = (directory / PRIVATE_KEY).read_bytes()
    return jwt.encode(payload, private_key, algorithm="RS256", headers={"kid": kid})


def user_claims(
    sub: str,
    email: str | None,
    org: str,
    roles: list[str] | tuple[str, ...],
    *,
    org_claim: str = "org_id",
    roles_claim: str = "roles",
) -> dict[str, Any]:
    """A user's claims, under the claim names of the template's OrgClaim / RolesClaim parameters."""
    claims: dict[str, Any] = {"sub": sub, org_claim: org, roles_claim: list(roles)}
    if email:
        claims["email"] = email
    return claims
