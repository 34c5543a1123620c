"""Data access: the duplicate index, kept in the table as tickets are reviewed (reviewer only).

  DUPIDX#<org>#<key> / POSTINGS        the ids of the org's tickets posted under one index key
                                        (helpdesk.review.similarity: a telling title or body term, a
                                        title-term pair, an error fingerprint), at most MAX_POSTINGS:
                                        `ticket_ids`, a string set, while the key has room; `full`, the
                                        MAX_POSTINGS ids in one string (sorted, space-separated), once it
                                        is full; `n`: how many tickets were posted under it, also past the
                                        cap (the key's document frequency in the org)
  DUPIDX#<org>#~count / POSTINGS       `n`: how many tickets the org's index holds; `p_<category>`: the
                                        classifier's probability of each category summed over the tickets
                                        posted with one, and `pn`: how many those are (what a review reads
                                        before the org has settled a ticket: helpdesk.review.classify)
  TICKET#<id> / TICKET                  also carries the ticket's `dup_signature` and `dup_snippet`
                                        (and, from helpdesk.store.tickets, its `settled_category`)

A review reads the draft's keys, the org's count and its category mix (helpdesk.store.categories;
one BatchGetItem, whatever the org's size),
ranks the ids they hold, and reads the best candidates' signatures and settled categories (one more
BatchGetItem): never the rest of the org's tickets. A key shared by MAX_POSTINGS tickets no longer
discriminates; later tickets only count in its `n`. The cap also bounds what a posting costs: a set of 200 ULIDs is ~5.4 KB, so adding
to it is at most 6 WCU, and the reviewer's read of 32 keys stays within one BatchGetItem page. A
full key never changes again but for its `n`, so its set is written once more as one string: in a
large org most of a draft's keys are full, and a value of one string is parsed (by DynamoDB, botocore
and moto) far faster than a set of 200. The poster that fills a key packs it. Packing is only
an optimisation: a set left full (its poster failed between the two writes, or it was filled before
keys were packed) reads the same, and the first review that reads it packs it."""

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.observability import logger
from helpdesk.store import categories
from helpdesk.store.core import TABLE, batch_get_all, client, from_item, key, refused, ticket_key

MAX_POSTINGS = 200
COUNT_KEY = "~count"  # never an index key (those are hex digests)


def postings_key(org_id: str, index_key: str) -> dict[str, Any]:
    return key(f"DUPIDX#{org_id}#{index_key}", "POSTINGS")


def postings_item(org_id: str, index_key: str, ticket_ids: list[str], n: int) -> dict[str, Any]:
    """A key's item as the posters would leave it (what a bulk load writes): the first MAX_POSTINGS
    ids posted (here the oldest, by ULID), packed when full, and how many were posted (`n`)."""
    kept = sorted(ticket_ids)[:MAX_POSTINGS]
    ids = {"full": {"S": " ".join(kept)}} if len(kept) == MAX_POSTINGS else {"ticket_ids": {"SS": kept}}
    return postings_key(org_id, index_key) | ids | {"n": {"N": str(n)}}


def ids_of(item: dict[str, Any]) -> list[str]:
    """The ids a key's item holds, set or packed."""
    if "full" in item:
        return item["full"]["S"].split()
    return item.get("ticket_ids", {}).get("SS", [])


@dataclass
class Postings:
    """What the index holds for a draft's keys."""

    ids: dict[str, list[str]] = field(default_factory=dict)  # key → ids posted under it (≤ MAX_POSTINGS)
    counts: dict[str, int] = field(default_factory=dict)  # key → tickets posted under it, past the cap too
    indexed: int = 0  # tickets in the org's index
    categories: dict[str, int] = field(default_factory=dict)  # the org's settled tickets per category
    predicted: dict[str, float] = field(default_factory=dict)  # classifier probabilities summed per category
    predicted_reports: int = 0  # over how many tickets


def _count(org_id: str, index_key: str, predicted: dict[str, float] | None = None) -> None:
    """Count a ticket under a key (and, under the org's count, its predicted categories)."""
    adds = {"n": "1"} | (
        {f"p_{name}": f"{chance:.4f}" for name, chance in predicted.items()} | {"pn": "1"} if predicted else {}
    )
    client.update_item(
        TableName=TABLE,
        Key=postings_key(org_id, index_key),
        UpdateExpression="ADD " + ", ".join(f"#a{n} :a{n}" for n in range(len(adds))),
        ExpressionAttributeNames={f"#a{n}": name for n, name in enumerate(adds)},
        ExpressionAttributeValues={f":a{n}": {"N": value} for n, value in enumerate(adds.values())},
    )


