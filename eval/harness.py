"""The evaluation's data and protocol, shared by `eval/run_eval.py` and `scripts/train_review.py`.

Three splits: `dev` and `test` (real issue reports, `eval/real/issues.jsonl`, split by project) and
`synthetic` (`eval/tickets.jsonl`, written for this engine). Every project is an org. Its issues are
reviewed in file order (time), each against the issues before it through the duplicate index (the
engine sees only what the index returns), then posted to the index as the reviewer does; an issue
with a maintainer label is then settled under it, as support resolving the ticket in that category
would (the org's category mix and the ticket's settled category, which the next reviews read).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "layers" / "common", ROOT / "eval" / "real"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from helpdesk.domain.reviews import ReviewDraft, ReviewResult  # noqa: E402
from helpdesk.review.similarity import CandidateSource, InMemoryCandidateSource  # noqa: E402

REAL = ROOT / "eval" / "real" / "issues.jsonl"
SYNTHETIC = ROOT / "eval" / "tickets.jsonl"
SPLITS = ("dev", "test", "synthetic")
SEVERITIES = ("low", "medium", "high", "critical")

# Maintainers' "we cannot act on this yet" labels: the real examples of vague reports. Waiting for a
# release or for upstream is waiting on something else than the reporter ("waiting for release" is
# put on a report that was fixed).
VAGUE_LABEL = re.compile(
    r"more[-_ /]?info|needs?[-_ /]?info|information|a?waiting(?![-_ /]*(?:for[-_ /]*|on[-_ /]*)?(?:release|upstream))"
    r"|need[-_ ]repro|needs[-_ /]repro|cannot[-_ ]reproduce|can't[-_ ]reproduce|incomplete|unclear",
    re.IGNORECASE,
)
# ... and "we reproduced / accepted it" labels: reports complete enough to act on.
COMPLETE_LABEL = re.compile(
    r"^(?:confirmed|kind/bug/confirmed|status/1-acknowledged|status/2-valid|accepted|stage/accepted|triaged"
    r"|reproduce/always|status/3-.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Issue:
    id: str
    org: str  # the project (real) or "synthetic": one org, one duplicate index
    title: str
    body: str
    category: str | None
    severity: str | None
    duplicate_of: str | None
    labels: tuple[str, ...]
    split: str
    hard_negative: bool = False  # filed beside a duplicate pair: same project, related topic, another cause

    @property
    def draft(self) -> ReviewDraft:
        return ReviewDraft(subject=self.title or None, body=self.body or " ")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        yield from (json.loads(line) for line in handle if line.strip())


def load(splits: Iterable[str] = SPLITS) -> dict[str, list[Issue]]:
    """The issues of each split, in file order."""
    wanted = set(splits)
    out: dict[str, list[Issue]] = {name: [] for name in SPLITS if name in wanted}
    for row in _jsonl(REAL):
        if row["split"] in wanted:
            out[row["split"]].append(
                Issue(
                    id=row["id"], org=row["project"], title=row["title"], body=row["body"] or "",
                    category=row["category"], severity=row["severity"], duplicate_of=row["duplicate_of"],
                    labels=tuple(row["labels"]), split=row["split"], hard_negative=bool(row["hard_negative_of"]),
                )
            )  # fmt: skip
    if "synthetic" in wanted:
        for row in _jsonl(SYNTHETIC):
            out["synthetic"].append(
                Issue(
                    id=row["id"], org="synthetic", title=row["subject"], body=row["body"], category=row["category"],
                    severity=row["severity"], duplicate_of=row["duplicate_of"], labels=(), split="synthetic",
                )
            )  # fmt: skip
    return out


def by_org(issues: Iterable[Issue]) -> dict[str, list[Issue]]:
    groups: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        groups[issue.org].append(issue)
    return groups


Review = Callable[[ReviewDraft, str, CandidateSource, str | None], ReviewResult]


RANKINGS: dict[str, list[str]] = {}  # the last simulation's full candidate rankings (built-in engine)


def simulate(issues: list[Issue], review: Review) -> dict[str, ReviewResult]:
    """Each org's issues reviewed in order against the earlier ones (through the index), then indexed
    and, when labelled, settled under their label. Also keeps, in RANKINGS, every candidate the
    built-in engine scored, best first, proposed or not (its ranking, to compare with the baselines,
    which always rank)."""
    from helpdesk.review.engine import predicted_categories, score_candidates

    results: dict[str, ReviewResult] = {}
    for org, items in by_org(issues).items():
        index = InMemoryCandidateSource()
        for issue in items:
            results[issue.id] = review(issue.draft, org, index, None)
            scored = score_candidates(issue.title or None, issue.body or " ", org, index)
            RANKINGS[issue.id] = [candidate.ticket_id for _, _, candidate in scored]
            predicted = predicted_categories(issue.title or None, issue.body or " ")
            index.add(org, issue.id, issue.title or None, issue.body or " ", predicted=predicted)
            if issue.category:
                index.settle(org, issue.category, issue.id)
    return results


def duplicate_groups(issues: list[Issue]) -> dict[str, set[str]]:
    """Each issue's duplicate group as filed before it: the earlier reports of its org that the
    maintainers' "closed as a duplicate of" links join it to (its original, the original's other
    duplicates, theirs). Reports of one group describe one problem, so a proposal of any of them
    answers the draft; bug-report deduplication is measured by such groups too."""
    root = {issue.id: issue.id for issue in issues}

    def find(ticket_id: str) -> str:
        while root[ticket_id] != ticket_id:
            root[ticket_id] = root[root[ticket_id]]
            ticket_id = root[ticket_id]
        return ticket_id

    for issue in issues:
        if issue.duplicate_of in root:
            root[find(issue.id)] = find(issue.duplicate_of)
    out: dict[str, set[str]] = {}
    for items in by_org(issues).values():
        earlier: dict[str, set[str]] = defaultdict(set)
        for issue in items:
            group = find(issue.id)
            out[issue.id] = set(earlier[group])
            earlier[group].add(issue.id)
    return out


def answerable(issues: list[Issue]) -> set[str]:
    """Queries whose original was filed before them (so it can be found)."""
    seen: set[str] = set()
    out: set[str] = set()
    for issue in issues:
        if issue.duplicate_of and issue.duplicate_of in seen:
            out.add(issue.id)
        seen.add(issue.id)
    return out
