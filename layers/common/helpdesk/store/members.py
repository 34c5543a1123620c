"""Data access: the member directory (ORG#<org> / MEMBER#<user>). Members are known from the tokens
they used; each keeps their email-notification preference."""

from typing import Any

from helpdesk.domain.models import Member
from helpdesk.store.core import TABLE, Update, client, from_item, member_key, query_all


def _recorded(member: Member) -> Update:
    """The member as their token describes them (type, id, org, email, roles)."""
    return Update().set_all(
        {
            "type": "member",
            "id": member.id,
            "org_id": member.org_id,
            "email": member.email,
            "roles": sorted(member.roles),
        }
    )


def upsert(member: Member) -> dict[str, Any]:
    """The transaction item that remembers who used the org, keeping their preference."""
    update = _recorded(member).set_if_absent("email_notifications", True)
    return update.request(member_key(member.org_id, member.id))


def get_member(org_id: str, user_id: str) -> Member | None:
    response = client.get_item(TableName=TABLE, Key=member_key(org_id, user_id))
    return Member.model_validate(from_item(response["Item"])) if "Item" in response else None


def save_member(member: Member) -> Member:
    """Record the member (as their token describes them) with their notification preference."""
    update = _recorded(member).set("email_notifications", member.email_notifications)
    response = client.update_item(**update.request(member_key(member.org_id, member.id), ReturnValues="ALL_NEW"))
    return Member.model_validate(from_item(response["Attributes"]))


def list_members(org_id: str) -> list[Member]:
    """Every member of an org, with their notification preference."""
    items = query_all(
        {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "ExpressionAttributeValues": {":pk": {"S": f"ORG#{org_id}"}, ":member": {"S": "MEMBER#"}},
        }
    )
    return [Member.model_validate(from_item(item)) for item in items]
