"""Who is calling: the claims API Gateway's JWT authorizer has already verified."""

from typing import Any

from helpdesk.domain.errors import Forbidden, Unauthenticated
from helpdesk.domain.identity import Caller
from helpdesk.settings import settings


def parse_roles(value: Any) -> frozenset[str]:
    """Roles arrive as a JSON list, or as HTTP API's flattened "[a b]" string, or comma separated."""
    if value is None:
        return frozenset()
    if isinstance(value, list):
        return frozenset(str(role) for role in value)
    text = str(value).strip().removeprefix("[").removesuffix("]")
    return frozenset(role.strip() for role in text.replace(",", " ").split() if role.strip())


def caller_from_event(event: dict[str, Any]) -> Caller:
    claims = (event.get("requestContext", {}).get("authorizer") or {}).get("jwt", {}).get("claims") or {}
    user_id = claims.get("sub")
    if not user_id:
        raise Unauthenticated("The request carries no verified identity (sub claim).")
    config = settings()
    org_id = claims.get(config.org_claim)
    roles = parse_roles(claims.get(config.roles_claim))
    if not org_id or "#" in str(org_id):
        raise Forbidden(f"The token has no valid organisation claim ({config.org_claim}).")
    return Caller(user_id=str(user_id), email=claims.get("email"), org_id=str(org_id), roles=roles)
