"""Who is acting: a verified caller (from the API's JWT claims), as the domain sees them."""

from pydantic import BaseModel, ConfigDict

from helpdesk.domain.models import Author, AuthorKind, Member
from helpdesk.settings import settings


class Caller(BaseModel):
    """A person calling the API, with the roles their token names."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    email: str | None
    org_id: str
    roles: frozenset[str]

    @property
    def is_support(self) -> bool:
        """A member of the support team: their roles name the template's SupportRoleName exactly."""
        return settings().support_role in self.roles

    @property
    def is_admin(self) -> bool:
        return settings().admin_role in self.roles

    def scope(self) -> str | None:
        """The org every query and conditional write is limited to; None for the support team."""
        return None if self.is_support else self.org_id

    def member(self) -> Member:
        """The caller as the org's member directory records them."""
        return Member(id=self.user_id, email=self.email, org_id=self.org_id, roles=sorted(self.roles))

    def author(self) -> Author:
        """The caller as the author of a message."""
        return Author(
            id=self.user_id, email=self.email, kind=AuthorKind.SUPPORT if self.is_support else AuthorKind.USER
        )
