"""PATCH /v1/tickets/{ticket_id}: change subject, category, severity (support: status, assignee)."""

from helpdesk.api.http import (
    Response,
    RouteSpec,
    etag,
    if_match_version,
    json_response,
    lambda_handler_for,
    make_api,
    route,
)
from helpdesk.api.schemas import TicketUpdate
from helpdesk.domain.models import Ticket
from helpdesk.tickets import changes

api = make_api()


@route(
    api,
    RouteSpec(
        "PATCH",
        "/v1/tickets/{ticket_id}",
        "Update a ticket",
        "updateTicket",
        body=TicketUpdate,
        response=Ticket,
        errors=(400, 401, 403, 404, 409, 412, 415, 422),
    ),
)
def update_ticket(ticket_id: str, body: TicketUpdate) -> Response:
    ticket = changes.update_ticket(api.caller(), ticket_id, body, if_match_version(api))
    return json_response(200, ticket, {"ETag": etag(ticket.version)})


lambda_handler = lambda_handler_for(api, idempotent=True)
