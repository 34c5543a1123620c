"""Search (GET /v1/tickets?q=…): the tickets that have all of the words, in their subject, summary
or any non-internal message, newest first — read from the word index (helpdesk.store.search), which
the index_tickets function keeps from the table's stream (helpdesk.tickets.indexing).

One word: its postings (a Query) and those tickets (a BatchGetItem): 2 round trips. Several: the
words' counts (a BatchGetItem), the rarest word's postings (a Query), and those tickets with the
words the index holds of each (one BatchGetItem), which must include every other word: 3 round
trips. The other filters (status, category, severity, cluster_id) are applied to the tickets read.
Only when a page would otherwise be empty while postings remain does it read on (in larger steps),
so a page is never empty while a later one has matches. The cursor is where in the rarest word's
postings the page stopped, signed for the query and the caller."""

import json
import re
import time
import unicodedata
from collections.abc import Iterator

from helpdesk.api import cursor
from helpdesk.api.schemas import TicketPage
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import Ticket
from helpdesk.store import search as index
from helpdesk.store.tickets import TicketQuery

MAX_QUERY_WORDS = 10  # a longer q counts its first 10 words
MAX_WORD_CHARS = 40  # longer tokens (hashes, blobs) are not words; a compound's parts still are
MAX_COMPOUND_PARTS = 4  # a compound of up to 4 parts is indexed with every run of its parts too
MAX_WORDS_PER_TICKET = 500  # later messages' new words are left out past this (subject and summary never)
MAX_CANDIDATES_PER_STEP = 800  # the largest step of a page that has found nothing yet
FIRST_STEP_PAGES = 4  # several words: a page's first read checks up to 4 pages' worth of postings
SEARCH_SECONDS = 6.0  # then a page with nothing found so far ends (the function's timeout is 10 s)

