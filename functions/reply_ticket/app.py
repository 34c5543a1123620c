"""POST /v1/tickets/{ticket_id}/messages (alias .../comments): reply, or a support internal note;
JSON, or multipart with up to 3 files."""

from typing import TYPE_CHECKING

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import Reply
from helpdesk.domain.models import Message
from helpdesk.observability import MetricUnit, metrics
from helpdesk.tickets import conversation

if TYPE_CHECKING:
    from helpdesk.api.multipart import UploadedFile

api = make_api()
ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
MULTIPART = ("multipart/form-data",)


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
        extra_content_types=MULTIPART,
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
        extra_content_types=MULTIPART,
    ),
)
def reply_ticket(ticket_id: str, body: Reply, files: "tuple[UploadedFile, ...]" = ()) -> Response:
    message = conversation.reply(api.caller(), ticket_id, body, files)
    metrics.add_metric(name="Replies", unit=MetricUnit.Count, value=1)
    return json_response(201, message, {"Location": f"/v1/tickets/{ticket_id}"})


lambda_handler = lambda_handler_for(api, idempotent=True)
