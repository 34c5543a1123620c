"""Data access: the duplicate index, kept in the table as tickets are reviewed (reviewer only).

  DUPIDX#<org>#<key> / POSTINGS        a string set of the ids of the org's tickets posted under
                                        one index key (helpdesk.review.similarity: a pair of a
                                        ticket's most telling terms)
  TICKET#<id> / TICKET                  also carries the ticket's `dup_signature` and `dup_snippet`

A review reads the draft's keys (one BatchGetItem, whatever the org's size), ranks the ids
they hold, and reads the best candidates' signatures (one more BatchGetItem): never the org's
tickets. A key shared by MAX_POSTINGS tickets no longer discriminates; later tickets skip it. The
cap also bounds what a posting costs: a set of 200 ULIDs is ~5.4 KB, so adding to it is at most 6
WCU, and the reviewer's read of 21 keys stays within one BatchGetItem page (measured: p99 of an
org's posting lists is 82 ids at 20,000 tickets)."""

from typing import Any

from botocore.exceptions import ClientError

from helpdesk.store.core import TABLE, batch_get_all, client, from_item, key, refused, ticket_key

MAX_POSTINGS = 200


def postings_key(org_id: str, index_key: str) -> dict[str, Any]:
    return key(f"DUPIDX#{org_id}#{index_key}", "POSTINGS")


def post(org_id: str, ticket_id: str, keys: list[str]) -> None:
    """Add the ticket under each of its keys (skipping saturated keys)."""
    for index_key in keys:
        try:
            client.update_item(
                TableName=TABLE,
                Key=postings_key(org_id, index_key),
                UpdateExpression="ADD ticket_ids :id",
                ConditionExpression="attribute_not_exists(ticket_ids) OR size(ticket_ids) < :max",
                ExpressionAttributeValues={":id": {"SS": [ticket_id]}, ":max": {"N": str(MAX_POSTINGS)}},
            )
        except ClientError as exc:
            if refused(exc) is None:
                raise


def postings(org_id: str, keys: list[str]) -> dict[str, list[str]]:
    """The ids posted under each of `keys` that has any (one BatchGetItem for up to 100 keys)."""
    found = batch_get_all([postings_key(org_id, index_key) for index_key in keys], projection="pk, ticket_ids")
    prefix = f"DUPIDX#{org_id}#"
    return {item["pk"]["S"].removeprefix(prefix): item["ticket_ids"]["SS"] for item in found if "ticket_ids" in item}


def signatures(org_id: str, ticket_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What duplicate scoring needs of each indexed ticket of the org: id, subject, status,
    `dup_signature`, `dup_snippet` (one BatchGetItem for up to 100 tickets)."""
    items = batch_get_all(
        [ticket_key(ticket_id) for ticket_id in ticket_ids],
        projection="id, org_id, subject, #status, dup_signature, dup_snippet",
        names={"#status": "status"},
    )
    found = (from_item(item) for item in items)
    return {values["id"]: values for values in found if values["org_id"] == org_id and "dup_signature" in values}
