"""Duplicate search that stays fast as an org grows: an index kept as tickets are written.

For every ticket the data layer stores
- its `keys` (at most 32): one per telling term of its title (its TITLE_KEYS rarest: identical or
  near-identical titles are the strongest evidence there is), per adjacent pair of title terms, per telling term of
  its body, and per normalised error line (a fingerprint: numbers, hex, paths and timestamps removed).
  Each key is a posting list: a single rare title term or error fingerprint is enough to find a
  ticket, and the data layer caps every list, so a review reads a bounded number of items;
- its `signature`: a compact string with its title terms, its body's weighted terms, its
  fingerprints and the versions it names, enough to score it as a candidate;
- a redacted snippet of its text, for the evidence phrases.

A review computes the draft's keys and asks a `CandidateSource` for the tickets posted under them:
the source ranks them by the rarity *in the org* of the keys they share (its posting lists are the
org's own document frequencies), and returns the best with that share as `match`. The engine scores
each candidate from the two signatures (helpdesk.review.matching), and quotes the phrases both texts
share with `evidence()`.
"""

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from helpdesk.review import model
from helpdesk.review.redact import redact
from helpdesk.review.text import STOPWORDS, URL, concept_spans, keep_token, stem, term_weight

SCHEME = "2"  # part of every key and signature: a new scheme never matches postings of an old one
TITLE_KEYS = 10  # telling terms of the title posted as keys
PAIR_KEYS = 6  # adjacent title-term pairs
BODY_KEYS = 12  # the body's most telling terms (besides the title's)
PRINT_KEYS = 4  # error fingerprints
MAX_KEYS = TITLE_KEYS + PAIR_KEYS + BODY_KEYS + PRINT_KEYS
SIGNATURE_TERMS = 80
MAX_TEXT = 8_000  # characters of a ticket that count (long log pastes add noise, not signal)
SNIPPET_CHARS = 2_000
TITLE_CHARS = 200


# ------------------------------------------------------------------------------------------ terms


def document(subject: str | None, body: str) -> str:
    """The text a ticket is indexed and reviewed by: subject and body (the first message)."""
    return f"{subject}\n\n{body}" if subject else body


_TOKEN = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_HEXLIKE = re.compile(r"(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{7,}|(?=(?:[a-z]*\d){3})[a-z0-9]{10,}")


def _keep(token: str) -> bool:
    if len(token) < 2 or token in STOPWORDS:
        return False
    if token.isdigit():
        return len(token) == 3  # status and exit codes; other numbers are ids, sizes, times
    return not _HEXLIKE.fullmatch(token)


def words(text: str) -> list[str]:
    """Normalised terms in order: lower case, light stemming, stop words, ids and hashes out; an
    identifier like `volumes_from` is kept whole as well as in its parts."""
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group(0)
        if "_" in token:
            if len(token) <= 40:
                out.append(token)
            parts = token.split("_")
        else:
            parts = [token]
        out.extend(stem(part) for part in parts if _keep(part))
    return out


def _concept_terms(text: str) -> list[str]:
    """Paraphrase classes (`#oom` for OOMKilled, out of memory, exit code 137) as extra terms."""
    return [f"#{concept}" for concept, _, _ in concept_spans(text.lower())]


_ERRORISH = re.compile(
    r"\b(?:error|err|errors|fatal|panic|exception|failed|failure|fails|cannot|can't|unable|denied|refused|invalid"
    r"|not\s+found|no\s+such|timeout|timed\s+out|traceback|forbidden|unknown|unsupported|segmentation)\b"
    r"|[a-z](?:Error|Exception)\b",
    re.IGNORECASE,
)
_NOISE = (
    (re.compile(r"\d{4}-\d\d-\d\d[t ]?[\d:.,]*z?|\d\d:\d\d:\d\d[\d.,]*|\b\d{10,13}\b", re.I), " "),  # timestamps
    (re.compile(URL, re.I), " url "),
    (re.compile(r"(?<![\w.])(?:~|\.{1,2})?(?:/[\w.@+-]+){2,}/?"), " path "),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), " uuid "),
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[a-f]*\d)[0-9a-f]{7,}\b", re.I), " hex "),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), " n "),
)


