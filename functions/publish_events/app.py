"""Domain events from the table's stream to the Helpdesk event bus (EventBridge), partial batch failures."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters import bus
from helpdesk.notify.events import events_for
from helpdesk.notify.rules import BatchDirectory
from helpdesk.observability import MetricUnit, instrumented, metrics
from helpdesk.settings import settings
from helpdesk.store.stream import StreamRecord

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=StreamRecord)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    directory = BatchDirectory()  # tickets: read once per batch

    def record_handler(record: StreamRecord) -> None:
        events = events_for(record, directory)
        bus.publish([e.entry(settings().event_bus_name) for e in events])
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(events))

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


lambda_handler = instrumented(handle)
