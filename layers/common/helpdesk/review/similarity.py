"""Duplicate search that stays fast as an org grows: an index kept as tickets are written.

For every ticket the data layer stores
- its `index_keys(text)`: at most 21 keys, one per pair of the ticket's 7 most telling terms. Each key
  is a posting: tickets that share a key share two of their top terms, so look-ups by the draft's keys
  find similar tickets without reading the others;
- its `signature(text)`: a short string (weighted top terms), enough to score a candidate;
- a redacted `snippet(...)` of its text, for the evidence phrases.

A review computes the draft's keys, asks a `CandidateSource` for the tickets posted under them (a
bounded number of key look-ups, whatever the org's size), scores each with `similarity()`, and quotes
the phrases both texts share with `evidence()`.
"""

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Protocol

from helpdesk.review.redact import redact
from helpdesk.review.text import GENERIC, concept_spans, keep_token, stem, term_weight, terms

SCHEME = "1"  # part of every key and signature: a new scheme never matches postings of an old one
KEY_TERMS = 7  # keys are the pairs of a ticket's 7 most telling terms: 21 keys
SIGNATURE_TERMS = 48
MAX_TEXT = 8_000  # characters of a ticket that count (long log pastes add noise, not signal)
SNIPPET_CHARS = 2_000
SUBJECT_BOOST = 1.5


# ------------------------------------------------------------------------------------------ terms


def document(subject: str | None, body: str) -> str:
    """The text a ticket is indexed and reviewed by: subject and body (the first message)."""
    return f"{subject}\n\n{body}" if subject else body


def weighted_terms(text: str) -> dict[str, float]:
    """Term → weight: sublinear term frequency × a static rarity prior; the first line (the subject) counts more."""
    text = text[:MAX_TEXT]
    counts = Counter(terms(text))
    first_line = set(terms(text.strip().split("\n", 1)[0]))
    return {
        term: (1.0 + math.log(n)) * term_weight(term) * (SUBJECT_BOOST if term in first_line else 1.0)
        for term, n in counts.items()
    }


def _top(weights: Mapping[str, float], n: int) -> list[tuple[str, float]]:
    return sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:n]


# -------------------------------------------------------------------------------------- signature


def signature(text: str) -> str:
    """A compact, storable signature: `"1 term:weight term:weight …"` (weights 1–99, top terms)."""
    return _signature(weighted_terms(redact(text)))


def _signature(weights: Mapping[str, float]) -> str:
    top = _top(weights, SIGNATURE_TERMS)
    if not top:
        return SCHEME
    scale = 99.0 / top[0][1]
    return " ".join([SCHEME, *(f"{term}:{max(1, round(weight * scale))}" for term, weight in top)])


def parse_signature(sig: str) -> dict[str, int]:
    parts = sig.split()
    if not parts or parts[0] != SCHEME:
        return {}
    vector: dict[str, int] = {}
    for part in parts[1:]:
        term, _, weight = part.rpartition(":")
        if term and weight.isdigit():
            vector[term] = int(weight)
    return vector


def similarity(sig_a: str, sig_b: str) -> float:
    """Cosine similarity of two signatures, 0..1 (0 when either is empty or of another scheme)."""
    a, b = parse_signature(sig_a), parse_signature(sig_b)
    dot = sum(weight * b[term] for term, weight in a.items() if term in b)
    if dot == 0:
        return 0.0
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return round(min(1.0, dot / norm), 4)


# ------------------------------------------------------------------------------------------- keys


def key_terms(text: str) -> list[str]:
    """The ticket's most telling terms, best first; generic words only when there is nothing else."""
    return _key_terms(weighted_terms(redact(text)))


def _key_terms(weights: Mapping[str, float]) -> list[str]:
    telling = {term: w for term, w in weights.items() if term not in GENERIC}
    return [term for term, _ in _top(telling or weights, KEY_TERMS)]


