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


def _train_review():
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_review

    return train_review


def test_the_proposal_bar_lets_through_the_target_share_of_queries_without_a_duplicate() -> None:
    train = _train_review()
    best = {f"q{i}": i / 100 for i in range(100)}  # q99 is the likeliest
    bar = train.propose_threshold(best, set(best))
    through = [query for query, chance in best.items() if chance >= bar]
    assert len(through) == int(train.TARGET_FALSE_ALARMS * 100)
    assert train.propose_threshold({}, set()) == 0.0


def test_hard_negatives_count_as_their_share_whatever_their_number() -> None:
    train = _train_review()
    # 10 hard negatives, each likelier than any of the 90 other queries
    best = {f"h{i}": 0.9 + i / 1000 for i in range(10)} | {f"q{i}": i / 100 for i in range(90)}
    hard = {f"h{i}" for i in range(10)}
    plain = train.propose_threshold(best, set(best))
    weighted = train.propose_threshold(best, set(best), hard)
    assert sum(chance >= plain for chance in best.values()) == int(train.TARGET_FALSE_ALARMS * 100)
    through = [query for query, chance in best.items() if chance >= weighted]
    # each hard negative weighs HARD_SHARE / 10: only as many as keep their weight within the target
    assert len(through) == int(train.TARGET_FALSE_ALARMS / (train.HARD_SHARE / 10))
    assert set(through) <= hard
