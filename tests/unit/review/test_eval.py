"""The evaluation set keeps the engine honest: the thresholds of eval/run_eval.py hold."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATASET = ROOT / "eval" / "tickets.jsonl"
CATEGORIES = {"technical", "bug", "feature_request", "account", "billing", "general", "other"}
SEVERITIES = {"low", "medium", "high", "critical"}


def test_the_dataset_is_well_formed() -> None:
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


def test_the_engine_meets_the_evaluation_thresholds() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "run_eval.py")], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "secrets in output     0" in run.stdout
