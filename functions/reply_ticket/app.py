"""POST /v1/tickets/{ticket_id}/messages (alias .../comments): reply, or a support internal note."""

from helpdesk import tickets
from helpdesk.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.models import Message
from helpdesk.observability import MetricUnit, metrics
from helpdesk.schemas import Reply

api = make_api()
ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


@route(
    api,
    RouteSpec(
        "POST",
        "/v1/tickets/{ticket_id}/messages",
        "Reply to a ticket",
        "replyTicket",
        status=201,
        body=Reply,
        response=Message,
        errors=ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/tickets/{ticket_id}/comments",
        "Reply to a ticket (alias)",
        "commentTicket",
        status=201,
        body=Reply,
        response=Message,
        errors=ERRORS,
    ),
)
def reply_ticket(ticket_id: str, body: Reply) -> Response:
    message = tickets.reply(api.caller(), ticket_id, body)
    metrics.add_metric(name="Replies", unit=MetricUnit.Count, value=1)
    return json_response(201, message, {"Location": f"/v1/tickets/{ticket_id}"})


lambda_handler = lambda_handler_for(api, idempotent=True)
