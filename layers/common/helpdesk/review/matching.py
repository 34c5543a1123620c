"""How likely a candidate is a duplicate of the draft: a few match features, combined by the logistic
regression in the shipped model (helpdesk.review.model), so a score is a probability learned from
maintainer-confirmed duplicate pairs and the hard negatives beside them.

Features (each 0..1 or a small count):
- `title_cos`: the two titles' terms, rarity-weighted cosine (near-identical titles score ~1);
- `title_in_q`, `title_in_c`: how much of one title's rarity the other ticket's text contains;
- `text_cos`: tf-idf cosine of the whole texts (title and body), as the signatures keep them (their
  most telling terms);
- `snippet_cos`: tf-idf cosine of every word of the draft's and the candidate's stored snippet (the
  first SNIPPET_CHARS of title and body): the plain lexical match of the TF-IDF baseline;
- `chars`: character-trigram overlap of the titles (spelling, plurals, `hyperkit` in `com.docker.hyperkit`);
- `same_title`: the titles are identical once case, punctuation and `[Bug]`-like tags are gone;
- `prints`: error fingerprints both carry; `versions`: a version both name;
- `match`: the org's own statistics, the rarity-weighted share of the draft's index keys the candidate
  is posted under (the candidate source computes it from the org's posting lists).

Besides the candidates' own features, the proposal rule reads the draft's `rivals`: how many of its
other best candidates its best one is more alike than it is alike the draft (a report of a common
symptom among many alike, rather than the one the draft repeats).
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from helpdesk.review import model
from helpdesk.review.similarity import (
    SNIPPET_CHARS,
    Analysis,
    Candidate,
    Rarity,
    cosine,
    parse_signature,
    term_key,
    vector,
    words,
)

FEATURES = (
    "title_cos",
    "title_in_q",
    "title_in_c",
    "text_cos",
    "snippet_cos",
    "chars",
    "same_title",
    "prints",
    "versions",
    "match",
)

_TAG = re.compile(r"^\s*(?:\[[^\]]{1,20}\]\s*|\w{2,12}:\s+)+")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normal_title(title: str) -> str:
    return _NON_WORD.sub(" ", _TAG.sub("", title.lower())).strip()


@lru_cache(maxsize=4096)
def _trigrams(title: str) -> frozenset[str]:
    text = f" {normal_title(title)} "
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


PSEUDO_TICKETS = 20  # how much the prior counts against the org's own statistics


class Query:
    """The draft, analysed once per review, with the rarity of its terms: the shipped prior, moved
    towards the org's own document frequencies for the terms it has statistics of (the draft's keys)."""

    def __init__(
        self,
        title: str,
        analysis: Analysis,
        keys: Iterable[str] = (),
        counts: Mapping[str, int] | None = None,
        indexed: int = 0,
        text: str = "",
        rarity: "Query | None" = None,
    ) -> None:
        self.title = title
        self.analysis = analysis
        self._text = text[:SNIPPET_CHARS]
        self._words: dict[str, float] | None = None
        self._keys = set(keys)
        self._counts = counts or {}
        self._indexed = indexed
        self._prior = model.current()
        self._idf: dict[str, float] = {}
        self._snippets: dict[str, dict[str, float]] = {}  # candidate id → its snippet's words_vector
        if rarity is not None:  # another ticket read as the draft: the draft's term rarity (and so its vectors), shared
            self._keys, self._counts, self._indexed = rarity._keys, rarity._counts, rarity._indexed
            self._idf, self._snippets = rarity._idf, rarity._snippets
        self.vector = vector(analysis, self.idf)

    @classmethod
    def of_candidate(cls, candidate: Candidate, draft: "Query") -> "Query | None":
        """A candidate read as if it were the draft (its signature and snippet, the draft's rarity)."""
        analysis = parse_signature(candidate.signature)
        if analysis is None:
            return None
        read = cls(candidate.subject, analysis, text=candidate.text, rarity=draft)
        read._words = draft.snippet_vector(candidate) if candidate.text else None
        return read

    def idf(self, term: str) -> float:
        found = self._idf.get(term)
        if found is None:
            prior = (self._prior.df.get(term, 0) + 1) / (self._prior.docs + 1)
            key = term_key(term)
            if self._indexed and key in self._keys:
                chance = (self._counts.get(key, 0) + PSEUDO_TICKETS * prior) / (self._indexed + PSEUDO_TICKETS)
            else:
                chance = prior
            found = self._idf[term] = math.log(1 / min(1.0, chance)) + 1.0
        return found

    def words_vector(self) -> dict[str, float]:
        """Unit-length tf-idf vector of every word of the draft's text (as far as a snippet reaches)."""
        if self._words is None:
            self._words = _words_vector(self._text, self.idf)
        return self._words

    def snippet_vector(self, candidate: Candidate) -> dict[str, float]:
        """The same vector of a candidate's stored snippet (once per review, whichever ticket reads it)."""
        found = self._snippets.get(candidate.ticket_id)
        if found is None:
            found = self._snippets[candidate.ticket_id] = _words_vector(candidate.text, self.idf)
        return found


def _words_vector(text: str, idf: Rarity) -> dict[str, float]:
    return vector(Analysis(title=(), terms=dict(Counter(words(text)))), idf)


def _share(terms: tuple[str, ...], other: Mapping[str, object] | tuple[str, ...], idf: Rarity) -> float:
    whole = sum(idf(term) for term in terms)
    if not whole:
        return 0.0
    return sum(idf(term) for term in terms if term in other) / whole


def _title_cosine(a: tuple[str, ...], b: tuple[str, ...], idf: Rarity) -> float:
    if not a or not b:
        return 0.0
    dot = sum(idf(t) ** 2 for t in set(a) & set(b))
    norm = math.sqrt(sum(idf(t) ** 2 for t in set(a))) * math.sqrt(sum(idf(t) ** 2 for t in set(b)))
    return dot / norm if norm else 0.0


def features(query: Query, candidate: Candidate) -> dict[str, float] | None:
    """The match features of one candidate (None when its signature is of another scheme)."""
    other = parse_signature(candidate.signature)
    if other is None:
        return None
    q, c, idf = query.analysis, other, query.idf
    grams_q, grams_c = _trigrams(query.title), _trigrams(candidate.subject)
    union = len(grams_q | grams_c)
    same = normal_title(query.title) == normal_title(candidate.subject) and bool(normal_title(query.title))
    return {
        "title_cos": _title_cosine(q.title, c.title, idf),
        "title_in_q": _share(q.title, c.terms, idf),
        "title_in_c": _share(c.title, q.terms, idf),
        "text_cos": cosine(query.vector, vector(c, idf)),
        "snippet_cos": cosine(query.words_vector(), query.snippet_vector(candidate)) if candidate.text else 0.0,
        "chars": len(grams_q & grams_c) / union if union else 0.0,
        "same_title": 1.0 if same else 0.0,
        "prints": float(min(2, len(set(q.prints) & set(c.prints)))),
        "versions": 1.0 if set(q.versions) & set(c.versions) else 0.0,
        "match": candidate.match,
    }


NEAR_IDENTICAL = 0.9  # identical titles (of two telling terms or more), or nearly the same text
NEAR_IDENTICAL_TEXT = 0.8  # text cosine from which two tickets say the same thing


def score(values: Mapping[str, float], weights: Mapping[str, float] | None = None) -> float:
    """The ranking score: the learned weighted sum of the features (`weights`: other than the shipped ones)."""
    weights = model.current().duplicates.weights if weights is None else weights
    return sum(weights.get(name, 0.0) * value for name, value in values.items())


RIVALS_READ = 8  # the draft's candidates after its best one that the best one is compared with
RIVALS_MAX = 5


def rivals(
    query: Query,
    ranked: Sequence[tuple[Mapping[str, float], Candidate]],
    weights: Mapping[str, float] | None = None,
) -> int:
    """How many of the draft's next RIVALS_READ candidates (`ranked`: best ranking score first) its best
    candidate is more alike than it is alike the draft, at most RIVALS_MAX. A draft that repeats a report
    is that report's closest one; a report of a common symptom has closer ones among the others. Alike:
    the ranking score without `match` (the org's postings for the draft's keys, which a comparison of two
    candidates has not); `weights`: other than the shipped ones (training)."""
    if len(ranked) < 2:
        return 0
    (values, best), others = ranked[0], ranked[1 : 1 + RIVALS_READ]
    as_draft = Query.of_candidate(best, query)
    if as_draft is None:
        return 0
    learned = model.current().duplicates.weights if weights is None else weights
    lexical = {name: weight for name, weight in learned.items() if name != "match"}
    bar = score(values, lexical)
    compared = (features(as_draft, other) for _, other in others)
    return min(RIVALS_MAX, sum(1 for alike in compared if alike is not None and score(alike, lexical) > bar))


def probabilities(candidates: list[Mapping[str, float]], title_terms: int = 0, rivals: int = 0) -> list[float]:
    """The learned probability that each candidate is the draft's original: from its ranking score, how
    far it stands above the best other candidate and the draft's `rivals` (an org with ten similar
    reports of a common symptom has no clear original; one that stands out is likely it). Identical titles and near-identical
    texts are too rare among the training pairs to be learned (and the training data's unlinked copies
    make them look like false alarms), and too strong a sign to be left out."""
    learned = model.current().duplicates
    scores = [score(values) for values in candidates]
    chances = []
    for n, (values, mine) in enumerate(zip(candidates, scores, strict=True)):
        others = max((s for m, s in enumerate(scores) if m != n), default=0.0)
        z = learned.scale * mine + learned.gap * (mine - others) + learned.rivals * rivals + learned.bias
        chance = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        same_title = values.get("same_title", 0.0) > 0 and title_terms >= 2
        if same_title or values.get("text_cos", 0.0) >= NEAR_IDENTICAL_TEXT:
            chance = max(chance, NEAR_IDENTICAL)
        chances.append(chance)
    return chances
