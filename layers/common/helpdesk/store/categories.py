"""Data access: an org's category mix, what its settled tickets were about (the reviewer's prior).

  ORG#<org> / CATEGORIES     one number per category: how many of the org's tickets are resolved or
                             closed under it (helpdesk.domain.status.settled_as)
  TICKET#<id> / TICKET       `settled_category`: the category the ticket counts under, if any

A change that settles a ticket, reopens it or recategorises a settled one records, in its own
conditional transaction (`tickets.write`), the category the ticket now counts under, and then moves
its count with one UpdateItem (`move`). A change is written once whatever its retries and races (the
ticket's `staff_version`), so it moves the count once; a ticket settled before the mix existed counts
from its next change, and is never taken out before it was counted. The count is kept out of the
transaction on purpose: every settle of an org writes it, and in a transaction two of them at the
same moment would cancel each other (TransactionConflict). If that one UpdateItem fails after the
ticket's write, the mix misses one ticket (logged): it is a prior, not a record. The reviewer reads
the mix in the BatchGetItem that reads the duplicate index (helpdesk.store.duplicates.postings)."""

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.domain.models import Category
from helpdesk.observability import logger
from helpdesk.store.core import Item, Update, client, key

NAMES = tuple(category.value for category in Category)


def mix_key(org_id: str) -> Item:
    return key(f"ORG#{org_id}", "CATEGORIES")


def move(org_id: str, before: Category | None, after: Category | None) -> None:
    """Move a ticket's count from `before` to `after` (None: not counted). Never fails its caller,
    whose change is written already."""
    if before == after:
        return
    update = Update()
    if after is not None:
        update.add(after.value, 1)
    if before is not None:
        update.add(before.value, -1)
    try:
        client.update_item(**update.request(mix_key(org_id)))
    except (ClientError, BotoCoreError) as exc:
        logger.warning("Category mix not moved", extra={"org_id": org_id, "from": before, "to": after}, exc_info=exc)


def mix_of(item: Item | None) -> dict[str, int]:
    """Category → settled tickets, from the mix's item (empty when the org has none)."""
    return {name: max(0, int(value["N"])) for name, value in (item or {}).items() if name in NAMES}