def post(org_id: str, ticket_id: str, keys: list[str], predicted: dict[str, float] | None = None) -> None:
    """Add the ticket under each of its keys (a full key only counts it), and count it in the org, with
    the classifier's `predicted` probabilities for it (helpdesk.review.engine.predicted_categories)."""
    for index_key in keys:
        try:
            response = client.update_item(
                TableName=TABLE,
                Key=postings_key(org_id, index_key),
                UpdateExpression="ADD ticket_ids :id, n :one",
                ConditionExpression="attribute_not_exists(#full) "
                "AND (attribute_not_exists(ticket_ids) OR size(ticket_ids) < :max)",
                ExpressionAttributeNames={"#full": "full"},
                ExpressionAttributeValues={
                    ":id": {"SS": [ticket_id]},
                    ":one": {"N": "1"},
                    ":max": {"N": str(MAX_POSTINGS)},
                },
                ReturnValues="UPDATED_NEW",  # the set as it is now (≤ ~5.4 KB): is it full?
            )
        except ClientError as exc:
            if refused(exc) is None:
                raise
            _count(org_id, index_key)
            continue
        posted = response.get("Attributes", {}).get("ticket_ids", {}).get("SS", [])
        if len(posted) >= MAX_POSTINGS:
            _pack(org_id, index_key, posted)
    _count(org_id, COUNT_KEY, predicted)


def _pack(org_id: str, index_key: str, ticket_ids: list[str]) -> None:
    """Write a full key's set as one string, if it is still a set. Never fails its caller: a key
    left unpacked is read the same."""
    try:
        client.update_item(
            TableName=TABLE,
            Key=postings_key(org_id, index_key),
            UpdateExpression="SET #full = :ids REMOVE ticket_ids",
            ConditionExpression="attribute_exists(ticket_ids) AND size(ticket_ids) >= :max",
            ExpressionAttributeNames={"#full": "full"},
            ExpressionAttributeValues={
                ":ids": {"S": " ".join(sorted(ticket_ids)[:MAX_POSTINGS])},
                ":max": {"N": str(MAX_POSTINGS)},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        if not (isinstance(exc, ClientError) and refused(exc)):  # refused: no longer a set
            logger.warning("Could not pack a full duplicate-index key", extra={"key": index_key}, exc_info=exc)


def postings(org_id: str, keys: list[str]) -> Postings:
    """The ids and counts posted under each of `keys` that has any, the org's count and its category
    mix (one BatchGetItem for up to 98 keys). A full key found still a set is packed on the way."""
    mix = categories.mix_key(org_id)
    predicted = [f"p_{name}" for name in categories.NAMES] + ["pn"]
    found = batch_get_all(
        [postings_key(org_id, index_key) for index_key in [*keys, COUNT_KEY]] + [mix],
        projection="pk, ticket_ids, #full, n, " + ", ".join(f"#{name}" for name in [*categories.NAMES, *predicted]),
        names={"#full": "full"} | {f"#{name}": name for name in [*categories.NAMES, *predicted]},
    )
    prefix = f"DUPIDX#{org_id}#"
    out = Postings()
    for item in found:
        if item["pk"] == mix["pk"]:
            out.categories = categories.mix_of(item)
            continue
        index_key = item["pk"]["S"].removeprefix(prefix)
        n = int(item.get("n", {}).get("N", "0"))
        if index_key == COUNT_KEY:
            out.indexed = n
            out.predicted_reports = int(item.get("pn", {}).get("N", "0"))
            out.predicted = {name: float(item[f"p_{name}"]["N"]) for name in categories.NAMES if f"p_{name}" in item}
        elif ids := ids_of(item):
            out.ids[index_key] = ids
            out.counts[index_key] = max(n, len(ids))
            if "ticket_ids" in item and len(ids) >= MAX_POSTINGS:
                _pack(org_id, index_key, ids)
    return out


def signatures(org_id: str, ticket_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What a review needs of each indexed ticket of the org: id, subject, status, `dup_signature`,
    `dup_snippet` and `settled_category` (the category it counts as in the org's mix, when resolved
    or closed) (one BatchGetItem for up to 100 tickets)."""
    items = batch_get_all(
        [ticket_key(ticket_id) for ticket_id in ticket_ids],
        projection="id, org_id, subject, #status, dup_signature, dup_snippet, settled_category",
        names={"#status": "status"},
    )
    found = (from_item(item) for item in items)
    return {values["id"]: values for values in found if values["org_id"] == org_id and "dup_signature" in values}
