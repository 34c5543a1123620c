"""GET /v1/tickets/{ticket_id}: the ticket with its whole conversation."""

from helpdesk import tickets
from helpdesk.http import Response, RouteSpec, etag, json_response, lambda_handler_for, make_api, route
from helpdesk.models import Conversation

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
    conversation = tickets.get_conversation(api.caller(), ticket_id)
    return json_response(200, conversation, {"ETag": etag(conversation.version)})


lambda_handler = lambda_handler_for(api)
