"""GET /v1/me: who the caller is, and their notification preference."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.domain.models import Member
from helpdesk.tickets import members

api = make_api()


@route(api, RouteSpec("GET", "/v1/me", "The caller", "getMe", response=Member, errors=(401, 403)))
def get_me() -> Response:
    return json_response(200, members.me(api.caller()))


lambda_handler = lambda_handler_for(api)
