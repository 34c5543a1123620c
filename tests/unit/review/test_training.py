"""The shipped model is what scripts/train_review.py makes from dev and the synthetic set (the script
reads no other split): anyone can rebuild it, byte for byte."""

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
