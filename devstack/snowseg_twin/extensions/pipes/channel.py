"""The account's Snowpipe notification channel: the SQS queue (in moto, env AWS_ENDPOINT_URL) that bucket events
are sent to, and what the auto-ingest worker notes about it."""

from __future__ import annotations

import os
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
QUEUE_NAME = "sf-snowpipe-AIDASNOWSEGTWIN-local"
# pipe_id -> channel timestamps kept by the auto-ingest worker (not persisted)
channel_stats: dict[str, dict[str, Any]] = {}
# when the auto-ingest worker last read the queue (one entry once it has): every auto-ingest pipe pulls from it
channel_pulled_at: list[Any] = []


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


def sqs_client() -> Any:  # noqa: ANN401
    import boto3

    kwargs: dict[str, Any] = {"region_name": _region()}
    if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
        kwargs["endpoint_url"] = endpoint
    return boto3.client("sqs", **kwargs)


def notification_channel() -> str:
    """The account's Snowpipe SQS queue ARN, creating the queue in moto when AWS_ENDPOINT_URL is set."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return f"arn:aws:sqs:{_region()}:{ACCOUNT_ID}:{QUEUE_NAME}"
    sqs = sqs_client()
    url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def outstanding_messages() -> int:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return 0
    try:
        sqs = sqs_client()
        url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    except Exception:  # no queue yet
        return 0
