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

from helpdesk.repository import TABLE, _plain, client, ticket_key
from helpdesk.review.similarity import Candidate, rank_postings

MAX_POSTINGS = 200
BATCH = 100  # BatchGetItem's limit


def postings_key(org_id: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"DUPIDX#{org_id}#{key}"}, "sk": {"S": "POSTINGS"}}


def _batch_get(keys: list[dict[str, Any]], projection: str, names: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH):
        request: dict[str, Any] = {
            TABLE: {
                "Keys": keys[start : start + BATCH],
                "ProjectionExpression": projection,
                "ExpressionAttributeNames": names,
            }
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            items += response["Responses"].get(TABLE, [])
            request = response.get("UnprocessedKeys") or {}
    return items


def post(org_id: str, ticket_id: str, keys: list[str]) -> None:
    """Add the ticket under each of its keys (skipping saturated keys)."""
    for key in keys:
        try:
            client.update_item(
                TableName=TABLE,
                Key=postings_key(org_id, key),
                UpdateExpression="ADD ticket_ids :id",
                ConditionExpression="attribute_not_exists(ticket_ids) OR size(ticket_ids) < :max",
                ExpressionAttributeValues={":id": {"SS": [ticket_id]}, ":max": {"N": str(MAX_POSTINGS)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


class TableCandidateSource:
    """helpdesk.review.similarity.CandidateSource over the table."""

    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        if not keys:
            return []
        found = _batch_get([postings_key(org_id, key) for key in keys], "pk, ticket_ids", {})
        prefix = f"DUPIDX#{org_id}#"
        postings = {
            item["pk"]["S"].removeprefix(prefix): item["ticket_ids"]["SS"] for item in found if "ticket_ids" in item
        }
        ranked = rank_postings(postings, limit, keys=keys)
        if not ranked:
            return []
        tickets = _batch_get(
            [ticket_key(ticket_id) for ticket_id in ranked],
            "id, org_id, subject, #status, dup_signature, dup_snippet",
            {"#status": "status"},
        )
        by_id = {item["id"]["S"]: _plain(item) for item in tickets}
        return [
            Candidate(
                ticket_id=ticket_id,
                subject=by_id[ticket_id]["subject"],
                status=by_id[ticket_id]["status"],
                signature=by_id[ticket_id]["dup_signature"],
                text=by_id[ticket_id].get("dup_snippet", ""),
            )
            for ticket_id in ranked
            if ticket_id in by_id and by_id[ticket_id]["org_id"] == org_id and "dup_signature" in by_id[ticket_id]
        ]
