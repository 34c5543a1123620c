"""GET /v1/me: who the caller is, and their notification preference."""

from helpdesk import tickets
from helpdesk.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.models import Member

api = make_api()


@route(api, RouteSpec("GET", "/v1/me", "The caller", "getMe", response=Member, errors=(401, 403)))
def get_me() -> Response:
    return json_response(200, tickets.me(api.caller()))


lambda_handler = lambda_handler_for(api)
