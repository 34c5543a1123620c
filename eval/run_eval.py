"""Accuracy of the built-in review engine on eval/tickets.jsonl.

Tickets are reviewed in file order, each against the tickets before it (as an org's index grows),
then added to the index. Prints category and severity accuracy, duplicate precision@1 and recall@3,
per split (`dev`: written while the engine was tuned; `holdout`: written after, never tuned on) and
overall. Exits non-zero when a figure is below its threshold.

    python eval/run_eval.py [--verbose] [--file eval/tickets.jsonl]
"""

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MIN_CATEGORY_ACCURACY = 0.70
MIN_RECALL_AT_3 = 0.70

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from helpdesk.domain.reviews import ReviewDraft, ReviewResult  # noqa: E402
from helpdesk.review.engine import review  # noqa: E402
from helpdesk.review.redact import redact  # noqa: E402
from helpdesk.review.similarity import InMemoryCandidateSource  # noqa: E402

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass
class Tally:
    tickets: int = 0
    category_ok: int = 0
    severity_ok: int = 0
    severity_near: int = 0  # within one level
    with_duplicate: int = 0  # tickets labelled as a duplicate of an earlier one
    found_at_3: int = 0
    answered: int = 0  # reviews that proposed at least one duplicate
    top_ok: int = 0  # ... whose first proposal is right
    false_alarms: int = 0  # non-duplicates that got a proposal
    leaks: int = 0  # outputs that still held a secret
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def ratio(self, num: int, den: int) -> float:
        return num / den if den else 0.0

    @property
    def category_accuracy(self) -> float:
        return self.ratio(self.category_ok, self.tickets)

    @property
    def recall_at_3(self) -> float:
        return self.ratio(self.found_at_3, self.with_duplicate)

    def report(self, name: str) -> str:
        non_duplicates = self.tickets - self.with_duplicate
        return "\n".join(
            [
                f"[{name}] {self.tickets} tickets",
                f"  category accuracy     {self.category_accuracy:.3f}  ({self.category_ok}/{self.tickets})",
                f"  severity accuracy     {self.ratio(self.severity_ok, self.tickets):.3f}  ({self.severity_ok}/{self.tickets});"
                f" within one level {self.ratio(self.severity_near, self.tickets):.3f}",
                f"  duplicate recall@3    {self.recall_at_3:.3f}  ({self.found_at_3}/{self.with_duplicate})",
                f"  duplicate precision@1 {self.ratio(self.top_ok, self.answered):.3f}  ({self.top_ok}/{self.answered} reviews"
                f" that proposed a duplicate)",
                f"  false alarms          {self.ratio(self.false_alarms, non_duplicates):.3f}  ({self.false_alarms}/{non_duplicates}"
                " non-duplicates got a proposal)",
                f"  secrets in output     {self.leaks}",
            ]
        )


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def duplicate_groups(tickets: list[dict[str, str]]) -> dict[str, str]:
    """Ticket id → the id of the first ticket of its duplicate group."""
    root: dict[str, str] = {}
    for ticket in tickets:
        parent = ticket.get("duplicate_of")
        root[ticket["id"]] = root[parent] if parent else ticket["id"]
    return root


def leaked(result: ReviewResult) -> bool:
    quoted = [result.summary, *(phrase for dup in result.duplicates for phrase in dup.evidence)]
    return any(redact(text) != text for text in quoted)


def evaluate(tickets: list[dict[str, str]], verbose: bool) -> dict[str, Tally]:
    groups = duplicate_groups(tickets)
    source = InMemoryCandidateSource()
    tallies: dict[str, Tally] = {}
    for ticket in tickets:
        draft = ReviewDraft(subject=ticket["subject"], body=ticket["body"])
        result = review(draft, "eval", source)
        for name in (ticket.get("split", "dev"), "all"):
            score(tallies.setdefault(name, Tally()), ticket, result, groups)
        if verbose:
            explain(ticket, result, groups)
        source.add("eval", ticket["id"], ticket["subject"], ticket["body"])
    return tallies


def score(tally: Tally, ticket: dict[str, str], result: ReviewResult, groups: dict[str, str]) -> None:
    tally.tickets += 1
    tally.category_ok += result.suggested_category.value == ticket["category"]
    tally.confusion[(ticket["category"], result.suggested_category.value)] += 1
    distance = abs(SEVERITIES.index(result.suggested_severity.value) - SEVERITIES.index(ticket["severity"]))
    tally.severity_ok += distance == 0
    tally.severity_near += distance <= 1
    tally.leaks += leaked(result)
    proposed = [dup.ticket_id for dup in result.duplicates]
    right = {other for other, group in groups.items() if group == groups[ticket["id"]] and other != ticket["id"]}
    if ticket.get("duplicate_of"):
        tally.with_duplicate += 1
        tally.found_at_3 += any(ticket_id in right for ticket_id in proposed[:3])
    elif proposed:
        tally.false_alarms += 1
    if proposed:
        tally.answered += 1
        tally.top_ok += proposed[0] in right


def explain(ticket: dict[str, str], result: ReviewResult, groups: dict[str, str]) -> None:
    marks = []
    if result.suggested_category.value != ticket["category"]:
        marks.append(f"category {ticket['category']}→{result.suggested_category.value}")
    if result.suggested_severity.value != ticket["severity"]:
        marks.append(f"severity {ticket['severity']}→{result.suggested_severity.value}")
    dups = [(d.ticket_id, d.score) for d in result.duplicates[:3]]
    if ticket.get("duplicate_of") and not any(groups.get(d) == groups[ticket["id"]] for d, _ in dups):
        marks.append(f"missed duplicate {ticket['duplicate_of']}")
    if not ticket.get("duplicate_of") and dups:
        marks.append(f"false duplicate {dups[0]}")
    print(f"{ticket['id']} {' | '.join(marks) or 'ok'}")
    print(f"    summary: {result.summary}")
    issues = ",".join(issue.code for issue in result.quality.issues)
    print(f"    quality {result.quality.score} [{issues}] dups {dups}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / "eval" / "tickets.jsonl")
    parser.add_argument("--verbose", action="store_true", help="one line per ticket: what went wrong")
    args = parser.parse_args()
    tickets = load(args.file)
    started = time.perf_counter()
    tallies = evaluate(tickets, args.verbose)
    elapsed = time.perf_counter() - started
    for name in sorted(tallies, key=lambda n: (n == "all", n)):
        print(tallies[name].report(name))
    overall = tallies["all"]
    print(f"  time per review       {1000 * elapsed / max(1, overall.tickets):.1f} ms (review + indexing)")
    misses = [f"{want}→{got} ×{n}" for (want, got), n in overall.confusion.most_common() if want != got]
    print("  category confusions   " + (", ".join(misses[:8]) or "none"))
    failures = []
    if overall.category_accuracy < MIN_CATEGORY_ACCURACY:
        failures.append(f"category accuracy {overall.category_accuracy:.3f} < {MIN_CATEGORY_ACCURACY}")
    if overall.recall_at_3 < MIN_RECALL_AT_3:
        failures.append(f"duplicate recall@3 {overall.recall_at_3:.3f} < {MIN_RECALL_AT_3}")
    if overall.leaks:
        failures.append(f"{overall.leaks} outputs still held a secret")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
