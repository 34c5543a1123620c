"""The evaluation keeps the engine honest: on real issue reports (dev, test) and the synthetic set,
the figures `make eval` reports stay above the agreed floors (eval/run_eval.py FLOORS)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATASET = ROOT / "eval" / "tickets.jsonl"
CATEGORIES = {"technical", "bug", "feature_request", "account", "billing", "general", "other"}
SEVERITIES = {"low", "medium", "high", "critical"}


def test_the_synthetic_set_is_well_formed() -> None:
    tickets = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: set[str] = set()
    for ticket in tickets:
        assert ticket["id"] not in seen
        assert ticket["subject"] and ticket["body"]
        assert ticket["category"] in CATEGORIES and ticket["severity"] in SEVERITIES
        assert ticket["duplicate_of"] is None or ticket["duplicate_of"] in seen  # an earlier ticket
        seen.add(ticket["id"])
    assert len(tickets) >= 160
    assert sum(1 for t in tickets if t["duplicate_of"]) >= 30


def test_the_real_set_is_consistent_and_as_large_as_the_issue_asks() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "real" / "check.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_engine_stays_above_the_floors_on_every_split() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "run_eval.py"), "--engine", "builtin", "--no-baselines", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "secrets in output: 0" in run.stdout


def test_the_intervals_are_wilsons() -> None:
    sys.path.insert(0, str(ROOT / "eval"))
    from run_eval import wilson

    low, high = wilson(70, 100) or (0.0, 0.0)
    assert (round(low, 3), round(high, 3)) == (0.604, 0.781)
    none_low, none_high = wilson(0, 10) or (1.0, 0.0)
    assert none_low == 0.0 and 0.0 < none_high < 0.35
    assert wilson(1, 0) is None


def test_vague_labels_are_the_ones_waiting_on_the_reporter() -> None:
    sys.path.insert(0, str(ROOT / "eval"))
    from harness import COMPLETE_LABEL, VAGUE_LABEL

    for label in ("triage/needs-information", "waiting-on-response", "contributor/waiting-for-feedback",
                  "status/0-more-info-needed", "Waiting for info", "priority/awaiting-more-evidence"):  # fmt: skip
        assert VAGUE_LABEL.search(label), label
    for label in ("waiting for release", "awaiting-upstream", "waiting-on-upstream", "kind/bug/confirmed"):
        assert not VAGUE_LABEL.search(label), label
    assert COMPLETE_LABEL.match("kind/bug/confirmed") and not COMPLETE_LABEL.match("unconfirmed")


def test_a_duplicate_group_is_every_earlier_report_the_maintainers_linked() -> None:
    sys.path.insert(0, str(ROOT / "eval"))
    from harness import Issue, duplicate_groups
    from run_eval import group_metrics

    def issue(ticket_id: str, org: str = "p", duplicate_of: str | None = None) -> Issue:
        return Issue(ticket_id, org, ticket_id, "body", None, None, duplicate_of, (), "dev")

    # a; b and c closed as duplicates of a; d of c (a chain); e alone; f of a, in another org (not seen)
    issues = [issue("a"), issue("b", duplicate_of="a"), issue("e"), issue("c", duplicate_of="a"),
              issue("d", duplicate_of="c"), issue("f", "q", duplicate_of="a")]  # fmt: skip
    groups = duplicate_groups(issues)
    assert groups == {"a": set(), "b": {"a"}, "e": set(), "c": {"a", "b"}, "d": {"a", "b", "c"}, "f": set()}

    rankings = {"b": ["e", "a"], "c": ["b", "e"], "d": ["e", "e2", "e3", "c"]}
    figures = group_metrics(rankings, groups)
    assert figures["queries"] == 3
    assert figures["hit@1"] == 1 / 3  # c's first proposal, b, is of its group; b's and d's are not
    assert figures["recall@3"] == 2 / 3  # d's report of its group comes fourth


def test_the_category_of_a_queue_with_nothing_settled_counts_each_labelled_report_once() -> None:
    sys.path[:0] = [str(ROOT / "eval"), str(ROOT / "eval" / "real")]
    from harness import Issue
    from run_eval import category_unsettled

    from helpdesk.review.engine import classify

    crash = "The API pod crashes with a nil pointer panic after upgrading to 2.4.1; stack trace below."
    issues = [
        Issue("a", "o", "Pod crashes after upgrade", crash, "bug", None, None, (), "dev"),
        Issue("b", "o", "Pod crashes after upgrade", crash, "billing", None, None, (), "dev"),
        Issue("c", "o", "Unlabelled", crash, None, None, None, (), "dev"),
    ]
    assert classify("Pod crashes after upgrade", crash)[0].value == "bug"

    figures = category_unsettled(issues)

    assert figures["unsettled_category_accuracy"] == 0.5  # two labelled, one right; the unlabelled not counted
