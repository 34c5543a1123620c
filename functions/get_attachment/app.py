"""GET /v1/tickets/{ticket_id}/attachments/{attachment_id}: 302 to a short-lived presigned download."""

from helpdesk.api.http import Response, RouteSpec, lambda_handler_for, make_api, route
from helpdesk.tickets import attachments

api = make_api()


@route(
    api,
    RouteSpec(
        "GET",
        "/v1/tickets/{ticket_id}/attachments/{attachment_id}",
        "Download an attachment (302 to a presigned URL; 409 until it has been checked, or when rejected)",
        "getAttachment",
        status=302,
        errors=(401, 403, 404, 409),
    ),
)
def get_attachment(ticket_id: str, attachment_id: str) -> Response:
    url = attachments.download_url(api.caller(), ticket_id, attachment_id)
    headers = {"Location": url, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(302, headers=headers)


lambda_handler = lambda_handler_for(api)
