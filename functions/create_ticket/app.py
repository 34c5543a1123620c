"""POST /v1/tickets: file a ticket (JSON, or multipart with up to 3 files); its AI review is queued."""

from typing import TYPE_CHECKING

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import TicketDraft
from helpdesk.domain.models import Ticket
from helpdesk.observability import MetricUnit, metrics
from helpdesk.tickets import filing

if TYPE_CHECKING:
    from helpdesk.api.multipart import UploadedFile

api = make_api()


@route(
    api,
    RouteSpec(
        "POST",
        "/v1/tickets",
        "File a ticket",
        "createTicket",
        status=201,
        body=TicketDraft,
        response=Ticket,
        errors=(400, 401, 403, 404, 409, 413, 415, 422),
        extra_content_types=("multipart/form-data",),
    ),
)
def create_ticket(body: TicketDraft, files: "tuple[UploadedFile, ...]" = ()) -> Response:
    ticket = filing.file_ticket(api.caller(), body, files)
    metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=1)
    return json_response(201, ticket, {"Location": f"/v1/tickets/{ticket.id}"})


lambda_handler = lambda_handler_for(api, idempotent=True)
