"""The caller's own member record (GET/PATCH /v1/me)."""

from helpdesk.api.schemas import MemberUpdate
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import Member
from helpdesk.store import members


def me(caller: Caller) -> Member:
    stored = members.get_member(caller.org_id, caller.user_id)
    current = caller.member()
    return current.model_copy(update={"email_notifications": stored.email_notifications}) if stored else current


def update_me(caller: Caller, update: MemberUpdate) -> Member:
    return members.save_member(caller.member().model_copy(update={"email_notifications": update.email_notifications}))
