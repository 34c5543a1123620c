"""GET /v1/tickets: the caller's org's tickets (every org's for support), newest first."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import ListParams, TicketPage
from helpdesk.tickets import listing

api = make_api()


@route(
    api,
    RouteSpec(
        "GET",
        "/v1/tickets",
        "List tickets",
        "listTickets",
        response=TicketPage,
        query=ListParams,
        errors=(400, 401, 403, 404, 422),
    ),
)
def list_tickets(query: ListParams) -> Response:
    return json_response(200, listing.list_tickets(api.caller(), query))


lambda_handler = lambda_handler_for(api)
