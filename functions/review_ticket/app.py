"""The review queue's worker: review tickets and drafts, index filed reviews (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from helpdesk.domain.reviews import ReviewJob
from helpdesk.observability import instrumented
from helpdesk.review import worker


class ReviewJobRecord(SqsRecordModel):
    body: Json[ReviewJob]


processor = BatchProcessor(event_type=EventType.SQS, model=ReviewJobRecord)


def review(record: ReviewJobRecord) -> None:
    worker.run(record.body)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=review, processor=processor, context=context)


lambda_handler = instrumented(handle)
