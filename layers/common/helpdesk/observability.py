"""Logger, Tracer and Metrics: created once, imported everywhere."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics(namespace="Helpdesk")

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
