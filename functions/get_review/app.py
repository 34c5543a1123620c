"""GET /v1/tickets/reviews/{review_id}: the review, `pending` until the reviewer has run."""

from helpdesk.api.http import Response, RouteSpec, json_response, lambda_handler_for, make_api, route
from helpdesk.domain.reviews import Review
from helpdesk.review import drafts

api = make_api()


@route(
    api,
    RouteSpec(
        "GET", "/v1/tickets/reviews/{review_id}", "Read a review", "getReview",
        response=Review, errors=(401, 403, 404),
    ),
)  # fmt: skip
def get_review(review_id: str) -> Response:
    return json_response(200, drafts.get_review(api.caller(), review_id))


lambda_handler = lambda_handler_for(api)
