"""Amazon SQS: the review queue (jobs for the reviewer)."""

import boto3

from helpdesk.domain.reviews import ReviewJob
from helpdesk.settings import settings

client = boto3.client("sqs")


def enqueue(job: ReviewJob) -> None:
    client.send_message(QueueUrl=settings().review_queue_url, MessageBody=job.model_dump_json())