def index_keys(text: str) -> list[str]:
    """Band keys (`"1.9f3a2c81d0e4"`) to store as postings, most telling first; at most C(KEY_TERMS, 2).

    One key per pair of the ticket's KEY_TERMS most telling terms. Two tickets share a key as soon as
    they share two of their top terms, which paraphrases of one problem do ("OOMKilled" and "exit
    code 137" are one concept term); a pair is far more selective than a single term, so a posting
    stays short even in a large org. A text with a single term gets that term as its only key.
    """
    return _keys(weighted_terms(redact(text)))


def _keys(weights: Mapping[str, float]) -> list[str]:
    top = _key_terms(weights)
    pairs = [f"{a}+{b}" if a < b else f"{b}+{a}" for a, b in combinations(top, 2)] or top
    return [f"{SCHEME}.{hashlib.blake2b(pair.encode(), digest_size=6).hexdigest()}" for pair in pairs]


@dataclass(frozen=True)
class IndexEntry:
    """What the data layer stores for a ticket, computed in one pass."""

    keys: list[str]  # postings: DUPIDX#{org}#{key} → ticket id
    signature: str  # beside the ticket, for scoring
    snippet: str  # beside the ticket, for evidence (redacted)


def index_entry(subject: str | None, body: str) -> IndexEntry:
    """Keys, signature and snippet of a ticket (its subject and first message)."""
    text = redact(document(subject, body))
    weights = weighted_terms(text)
    return IndexEntry(keys=_keys(weights), signature=_signature(weights), snippet=text[:SNIPPET_CHARS])


# ------------------------------------------------------------------------------------- evidence

_WORD = re.compile(r"[a-z0-9]+(?:[-_.'][a-z0-9]+)*")
_MAX_NGRAM = 6
_ACROSS_SENTENCES = re.compile(r"[.!?;]\s")
_EVIDENCE_CHARS = 80


@dataclass(frozen=True)
class _Word:
    surface: str
    term: str | None  # None for a stop word
    start: int
    end: int


def _words(text: str) -> list[_Word]:
    out = []
    for match in _WORD.finditer(text.lower()):
        plain = match.group(0).replace("'", "")
        term = stem(plain) if keep_token(plain) else None
        out.append(_Word(match.group(0), term, match.start(), match.end()))
    return out


def _content(words: Iterable[_Word]) -> float:
    return sum(term_weight(w.term) for w in words if w.term is not None)


def _quote(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].replace("`", "").replace("*", "").split())


def _shared_phrases(text_a: str, text_b: str) -> list[tuple[float, str]]:
    """Longest word sequences both texts contain (compared as stems), quoted as the candidate says them."""
    a, b = _words(text_a), _words(text_b)
    phrases: list[tuple[float, str]] = []
    used: set[int] = set()
    for n in range(_MAX_NGRAM, 1, -1):
        grams_a = {tuple(w.term or w.surface for w in a[i : i + n]) for i in range(len(a) - n + 1)}
        for i in range(len(b) - n + 1):
            window = b[i : i + n]
            if any(j in used for j in range(i, i + n)) or window[0].term is None or window[-1].term is None:
                continue
            weight = _content(window)
            if tuple(w.term or w.surface for w in window) in grams_a and weight >= 1.4:
                used.update(range(i, i + n))
                phrase = _quote(text_b, window[0].start, window[-1].end)
                if not _ACROSS_SENTENCES.search(phrase) and phrase.lower() not in (p.lower() for _, p in phrases):
                    phrases.append((weight, phrase))
    return phrases


def _concepts(text: str) -> dict[str, str]:
    """Concept → its first wording in the text."""
    found: dict[str, str] = {}
    for concept, start, end in concept_spans(text):
        found.setdefault(concept, " ".join(text[start:end].split()))
    return found


