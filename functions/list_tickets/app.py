"""GET /v1/tickets: the caller's org's tickets (every org's for support), newest first."""

from aws_lambda_powertools.event_handler import Response

from helpdesk import tickets
from helpdesk.http import RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.schemas import TicketPage

api = make_api()


@route(
    api,
    RouteSpec(
        "GET", "/v1/tickets", "List tickets", "listTickets",
        response=TicketPage, query=tickets.ListParams, errors=(400, 401, 403, 404, 422),
    ),
)
def list_tickets() -> Response:
    params = tickets.ListParams.model_validate(api.resolver.current_event.query_string_parameters or {})
    return json_response(200, tickets.list_tickets(api.caller(), params))


lambda_handler = lambda_handler_for(api)
