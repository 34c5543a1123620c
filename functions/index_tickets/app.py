"""The search index's keeper: the words of tickets and their non-internal messages, from the table's
stream (partial batch failures; a replayed record writes the same items)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.observability import instrumented
from helpdesk.store.stream import StreamRecord
from helpdesk.tickets.indexing import index_record

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=StreamRecord)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=index_record, processor=processor, context=context)


lambda_handler = instrumented(handle)
