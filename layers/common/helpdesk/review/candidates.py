"""Duplicate candidates from the table's duplicate index (helpdesk.store.duplicates): a review reads
its draft's index keys and the best candidates' signatures, never the org's tickets."""

from helpdesk.review.similarity import Candidate, rank_postings
from helpdesk.store import duplicates


class TableCandidateSource:
    """helpdesk.review.similarity.CandidateSource over the table."""

    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        if not keys:
            return []
        ranked = rank_postings(duplicates.postings(org_id, keys), limit, keys=keys)
        if not ranked:
            return []
        found = duplicates.signatures(org_id, ranked)
        return [
            Candidate(
                ticket_id=ticket_id,
                subject=found[ticket_id]["subject"],
                status=found[ticket_id]["status"],
                signature=found[ticket_id]["dup_signature"],
                text=found[ticket_id].get("dup_snippet", ""),
            )
            for ticket_id in ranked
            if ticket_id in found
        ]