def fingerprints(text: str, limit: int = PRINT_KEYS) -> list[str]:
    """Error lines with what varies between two reports of one fault removed, hashed: the same error
    message, log line or stack frame gives the same fingerprint in two tickets."""
    found: list[str] = []
    for raw in text[:MAX_TEXT].splitlines():
        line = raw.strip().strip("`>*# ")
        if len(line) < 16 or not _ERRORISH.search(line):
            continue
        for pattern, replacement in _NOISE:
            line = pattern.sub(replacement, line)
        tokens = re.findall(r"[a-z]+", line.lower())
        tokens = tokens[:16]
        telling = [t for t in tokens if len(t) > 2 and t not in STOPWORDS and t not in ("hex", "uuid", "path", "url")]
        if len(telling) < 3:
            continue
        digest = hashlib.blake2b(" ".join(tokens).encode(), digest_size=4).hexdigest()
        if digest not in found:
            found.append(digest)
        if len(found) >= limit:
            break
    return found


_VERSION = re.compile(r"(?<![\w.])v?(\d{1,4}\.\d{1,4}(?:\.\d{1,5}){0,2})(?:[-+~]?(?:rc|beta|alpha)\.?\d*)?(?![\w.]*\d)")


def versions(text: str, limit: int = 6) -> list[str]:
    found: list[str] = []
    for match in _VERSION.finditer(text[:MAX_TEXT].lower()):
        if match.group(1) not in found:
            found.append(match.group(1))
        if len(found) >= limit:
            break
    return found


def title_of(subject: str | None, body: str) -> str:
    """The ticket's title: its subject, or the first line of a draft without one."""
    if subject and subject.strip():
        return " ".join(subject.split())[:TITLE_CHARS]
    return next((" ".join(line.split())[:TITLE_CHARS] for line in body.splitlines() if line.strip()), "")


@dataclass(frozen=True)
class Analysis:
    """What duplicate matching reads of a ticket (the draft's own, or parsed from a stored signature)."""

    title: tuple[str, ...]  # the title's terms, in order, once each
    terms: dict[str, int]  # term → count, title and body (the signature keeps the most telling)
    prints: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()


def analyse(subject: str | None, body: str) -> Analysis:
    """A ticket's terms, fingerprints and versions (its text redacted first)."""
    title = redact(title_of(subject, body))
    if not (subject and subject.strip()):
        body = body.lstrip().partition("\n")[2]  # its first line is its title
    text = redact(body[:MAX_TEXT])
    title_terms = tuple(dict.fromkeys([*words(title), *_concept_terms(title)]))
    counts = Counter([*words(text), *_concept_terms(text)])
    for term in title_terms:
        counts[term] += 1
    return Analysis(
        title=title_terms,
        terms=dict(counts),
        prints=tuple(fingerprints(text)),
        versions=tuple(versions(f"{title}\n{text}")),
    )


Rarity = Callable[[str], float]


def weight(term: str, count: int, idf: Rarity) -> float:
    """A term's weight in a ticket: sublinear frequency × rarity."""
    return (1.0 + math.log(count)) * idf(term)


def _ranked(analysis: Analysis, limit: int, exclude: Iterable[str] = ()) -> list[str]:
    skip = set(exclude)
    idf = model.current().idf
    scored = [(weight(term, n, idf), term) for term, n in analysis.terms.items() if term not in skip]
    return [term for _, term in sorted(scored, key=lambda item: (-item[0], item[1]))[:limit]]


# ------------------------------------------------------------------------------------------- keys


def _key(kind: str, value: str) -> str:
    return f"{SCHEME}{kind}{hashlib.blake2b(f'{kind}:{value}'.encode(), digest_size=6).hexdigest()}"


def term_key(term: str) -> str:
    """The posting key of a single term (its posting count is the term's document frequency in the org)."""
    return _key("w", term)


def keys_of(analysis: Analysis) -> list[str]:
    """The ticket's posting keys, most telling first (at most MAX_KEYS, distinct)."""
    current = model.current()
    title = sorted(analysis.title, key=lambda term: (-current.idf(term), term))[:TITLE_KEYS]
    plain = [term for term in analysis.title if not term.startswith("#")]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(plain)][:PAIR_KEYS]
    body = _ranked(analysis, BODY_KEYS, exclude=title)
    keys = [
        *(_key("w", term) for term in title),
        *(_key("p", pair) for pair in pairs),
        *(_key("w", term) for term in body),
        *(_key("f", digest) for digest in analysis.prints),
    ]
    return list(dict.fromkeys(keys))[:MAX_KEYS]