# Common English words that say nothing about a ticket; they are neither indexed nor searched for.
_STOP_WORDS = """
a about after again all also am an and any are as at be because been before being between both but by can could
did do does doing down during each few for from further had has have having he her here hers him his how i if in
into is it its itself just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_TOKEN = re.compile(r"[^\W_]+(?:[._\-][^\W_]+)*")  # letters and digits; joined by . _ - inside a word
_JOINERS = re.compile(r"([._\-])")


# ---------------------------------------------------------------- words


def _folded(text: str) -> str:
    """Lower-case, without accents (é → e), compatibility forms unified (ﬁ → fi, full-width → ASCII)."""
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():
        text = "".join(char for char in text if not unicodedata.combining(char))
    return text.casefold()


def tokens(text: str, *, parts: bool = True) -> Iterator[str]:
    """The words of `text`, in order, repeats included. A compound (`kube-proxy`, `prod-eu.example.com`,
    `10.0.3.17`, `node_pool`) is a word, and so, unless `parts` is False, is each of its parts and,
    for compounds of up to MAX_COMPOUND_PARTS parts, each run of them (`prod-eu`, `eu.example`): a
    query needs only the compound, as a ticket that has it has those too. Stop words, one-character
    words and words over MAX_WORD_CHARS are left out (a compound that long still yields its parts)."""
    for match in _TOKEN.finditer(_folded(text)):
        token = match.group()
        pieces = _JOINERS.split(token)  # [part, joiner, part, …]
        found = [token]
        if len(pieces) > 1 and (parts or len(token) > MAX_WORD_CHARS):
            count = len(pieces) // 2 + 1
            longest = count - 1 if count <= MAX_COMPOUND_PARTS else 1
            found += [
                "".join(pieces[2 * start : 2 * (start + length) - 1])
                for length in range(longest, 0, -1)
                for start in range(count - length + 1)
            ]
        for word in found:
            if 1 < len(word) <= MAX_WORD_CHARS and word not in STOP_WORDS:
                yield word


def words(text: str) -> list[str]:
    """The distinct words of a text as the index keeps them, in order of first appearance."""
    return list(dict.fromkeys(tokens(text)))


def query_words(q: str) -> list[str]:
    """The words a search asks for (all of them must match), by the same tokenizer as the index."""
    return sorted(list(dict.fromkeys(tokens(q, parts=False)))[:MAX_QUERY_WORDS])


# ---------------------------------------------------------------- search


def search_tickets(caller: Caller, query: TicketQuery, q: str, page_cursor: str | None) -> TicketPage:
    """A page of `query`'s tickets (its org, or every org for support; its filters and limit) that
    have all the words of `q`, newest first."""
    wanted = query_words(q)
    binding = _binding(caller, query, wanted)
    before = cursor.decode(page_cursor, binding)["before"] if page_cursor else None
    tickets, stopped_at = _search(query, wanted, before)
    next_cursor = cursor.encode({"before": stopped_at}, binding) if stopped_at else None
    return TicketPage(items=tickets, next_cursor=next_cursor)


def _search(query: TicketQuery, wanted: list[str], before: str | None) -> tuple[list[Ticket], str | None]:
    """The page's tickets, and the id of the last posting it examined when more may follow."""
    if not wanted:
        return [], None  # only stop words, or nothing a word could be made of
    walked, others = wanted[0], set[str]()
    if len(wanted) > 1:  # walk the rarest word's postings; the others are checked on each ticket
        counts = index.word_counts(query.org_id, wanted)
        if None in counts.values():
            return [], None  # a word no ticket ever had: no ticket has them all
        walked = min(wanted, key=lambda word: (counts[word] or 0, word))  # counts are estimates (README)
        others = set(wanted) - {walked}
    found: list[Ticket] = []
    step = _first_step(query, bool(others))
    started = time.monotonic()
    while True:
        posted = index.postings(query.org_id, walked, before=before, limit=step)
        fetched = index.candidates(posted.ticket_ids, with_words=bool(others)) if posted.ticket_ids else {}
        for position, ticket_id in enumerate(posted.ticket_ids):
            before = ticket_id
            ticket, indexed = fetched[ticket_id].ticket, fetched[ticket_id].words
            if ticket is not None and (indexed is None or others <= indexed) and _matches(ticket, query):
                found.append(ticket)
                if len(found) == query.limit:
                    at_end = position == len(posted.ticket_ids) - 1 and not posted.more
                    return found, None if at_end else before
        if not posted.more:
            return found, None
        if found:
            return found, before  # matches, short of the limit: the next page goes on from here
        if time.monotonic() - started > SEARCH_SECONDS:
            return found, before  # a very common word, and filters almost no ticket passes (README: Limits)
        step = min(step * 2, MAX_CANDIDATES_PER_STEP)  # nothing yet: read on, in larger steps


def _first_step(query: TicketQuery, verify_words: bool) -> int:
    """How many postings the first read takes: the page's worth when every posting is a match (one
    word, no filter); with filters, as many as one BatchGetItem can check (100 tickets); with other
    words to check, each posting costs two items (the ticket, its words), so FIRST_STEP_PAGES pages'
    worth, at most what one BatchGetItem can check (50 tickets with their words) unless the page
    itself is longer."""
    filtered = bool(query.statuses or query.category or query.severity or query.cluster_id)
    if verify_words:
        return max(query.limit, min(FIRST_STEP_PAGES * query.limit, index.BATCH_GET_LIMIT // 2))
    return max(query.limit, index.BATCH_GET_LIMIT) if filtered else query.limit


def _matches(ticket: Ticket, query: TicketQuery) -> bool:
    """The list's org (its posting list says so; checked again) and its other filters."""
    return (
        (query.org_id is None or ticket.org_id == query.org_id)
        and (not query.statuses or ticket.status in query.statuses)
        and (query.category is None or ticket.category == query.category)
        and (query.severity is None or ticket.severity == query.severity)
        and (query.cluster_id is None or ticket.properties.get("cluster_id") == query.cluster_id)
    )


def _binding(caller: Caller, query: TicketQuery, wanted: list[str]) -> str:
    """What a search cursor is bound to: the words, where they are searched, the filters, the caller's scope."""
    filters = {
        "statuses": sorted(query.statuses),
        "category": query.category,
        "severity": query.severity,
        "cluster_id": query.cluster_id,
    }
    return json.dumps(["search", query.org_id, wanted, filters, caller.scope()], sort_keys=True)
