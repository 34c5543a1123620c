"""POST /v1/tickets/review: queue an AI review of a draft; 202 + review_id."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.api.schemas import ReviewRequest
from helpdesk.domain.reviews import Review
from helpdesk.review import drafts

api = make_api()


@route(
    api,
    RouteSpec(
        "POST", "/v1/tickets/review", "Review a draft before filing it", "requestReview",
        status=202, body=ReviewRequest, response=Review, errors=(400, 401, 403, 413, 415, 422),
    ),
)  # fmt: skip
def request_review(body: ReviewRequest) -> Response:
    review = drafts.request_review(api.caller(), body)
    return json_response(202, review, {"Location": f"/v1/tickets/reviews/{review.review_id}"})


lambda_handler = lambda_handler_for(api, idempotent=True)
