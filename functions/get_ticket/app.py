"""GET /v1/tickets/{ticket_id}: the ticket with its whole conversation."""

from helpdesk.api.http import Response, RouteSpec, etag, json_response, lambda_handler_for, make_api, route
from helpdesk.domain.models import Conversation
from helpdesk.tickets import conversation

api = make_api()


@route(
    api,
    RouteSpec(
        "GET",
        "/v1/tickets/{ticket_id}",
        "Get a ticket with its conversation",
        "getTicket",
        response=Conversation,
        errors=(401, 403, 404),
    ),
)
def get_ticket(ticket_id: str) -> Response:
    ticket = conversation.get_conversation(api.caller(), ticket_id)
    return json_response(200, ticket, {"ETag": etag(ticket.version)})


lambda_handler = lambda_handler_for(api)
