"""PATCH /v1/me: turn email notifications on or off."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import MemberUpdate
from helpdesk.domain.models import Member
from helpdesk.tickets import members

api = make_api()


@route(
    api,
    RouteSpec(
        "PATCH",
        "/v1/me",
        "Set the caller's email notifications",
        "updateMe",
        body=MemberUpdate,
        response=Member,
        errors=(400, 401, 403, 415, 422),
    ),
)
def update_me(body: MemberUpdate) -> Response:
    return json_response(200, members.update_me(api.caller(), body))


lambda_handler = lambda_handler_for(api, idempotent=True)