def index_keys(text: str) -> list[str]:
    """Posting keys of a text whose first line is its title (see `keys_of`)."""
    return keys_of(analyse(None, text))


# -------------------------------------------------------------------------------------- signature


def signature_of(analysis: Analysis) -> str:
    """`2|title terms|term:count …|fingerprints|versions`: small enough to store beside the ticket."""
    top = _ranked(analysis, SIGNATURE_TERMS)
    kept = dict.fromkeys([*analysis.title, *top])
    body = " ".join(f"{term}:{analysis.terms.get(term, 1)}" for term in kept)
    return "|".join([SCHEME, " ".join(analysis.title), body, " ".join(analysis.prints), " ".join(analysis.versions)])


def signature(text: str) -> str:
    return signature_of(analyse(None, text))


def parse_signature(sig: str) -> Analysis | None:
    """The stored signature's analysis (None for another scheme's signature)."""
    parts = sig.split("|")
    if len(parts) != 5 or parts[0] != SCHEME:
        return None
    terms: dict[str, int] = {}
    for item in parts[2].split():
        term, _, count = item.rpartition(":")
        if term and count.isdigit():
            terms[term] = int(count)
    return Analysis(
        title=tuple(parts[1].split()), terms=terms, prints=tuple(parts[3].split()), versions=tuple(parts[4].split())
    )


