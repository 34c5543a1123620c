"""Who is calling: the claims API Gateway's JWT authorizer has already verified, read strictly.

The authorizer hands a function every claim as a string (a list as "[a b]", null as "<nil>", a
number or a boolean as its text), so a claim's JSON type is lost there. The token it verified is
the request's own `Authorization` header, so its payload is read here too (decoded, not verified
again: API Gateway did that) to tell an org claim that is a string from `null`, `false`, `5`, a
list or an object, all of which are refused (SPEC §2), and to read list-valued roles exactly."""

import base64
import binascii
import json
import re
from typing import Any

from helpdesk.domain.errors import Forbidden, Unauthenticated
from helpdesk.domain.identity import Caller
from helpdesk.settings import settings

ORG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def parse_roles(value: Any) -> frozenset[str]:
    """Roles as a JSON list (exact names), or HTTP API's flattened "[a b]" string, or comma separated."""
    if value is None:
        return frozenset()
    if isinstance(value, list):
        return frozenset(role for role in value if isinstance(role, str) and role)
    text = str(value).strip().removeprefix("[").removesuffix("]")
    return frozenset(role.strip() for role in text.replace(",", " ").split() if role.strip())


def headers(event: dict[str, Any]) -> dict[str, str]:
    """An HTTP API event's request headers, their names lower-cased."""
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}


def token_claims(event: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of the bearer token the authorizer verified, with its JSON types; None when the
    request carries none that can be read."""
    scheme, _, token = (headers(event).get("authorization") or "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def caller_from_event(event: dict[str, Any]) -> Caller:
    claims = (event.get("requestContext", {}).get("authorizer") or {}).get("jwt", {}).get("claims") or {}
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthenticated("The request carries no verified identity (sub claim).")
    config = settings()
    typed = token_claims(event)
    org_id = typed.get(config.org_claim) if typed is not None else claims.get(config.org_claim)
    if not isinstance(org_id, str) or not ORG_ID.fullmatch(org_id) or org_id != claims.get(config.org_claim):
        raise Forbidden(
            f"The token's organisation claim ({config.org_claim}) must be a string of letters, digits and . _ : - "
            "(at most 128, starting with a letter or digit)."
        )
    roles = typed.get(config.roles_claim) if typed is not None else claims.get(config.roles_claim)
    email = claims.get("email")
    return Caller(
        user_id=user_id,
        email=email if isinstance(email, str) and email else None,
        org_id=org_id,
        roles=parse_roles(roles),
    )
