"""POST /v1/tickets/{ticket_id}/close (alias DELETE /v1/tickets/{ticket_id}): close for good."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import Closed
from helpdesk.observability import MetricUnit, metrics
from helpdesk.tickets import conversation

api = make_api()


@route(
    api,
    RouteSpec(
        "POST",
        "/v1/tickets/{ticket_id}/close",
        "Close a ticket",
        "closeTicket",
        response=Closed,
        errors=(401, 403, 404, 409),
    ),
    RouteSpec(
        "DELETE",
        "/v1/tickets/{ticket_id}",
        "Close a ticket (alias)",
        "deleteTicket",
        response=Closed,
        errors=(401, 403, 404, 409),
    ),
)
def close_ticket(ticket_id: str) -> Response:
    closed = conversation.close(api.caller(), ticket_id)
    metrics.add_metric(name="TicketsClosed", unit=MetricUnit.Count, value=1)
    return json_response(200, closed)


lambda_handler = lambda_handler_for(api, idempotent=True)
