"""POST /v1/tickets/review: queue an AI review of a draft; 202 + review_id."""

from helpdesk import reviews
from helpdesk.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.models import Review
from helpdesk.schemas import ReviewRequest

api = make_api()


@route(
    api,
    RouteSpec(
        "POST", "/v1/tickets/review", "Review a draft before filing it", "requestReview",
        status=202, body=ReviewRequest, response=Review, errors=(400, 401, 403, 413, 415, 422),
    ),
)  # fmt: skip
def request_review(body: ReviewRequest) -> Response:
    review = reviews.request_review(api.caller(), body)
    return json_response(202, review, {"Location": f"/v1/tickets/reviews/{review.review_id}"})


lambda_handler = lambda_handler_for(api, idempotent=True)
