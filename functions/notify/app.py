"""The notifier: mail from the table's stream (SES v2), each mail once, partial batch failures."""

import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.notify import delivery
from helpdesk.notify.rules import BatchDirectory, mails_for
from helpdesk.observability import instrumented
from helpdesk.store.stream import StreamRecord

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=StreamRecord)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    directory = BatchDirectory()  # tickets and members: read once per batch
    ends_at = time.time() + context.get_remaining_time_in_millis() / 1000

    def record_handler(record: StreamRecord) -> None:
        delivery.deliver(mails_for(record, directory), lease_until=ends_at)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


lambda_handler = instrumented(handle)
