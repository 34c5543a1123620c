"""What the built-in engine learned, shipped beside it as `model.json` (written by
`scripts/train_review.py` from the `dev` split of eval/real and the synthetic set, never from `test`).

- `df`: in how many training tickets each term occurs (terms seen at least twice), for a rarity
  prior (IDF) before an org's own index has statistics;
- `duplicates`: a logistic regression over a candidate's match features (helpdesk.review.matching),
  and the probabilities above which a review proposes a duplicate at all (`propose`) and lists
  further ones (`also`);
- `category`: a multinomial logistic regression over hashed word and bigram features
  (helpdesk.review.classify), its weights quantised to int8 per class.

Loaded once per process, on first use (not at import): a few milliseconds, no third-party code.
"""

import base64
import json
import math
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class DuplicateModel:
    weights: dict[str, float]  # ranking: score = Σ weight × feature
    bias: float  # calibration: probability = σ(scale × score + gap × (score − best other score) + rivals × the draft's rivals + bias)
    propose: float  # the best candidate's probability must reach this for any proposal
    also: float  # further candidates are listed from this probability on
    scale: float = 1.0
    gap: float = 0.0
    rivals: float = 0.0  # helpdesk.review.matching.rivals


@dataclass(frozen=True)
class CategoryModel:
    classes: tuple[str, ...]
    buckets: int
    weights: array  # int8, bucket-major: weights[bucket * len(classes) + k] * scale[k]
    scale: tuple[float, ...]
    bias: tuple[float, ...]
    temperature: float = 1.0  # calibration: probabilities are softmax(logits / temperature)
    typical: tuple[float, ...] = ()  # the mean probability of each class over reports of projects it never saw


@dataclass(frozen=True)
class Model:
    docs: int
    df: dict[str, int]
    duplicates: DuplicateModel
    category: CategoryModel | None = None

    def idf(self, term: str) -> float:
        """Rarity of a term in the training tickets: ln((N + 1) / (df + 1)) + 1; unseen terms are rare."""
        return math.log((self.docs + 1) / (self.df.get(term, 0) + 1)) + 1.0


def pack_int8(values: list[int]) -> str:
    return base64.b64encode(zlib.compress(array("b", values).tobytes(), 9)).decode("ascii")


def unpack_int8(text: str) -> array:
    out = array("b")
    out.frombytes(zlib.decompress(base64.b64decode(text)))
    return out


def from_json(data: dict) -> Model:
    dup = data["duplicates"]
    category = None
    if data.get("category"):
        cat = data["category"]
        category = CategoryModel(
            classes=tuple(cat["classes"]),
            buckets=int(cat["buckets"]),
            weights=unpack_int8(cat["weights"]),
            scale=tuple(cat["scale"]),
            bias=tuple(cat["bias"]),
            temperature=float(cat.get("temperature", 1.0)),
            typical=tuple(float(v) for v in cat.get("typical", ())),
        )
    return Model(
        docs=int(data["docs"]),
        df=dict(data["df"]),
        duplicates=DuplicateModel(
            weights=dict(dup["weights"]),
            bias=float(dup["bias"]),
            propose=float(dup["propose"]),
            also=float(dup["also"]),
            scale=float(dup.get("scale", 1.0)),
            gap=float(dup.get("gap", 0.0)),
            rivals=float(dup.get("rivals", 0.0)),
        ),
        category=category,
    )


_current: Model | None = None


def current() -> Model:
    """The shipped model (read on first use)."""
    global _current
    if _current is None:
        _current = from_json(json.loads(PATH.read_text(encoding="utf-8")))
    return _current


def install(model: Model | None) -> None:
    """Use another model in this process (training and cross-validation); None: the shipped one again."""
    global _current
    _current = model
