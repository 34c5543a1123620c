"""The deadlines sweep, on a schedule: response targets that passed, resolved tickets that auto-close."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.observability import MetricUnit, instrumented, logger, metrics
from helpdesk.tickets import deadlines


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    swept = deadlines.sweep()
    metrics.add_metric(name="ResponseTargetsBreached", unit=MetricUnit.Count, value=swept.breached)
    metrics.add_metric(name="TicketsAutoClosed", unit=MetricUnit.Count, value=swept.closed)
    logger.info("deadlines swept", extra={"breached": swept.breached, "closed": swept.closed})
    return {"breached": swept.breached, "closed": swept.closed}


lambda_handler = instrumented(handle)
