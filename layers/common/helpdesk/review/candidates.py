"""Duplicate candidates from the table's duplicate index (helpdesk.store.duplicates): a review reads
its draft's index keys, the org's statistics (its index's size, its category mix) and the best
candidates' signatures and settled categories, never the rest of the org's tickets."""

from helpdesk.review.similarity import Candidate, Candidates, rank_postings, score_postings
from helpdesk.store import duplicates


class TableCandidateSource:
    """helpdesk.review.similarity.CandidateSource over the table."""

    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        found = duplicates.postings(org_id, keys)
        scores = score_postings(found.ids, keys, found.indexed, found.counts)
        ranked = rank_postings(scores, limit)
        if not ranked:
            return Candidates(
                counts=found.counts,
                indexed=found.indexed,
                categories=found.categories,
                predicted=found.predicted,
                predicted_reports=found.predicted_reports,
            )
        stored = duplicates.signatures(org_id, ranked)
        return Candidates(
            (
                Candidate(
                    ticket_id=ticket_id,
                    subject=stored[ticket_id]["subject"],
                    status=stored[ticket_id]["status"],
                    signature=stored[ticket_id]["dup_signature"],
                    text=stored[ticket_id].get("dup_snippet", ""),
                    match=round(scores[ticket_id], 4),
                    settled=stored[ticket_id].get("settled_category"),
                )
                for ticket_id in ranked
                if ticket_id in stored
            ),
            counts=found.counts,
            indexed=found.indexed,
            categories=found.categories,
            predicted=found.predicted,
            predicted_reports=found.predicted_reports,
        )