def evidence(text_a: str, text_b: str, limit: int = 5) -> list[str]:
    """Phrases the two texts share (redacted), most telling first: common wording, the same thing said
    differently ("out of memory ≈ OOMKilled"), shared rare words; quoted from `text_b` (the earlier ticket)."""
    text_a, text_b = redact(text_a[:MAX_TEXT]), redact(text_b[:MAX_TEXT])
    found = _shared_phrases(text_a, text_b)
    quoted = " ".join(phrase for _, phrase in found).lower()
    concepts_a, concepts_b = _concepts(text_a), _concepts(text_b)
    for concept, wording_b in concepts_b.items():
        wording_a = concepts_a.get(concept)
        if wording_a is None or wording_b.lower() in quoted:
            continue
        same = wording_a.lower() == wording_b.lower()
        found.append((term_weight(f"#{concept}"), wording_b if same else f"{wording_a} ≈ {wording_b}"))
        quoted += " " + wording_b.lower()
    terms_a = {w.term for w in _words(text_a) if w.term}
    for word in _words(text_b):
        if word.term and word.term in terms_a and term_weight(word.term) >= 1.2 and word.surface not in quoted:
            found.append((term_weight(word.term), _quote(text_b, word.start, word.end)))
            quoted += " " + word.surface
    ranked = sorted(enumerate(found), key=lambda item: (-item[1][0], item[0]))
    return [phrase[:_EVIDENCE_CHARS] for _, (_, phrase) in ranked[:limit]]


# ------------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Candidate:
    """An earlier ticket posted under one of the draft's keys, as the data layer returns it."""

    ticket_id: str
    subject: str
    status: str
    signature: str
    text: str  # the stored snippet, for evidence


class CandidateSource(Protocol):
    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        """At most `limit` tickets of the org posted under any of the keys, most shared keys first."""
        ...


def rank_postings(postings: Mapping[str, Iterable[str]], limit: int, keys: Sequence[str] | None = None) -> list[str]:
    """Ticket ids from key → ids look-ups, best first: the ids posted under the most keys, a key counting
    more the earlier it is in `keys` (the draft's keys, most telling first; without them every key counts
    the same); ties go to the newest ticket (ULIDs sort by time)."""
    order = list(keys) if keys is not None else sorted(postings)
    weight = {key: (len(order) - rank if keys is not None else 1) for rank, key in enumerate(order)}
    score: Counter[str] = Counter()
    for key, ids in postings.items():
        for ticket_id in set(ids):
            score[ticket_id] += weight.get(key, 0)
    newest_first = sorted((ticket_id for ticket_id in score if score[ticket_id] > 0), reverse=True)
    return sorted(newest_first, key=lambda ticket_id: -score[ticket_id])[:limit]


def snippet(subject: str | None, body: str) -> str:
    """The redacted text to store beside a ticket's signature, for evidence (as `index_entry().snippet`)."""
    return redact(document(subject, body))[:SNIPPET_CHARS]


def _first_line(body: str) -> str:
    return next((line.strip()[:200] for line in body.splitlines() if line.strip()), "")


@dataclass
class InMemoryCandidateSource:
    """The index in a dict, for tests and the evaluation; the data layer does the same in DynamoDB."""

    per_key: int = 100  # newest ids read per key, as a Query with Limit would
    _postings: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _tickets: dict[tuple[str, str], Candidate] = field(default_factory=dict)

    def add(self, org_id: str, ticket_id: str, subject: str | None, body: str, status: str = "open") -> None:
        """Index a ticket, as the data layer does when it writes one."""
        entry = index_entry(subject, body)
        self._tickets[(org_id, ticket_id)] = Candidate(
            ticket_id=ticket_id,
            subject=subject or _first_line(body),
            status=status,
            signature=entry.signature,
            text=entry.snippet,
        )
        for key in entry.keys:
            self._postings.setdefault((org_id, key), []).append(ticket_id)

    def set_status(self, org_id: str, ticket_id: str, status: str) -> None:
        current = self._tickets[(org_id, ticket_id)]
        self._tickets[(org_id, ticket_id)] = Candidate(
            current.ticket_id, current.subject, status, current.signature, current.text
        )

    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        postings = {key: sorted(self._postings.get((org_id, key), []), reverse=True)[: self.per_key] for key in keys}
        return [self._tickets[(org_id, ticket_id)] for ticket_id in rank_postings(postings, limit, keys)]
