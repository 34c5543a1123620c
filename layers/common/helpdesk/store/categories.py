"""Data access: an org's category mix, what its settled tickets were about (the reviewer's prior).

  ORG#<org> / CATEGORIES     one number per category: how many of the org's tickets are resolved or
                             closed under it now (helpdesk.domain.status.triaged_category)

The mix is kept by the tickets' own change transactions (`tickets.write`): a change that settles a
ticket, reopens it, or recategorises a settled one moves its count in the same transaction, which
holds only if the ticket is still as read, so the mix is exact whatever the concurrency. The reviewer
reads it in the BatchGetItem that reads the duplicate index (helpdesk.store.duplicates.postings)."""

from typing import Any

from helpdesk.domain.models import Category
from helpdesk.store.core import Item, Update, key

NAMES = tuple(category.value for category in Category)


def mix_key(org_id: str) -> Item:
    return key(f"ORG#{org_id}", "CATEGORIES")


def recount(org_id: str, before: Category | None, after: Category | None) -> dict[str, Any] | None:
    """The transaction item that moves a ticket's count from `before` to `after` (None: not counted),
    or None when it stays where it is."""
    if before == after:
        return None
    update = Update()
    if after is not None:
        update.add(after.value, 1)
    if before is not None:
        update.add(before.value, -1)
    return {"Update": update.request(mix_key(org_id))}


def mix_of(item: Item | None) -> dict[str, int]:
    """Category → settled tickets, from the mix's item (empty when the org has none)."""
    return {name: max(0, int(value["N"])) for name, value in (item or {}).items() if name in NAMES}
