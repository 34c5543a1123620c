"""Data access: the review queue (SQS)."""

import boto3

from helpdesk.models import ReviewJob
from helpdesk.settings import settings

client = boto3.client("sqs")


def enqueue(job: ReviewJob) -> None:
    client.send_message(QueueUrl=settings().review_queue_url, MessageBody=job.model_dump_json())
