"""The HTTP API's JWT authorizer, as API Gateway runs it: the token from the identity source
(`Bearer ` prefix optional), an RS256 signature from a key of the issuer's key set (by `kid`),
`iss` equal to the configured issuer, `aud` (or Cognito's `client_id`) one of the audiences,
`exp` in the future, `nbf` and `iat` not in the future, and the route's scopes if it has any.
Claims reach the function as strings, lists flattened to "[a b]" as API Gateway does."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm


@dataclass
class Denied(Exception):
    status: int  # 401, or 403 for missing scopes
    description: str

    @property
    def www_authenticate(self) -> str:
        if self.status == 403:
            return f'Bearer scope="" error="insufficient_scope" error_description="{self.description}"'
        return f'Bearer error="invalid_token" error_description="{self.description}"'


@dataclass
class JwtAuthorizer:
    issuer: str
    audiences: list[str]
    key_set: dict[str, Any]
    identity_source: str = "$request.header.Authorization"

    def __post_init__(self) -> None:
        self._keys = {key["kid"]: RSAAlgorithm.from_jwk(json.dumps(key)) for key in self.key_set["keys"]}

    def token(self, headers: dict[str, str], query: dict[str, str]) -> str | None:
        source = self.identity_source.strip()
        if source.startswith("$request.header."):
            value = headers.get(source.removeprefix("$request.header.").lower())
        elif source.startswith("$request.querystring."):
            value = query.get(source.removeprefix("$request.querystring."))
        else:
            value = None
        if value is None:
            return None
        value = value.strip()
        return value[7:].strip() if value[:7].lower() == "bearer " else value

    def authorize(self, token: str | None, scopes: list[str] | None = None) -> tuple[dict[str, Any], list[str] | None]:
        """The verified claims and the token's scopes, or Denied."""
        if not token:
            raise Denied(401, "missing token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Denied(401, "malformed token") from exc
        if header.get("alg") != "RS256":
            raise Denied(401, "unsupported signing algorithm")
        key = self._keys.get(header.get("kid", ""))
        if key is None:
            raise Denied(401, "signing key not found")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_iss": False, "require": ["exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Denied(401, "the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Denied(401, "the token is not valid yet") from exc
        except jwt.PyJWTError as exc:
            raise Denied(401, "invalid token") from exc
        if claims.get("iss") != self.issuer:
            raise Denied(401, "the token has an invalid issuer")
        audiences = claims.get("aud", claims.get("client_id"))
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not set(map(str, audiences)) & set(self.audiences):
            raise Denied(401, "the token does not have a valid audience")
        if isinstance(claims.get("iat"), int | float) and claims["iat"] > time.time() + 1:
            raise Denied(401, "the token was issued in the future")
        granted = _scopes(claims)
        if scopes and not set(scopes) & set(granted):
            raise Denied(403, "the token is missing the required scope")
        return claims, (granted if scopes else None)


def _scopes(claims: dict[str, Any]) -> list[str]:
    value = claims.get("scope", claims.get("scp", []))
    return value.split() if isinstance(value, str) else [str(scope) for scope in value]


def flatten_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them to a function: every value a string."""
    return {name: _flat(value) for name, value in claims.items()}


def _flat(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(_flat(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{_flat(item)}" for key, item in sorted(value.items())) + "]"
    return "<nil>" if value is None else str(value)