def vector(analysis: Analysis, idf: Rarity) -> dict[str, float]:
    """Unit-length tf-idf vector of a ticket's terms."""
    weights = {term: weight(term, n, idf) for term, n in analysis.terms.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {term: w / norm for term, w in weights.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b[t] for t, w in a.items() if t in b)


@dataclass(frozen=True)
class IndexEntry:
    """What the data layer stores for a ticket, computed in one pass."""

    keys: list[str]  # postings: DUPIDX#{org}#{key} → ticket id
    signature: str  # beside the ticket, for scoring
    snippet: str  # beside the ticket, for evidence (redacted)


def index_entry(subject: str | None, body: str) -> IndexEntry:
    """Keys, signature and snippet of a ticket (its subject and first message)."""
    analysis = analyse(subject, body)
    return IndexEntry(keys=keys_of(analysis), signature=signature_of(analysis), snippet=snippet(subject, body))


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
    match: float = 0.0  # the org's own evidence: the rarity-weighted share of the draft's keys it is posted under
    settled: str | None = None  # the category it is resolved or closed under (helpdesk.store.categories)


class Candidates(list[Candidate]):
    """What a source returns: the candidates, best first, and the org statistics it read on the way:
    `counts`, how many of the org's tickets were posted under each of the draft's keys, `indexed`,
    how many tickets the org's index holds, `categories`, how many of its tickets are settled
    under each category (helpdesk.store.categories), and `predicted`, the classifier's probabilities
    summed over `predicted_reports` of its indexed tickets. A plain list is fine too (the engine then
    uses its priors)."""

    def __init__(
        self,
        items: Iterable[Candidate] = (),
        counts: Mapping[str, int] | None = None,
        indexed: int = 0,
        categories: Mapping[str, int] | None = None,
        predicted: Mapping[str, float] | None = None,
        predicted_reports: int = 0,
    ):
        super().__init__(items)
        self.counts = dict(counts or {})
        self.indexed = indexed
        self.categories = dict(categories or {})
        self.predicted = dict(predicted or {})
        self.predicted_reports = predicted_reports


class CandidateSource(Protocol):
    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        """At most `limit` tickets of the org posted under any of the keys, best first."""
        ...


def key_rarity(posted: int, total: int) -> float:
    """How telling a key is in the org: ln(1 + N / (df + 1)), with df its posting count."""
    return math.log(1.0 + (total + 1) / (posted + 1))


def score_postings(
    postings: Mapping[str, Iterable[str]],
    keys: Sequence[str] | None = None,
    total: int | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Ticket id → the share (0..1) of the draft's key rarity it shares. A key's rarity comes from how
    many tickets were posted under it (`counts`, else its list's length) in an org of `total` indexed
    tickets (without `total`, the longest list stands in)."""
    lists = {key: set(ids) for key, ids in postings.items()}
    order = list(keys) if keys is not None else sorted(lists)
    posted = {key: max(len(lists.get(key, ())), (counts or {}).get(key, 0)) for key in order}
    size = max(total or 0, max(posted.values(), default=0))
    rarity = {key: key_rarity(posted[key], size) for key in order}
    whole = sum(rarity.values()) or 1.0
    score: dict[str, float] = {}
    for key in order:
        for ticket_id in lists.get(key, ()):
            score[ticket_id] = score.get(ticket_id, 0.0) + rarity[key]
    return {ticket_id: value / whole for ticket_id, value in score.items()}


def rank_postings(scores: Mapping[str, float], limit: int) -> list[str]:
    """The best `limit` ticket ids by `score_postings`; ties go to the newest ticket (ULIDs sort by time)."""
    newest_first = sorted(scores, reverse=True)
    return sorted(newest_first, key=lambda ticket_id: -scores[ticket_id])[:limit]


def snippet(subject: str | None, body: str) -> str:
    """The redacted text to store beside a ticket's signature, for evidence (as `index_entry().snippet`)."""
    return redact(document(subject, body))[:SNIPPET_CHARS]


@dataclass
class InMemoryCandidateSource:
    """The index in a dict, for tests and the evaluation; it keeps the data layer's rules
    (helpdesk.store.duplicates): a posting list takes at most `cap` ids (later tickets only count),
    and the org's indexed tickets are counted; so are its settled tickets per category
    (helpdesk.store.categories) and, for tickets added with them, their predicted categories."""

    cap: int = 200
    _postings: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _tickets: dict[tuple[str, str], Candidate] = field(default_factory=dict)
    _indexed: Counter[str] = field(default_factory=Counter)
    _settled: dict[str, Counter[str]] = field(default_factory=dict)
    _predicted: dict[str, tuple[dict[str, float], int]] = field(default_factory=dict)

    def add(
        self,
        org_id: str,
        ticket_id: str,
        subject: str | None,
        body: str,
        status: str = "open",
        predicted: Mapping[str, float] | None = None,
    ) -> None:
        """Index a ticket, as the reviewer does once it has reviewed it (with the classifier's
        `predicted` probabilities for it, helpdesk.review.engine.predicted_categories)."""
        if predicted:
            sums, reports = self._predicted.get(org_id, ({}, 0))
            for name, chance in predicted.items():
                sums[name] = sums.get(name, 0.0) + chance
            self._predicted[org_id] = (sums, reports + 1)
        entry = index_entry(subject, body)
        self._tickets[(org_id, ticket_id)] = Candidate(
            ticket_id=ticket_id,
            subject=title_of(subject, body),
            status=status,
            signature=entry.signature,
            text=entry.snippet,
        )
        self._indexed[org_id] += 1
        for key in entry.keys:
            posted = self._postings.setdefault((org_id, key), [])
            if ticket_id in posted:
                continue
            self._counts[(org_id, key)] += 1
            if len(posted) < self.cap:
                posted.append(ticket_id)

    def set_status(self, org_id: str, ticket_id: str, status: str) -> None:
        self._tickets[(org_id, ticket_id)] = replace(self._tickets[(org_id, ticket_id)], status=status)

    def settle(self, org_id: str, category: str, ticket_id: str | None = None) -> None:
        """A ticket of the org resolved (or closed) under `category`, as support's change records it: the
        org's mix counts it, and the ticket, when indexed, carries its category. The evaluation settles a
        ticket once, after indexing it, and never reopens it: unlike the table (helpdesk.store.tickets),
        a second settle counts twice and nothing is ever taken back."""
        self._settled.setdefault(org_id, Counter())[category] += 1
        if ticket_id is not None and (org_id, ticket_id) in self._tickets:
            self._tickets[(org_id, ticket_id)] = replace(self._tickets[(org_id, ticket_id)], settled=category)

    def candidates(self, org_id: str, keys: list[str], limit: int) -> Candidates:
        postings = {key: self._postings[(org_id, key)] for key in keys if (org_id, key) in self._postings}
        counts = {key: self._counts[(org_id, key)] for key in postings}
        total = self._indexed[org_id]
        scores = score_postings(postings, keys, total, counts)
        found = [
            replace(self._tickets[(org_id, ticket_id)], match=round(scores[ticket_id], 4))
            for ticket_id in rank_postings(scores, limit)
        ]
        predicted, reports = self._predicted.get(org_id, ({}, 0))
        return Candidates(
            found,
            counts=counts,
            indexed=total,
            categories=self._settled.get(org_id, {}),
            predicted=predicted,
            predicted_reports=reports,
        )
