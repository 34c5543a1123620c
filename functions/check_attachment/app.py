"""The attachments bucket's object-created events (tickets/ prefix): judge each presigned upload by its
bytes and mark it available or rejected. Invoked asynchronously: an error is retried, then parked."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from helpdesk.observability import MetricUnit, instrumented, metrics
from helpdesk.tickets import attachments


class S3Object(BaseModel):
    key: str


class S3Bucket(BaseModel):
    name: str


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(BaseModel):
    """One record of an S3 event notification (the fields the check reads)."""

    s3: S3Entity

    @property
    def key(self) -> str:
        return unquote_plus(self.s3.object.key)  # S3 sends keys URL-encoded, spaces as '+'


class S3Notification(BaseModel):
    Records: list[S3EventRecord] = Field(default_factory=list)  # S3's own field name


def handle(event: dict[str, Any], context: LambdaContext) -> None:
    for record in S3Notification.model_validate(event).Records:
        status = attachments.check_upload(record.s3.bucket.name, record.key)
        if status is not None:
            metrics.add_metric(name=f"Uploads{status.value.title()}", unit=MetricUnit.Count, value=1)


lambda_handler = instrumented(handle)
