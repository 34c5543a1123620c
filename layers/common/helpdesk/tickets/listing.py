"""Lists of tickets (GET /v1/tickets): the caller's org's, newest first (the support team's: every org's)."""

import json

from helpdesk.api import cursor
from helpdesk.api.schemas import ListParams, TicketPage
from helpdesk.domain.errors import Forbidden
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import now
from helpdesk.store import tickets
from helpdesk.store.tickets import TicketQuery


def list_tickets(caller: Caller, params: ListParams) -> TicketPage:
    if params.org_id is not None and not caller.is_support:
        raise Forbidden("Only the support team may list another organisation's tickets.")
    if (params.sort == "response_due" or params.breached == "true") and not caller.is_support:
        raise Forbidden("Only the support team's queue sorts and filters by response target.")
    org_id = params.org_id if caller.is_support else caller.org_id
    query = TicketQuery(
        org_id=org_id,
        statuses=list(dict.fromkeys(params.status)),
        category=params.category,
        severity=params.severity,
        cluster_id=params.cluster_id,
        limit=params.limit,
        by_response_due=params.sort == "response_due",
        breached_at=now() if params.breached == "true" else None,
    )
    if params.q is not None:  # words: served from the word index, not by reading the list
        from helpdesk.tickets import search  # only this path needs it (the list's cold start does not)

        return search.search_tickets(caller, query, params.q, params.cursor)
    binding = _binding(caller, query)
    start = cursor.decode(params.cursor, binding) if params.cursor else None
    page = tickets.list_tickets(query, start)
    next_cursor = cursor.encode(page.last_key, binding) if page.last_key else None
    return TicketPage(items=page.tickets, next_cursor=next_cursor)


def _binding(caller: Caller, query: TicketQuery) -> str:
    """What a cursor of this list is bound to: where it is read, its filters and the caller's scope."""
    where = tickets.plan(query)
    filters = {
        "statuses": sorted(query.statuses),
        "category": query.category,
        "severity": query.severity,
        "cluster_id": query.cluster_id,
        "by_response_due": query.by_response_due,
        "breached": query.breached_at is not None,
    }
    return json.dumps([where.index, where.scope, filters, caller.scope()], sort_keys=True)
