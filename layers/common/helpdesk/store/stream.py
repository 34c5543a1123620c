"""The table's stream records, typed: what every stream consumer (mail, events, the search index)
reads. Powertools deserialises the images from DynamoDB JSON into plain values."""

from typing import Any

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamChangedRecordModel, DynamoDBStreamRecordModel


class Change(DynamoDBStreamChangedRecordModel):
    """The images, as plain values."""

    NewImage: dict[str, Any] | None = None
    OldImage: dict[str, Any] | None = None


class StreamRecord(DynamoDBStreamRecordModel):
    dynamodb: Change
