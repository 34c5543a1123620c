"""The shipped model is what scripts/train_review.py makes from dev and the synthetic set: anyone can
rebuild it, byte for byte, and no split it must not see went into it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "layers" / "common" / "helpdesk" / "review" / "model.json"


def test_the_training_script_rebuilds_the_shipped_model(tmp_path: Path) -> None:
    rebuilt = tmp_path / "model.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_review.py"), "--out", str(rebuilt)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert rebuilt.read_bytes() == SHIPPED.read_bytes()


def test_the_model_was_trained_on_dev_and_the_synthetic_set_only() -> None:
    meta = json.loads(SHIPPED.read_text(encoding="utf-8"))["meta"]
    real = [json.loads(line) for line in (ROOT / "eval" / "real" / "issues.jsonl").open(encoding="utf-8")]
    synthetic = sum(1 for line in (ROOT / "eval" / "tickets.jsonl").open(encoding="utf-8") if line.strip())
    assert "split=dev" in meta["trained_on"] and "test" not in meta["trained_on"]
    assert meta["tickets"] == sum(1 for row in real if row["split"] == "dev") + synthetic
