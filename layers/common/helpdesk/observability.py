"""Logger, Tracer and Metrics: created once, imported everywhere.

Lambda's active tracing (template: Tracing: Active) always records each invocation. The X-Ray
SDK behind Powertools' Tracer adds a subsegment per AWS call but its import is a large share of
every cold start (`make bench`), so it is created only when the template's DetailedTracing parameter is on
(POWERTOOLS_TRACE_DISABLED=false)."""

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics(namespace="Helpdesk")
# Reads record no business metric; Powertools would warn about that on every invocation.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
tracer: Tracer | None = (
    Tracer(patch_modules=["botocore"]) if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() != "true" else None
)

Handler = Callable[[Any, Any], Any]


def instrumented(handler: Handler, correlation_id_path: str | None = None) -> Handler:
    """A Lambda entry point with structured logs (correlation id), traces and metrics flushed."""
    wrapped = metrics.log_metrics(handler)
    if tracer is not None:
        wrapped = tracer.capture_lambda_handler(wrapped)
    return logger.inject_lambda_context(wrapped, correlation_id_path=correlation_id_path)


__all__ = ["MetricUnit", "instrumented", "logger", "metrics", "tracer"]
