"""POST /v1/tickets/{ticket_id}/attachments: small files inline (multipart), or a presigned S3 POST
for one file up to 10 MB (JSON {filename, content_type, size})."""

from typing import TYPE_CHECKING

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import UploadedAttachments, UploadRequest, UploadResult
from helpdesk.observability import MetricUnit, metrics
from helpdesk.tickets import attachments

if TYPE_CHECKING:
    from helpdesk.api.multipart import UploadedFile

api = make_api()


@route(
    api,
    RouteSpec(
        "POST",
        "/v1/tickets/{ticket_id}/attachments",
        "Attach files to a ticket (inline, or through a presigned upload)",
        "uploadAttachment",
        status=201,
        body=UploadRequest,
        response=UploadResult,
        errors=(400, 401, 403, 404, 409, 413, 415, 422),
        extra_content_types=("multipart/form-data",),
        multipart_payload=False,
    ),
)
def upload_attachment(ticket_id: str, body: UploadRequest | None, files: "tuple[UploadedFile, ...]" = ()) -> Response:
    caller = api.caller()
    if body is None:
        stored = attachments.upload(caller, ticket_id, files)
        metrics.add_metric(name="AttachmentsStored", unit=MetricUnit.Count, value=len(stored))
        result = UploadResult(UploadedAttachments(attachments=stored))
        return json_response(201, result, {"Location": f"/v1/tickets/{ticket_id}"})
    grant = attachments.request_upload(caller, ticket_id, body)
    metrics.add_metric(name="UploadsGranted", unit=MetricUnit.Count, value=1)
    location = f"/v1/tickets/{ticket_id}/attachments/{grant.attachment_id}"
    return json_response(201, UploadResult(grant), {"Location": location})


lambda_handler = lambda_handler_for(api, idempotent=True)
