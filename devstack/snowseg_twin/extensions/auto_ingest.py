"""Snowpipe auto-ingest: a thread that reads S3 event notifications from the pipes' SQS queue.

Emulates Snowflake's auto-ingest on AWS: the user points the bucket's event notifications (boto3
``put_bucket_notification_configuration`` with a QueueConfiguration) at the pipe's
notification_channel, as shown by SHOW PIPES; Snowflake reads the queue and loads each new object
with the COPY of every auto-ingest pipe whose stage location holds it. The worker:
- polls the account's Snowpipe queue (pipes.QUEUE_NAME) in moto (env AWS_ENDPOINT_URL);
- drops S3's ``s3:TestEvent`` (sent when the notification is configured);
- for every ``ObjectCreated:*`` record, URL-decodes the key (``sales%2Fa.csv`` -> ``sales/a.csv``),
  and queues the object on each auto-ingest pipe whose FROM location holds it and whose PATTERN (if
  any) matches its path relative to the stage; SNS-wrapped messages are unwrapped;
- deletes the message and starts the pipes' loads (pipes.kick). A paused pipe keeps its files
  pending and loads them when resumed. Messages about objects no pipe covers are dropped.

Started by the twin server when AWS_ENDPOINT_URL is set (``--s3-endpoint`` sets it).

An idle poll costs next to nothing (it runs beside every COPY the twin serves, on the same cores): one SQS
client and the queue's URL are kept (made again after an error), a receive waits up to `wait_seconds` for a
message (SQS long polling: a message is read as soon as it arrives, and an empty queue is asked once per wait,
not per `interval`), and the pipes' catalogs are read only when messages came.

Fault for tests (dev only): "lost events". S3 event delivery is not guaranteed, so Snowflake recommends an
occasional ``ALTER PIPE ... REFRESH``; to test that recovery, a test makes the worker lose the events of chosen
objects. ``PUT /twin/faults/lost-events`` with a JSON body ``{"patterns": ["*/b.csv"]}`` (``fnmatch`` patterns on
``<bucket>/<key>``) makes the worker consume and discard every ObjectCreated record whose object matches, as if the
notification never arrived; ``GET`` answers the patterns and the objects whose events were lost so far, ``DELETE``
clears both. Nothing is lost while no pattern is set.

Differs from Snowflake: a poll every `interval` seconds (default 0.5 s) of up to `wait_seconds` (default 2 s) rather than Snowflake's
internal schedule; ObjectRemoved events are ignored; messages are deleted even for paused pipes (the
files are kept pending in the twin instead of on the queue).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from snowseg_twin.extensions import pipes

logger = logging.getLogger("snowseg_twin.auto_ingest")


def _records(body: str) -> list[dict[str, Any]] | None:
    """The S3 event records of a queue message; None for a test event or anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
        return _records(message["Message"])  # S3 -> SNS -> SQS
    if not isinstance(message, dict) or message.get("Event") == "s3:TestEvent":
        return None
    return [r for r in message.get("Records", []) if str(r.get("eventName", "")).startswith("ObjectCreated")]


def _queue_url(sqs: Any, recheck_pipes: bool = True) -> str | None:  # noqa: ANN401
    """The Snowpipe queue's URL; re-created if auto-ingest pipes exist but moto lost it (moto restarted),
    as Snowflake's queue outlives any one connection (the pipes are only looked for when `recheck_pipes`)."""
    try:
        return sqs.get_queue_url(QueueName=pipes.QUEUE_NAME)["QueueUrl"]
    except Exception:  # no auto-ingest pipe created yet, or moto was restarted
        if not recheck_pipes or not any(p.auto_ingest for p in pipes.all_pipes()):
            return None
        pipes.notification_channel()
        return sqs.get_queue_url(QueueName=pipes.QUEUE_NAME)["QueueUrl"]


#: Without a queue, how often (seconds) the worker reads the pipes' catalogs for an auto-ingest pipe whose
#: queue moto lost (creating an auto-ingest pipe creates the queue, so the next poll finds it anyway)
RECHECK_PIPES_SECONDS = 10.0


class _Channel:
    """The SQS client and queue URL a worker keeps between polls."""

    def __init__(self) -> None:
        self.sqs: Any = None
        self.url: str | None = None
        self.pipes_checked = 0.0  # time.monotonic() of the last look for auto-ingest pipes without a queue

    def reset(self) -> None:
        self.sqs, self.url = None, None


def poll_once(wait_seconds: int = 0, channel: _Channel | None = None) -> int:
    """Read one batch of messages and queue their objects on the pipes; returns the messages read."""
    channel = channel or _Channel()
    if channel.sqs is None:
        channel.sqs = pipes.sqs_client()
    sqs = channel.sqs
    if channel.url is None:
        recheck = time.monotonic() - channel.pipes_checked >= RECHECK_PIPES_SECONDS
        if recheck:
            channel.pipes_checked = time.monotonic()
        channel.url = _queue_url(sqs, recheck)
    url = channel.url
    if url is None:
        return 0
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds).get(
        "Messages", []
    )
    now = datetime.datetime.now(datetime.UTC)
    pipes.channel_pulled_at[:] = [now]
    if not messages:
        return 0
    auto = [p for p in pipes.all_pipes() if p.auto_ingest]
    locations = {}
    for p in auto:
        try:
            locations[p.pipe_id] = pipes.location(p)
        except Exception:  # stage dropped or not S3: the pipe can't load anything
            logger.warning("pipe %s: no readable stage location", p.fqname)
    touched: set[str] = set()
    for message in messages:
        for record in _records(message["Body"]) or []:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
            size = record["s3"]["object"].get("size")
            file_url = f"s3://{bucket}/{key}"
            if _lost(f"{bucket}/{key}"):
                continue
            for p in auto:
                loc = locations.get(p.pipe_id)
                rel = loc.relative(file_url) if loc is not None else None
                if rel is None or not pipes.accepts(p, loc, file_url, rel):
                    continue
                stats = pipes.channel_stats.setdefault(p.pipe_id, {})
                stats["lastReceivedMessageTimestamp"] = now
                if pipes.enqueue(p, [(rel, size)], loc=loc):
                    stats["lastForwardedMessageTimestamp"] = now
                    stats["lastForwardedFilePath"] = f"{bucket}/{key}"
                    touched.add(p.pipe_id)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    for pipe_id in touched:
        pipes.kick(pipe_id)
    return len(messages)


_faults_lock = threading.Lock()
_lost_patterns: list[str] = []
_lost_objects: list[str] = []


def _lost(obj: str) -> bool:
    """Whether the lost-events fault swallows this object's event (recorded in the fault's log)."""
    with _faults_lock:
        if not any(fnmatch.fnmatchcase(obj, p) for p in _lost_patterns):
            return False
        _lost_objects.append(obj)
    logger.warning("lost-events fault: the ObjectCreated event of %s is discarded", obj)
    return True


def set_lost_patterns(patterns: list[str]) -> None:
    """Lose the events of objects matching any of `patterns` (``<bucket>/<key>`` globs); [] loses none."""
    with _faults_lock:
        _lost_patterns[:] = [str(p) for p in patterns]
        if not patterns:
            _lost_objects.clear()


async def lost_events(request: Request) -> JSONResponse:
    """The lost-events fault: PUT {"patterns": [...]} sets it, DELETE clears it, GET tells it."""
    if request.method == "PUT":
        body = await request.json()
        patterns = body.get("patterns") if isinstance(body, dict) else None
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            return JSONResponse({"error": 'give {"patterns": ["<bucket>/<key glob>", ...]}'}, status_code=400)
        set_lost_patterns(patterns)
    elif request.method == "DELETE":
        set_lost_patterns([])
    with _faults_lock:
        return JSONResponse({"patterns": list(_lost_patterns), "lost": list(_lost_objects)})


routes = [Route("/twin/faults/lost-events", lost_events, methods=["GET", "PUT", "DELETE"])]


class Worker(threading.Thread):
    """Polls the Snowpipe queue until stopped."""

    def __init__(self, interval: float = 0.5, wait_seconds: int = 2) -> None:
        super().__init__(name="snowseg-auto-ingest", daemon=True)
        self.interval, self.wait_seconds = interval, wait_seconds
        self._stop_event = threading.Event()
        self._channel = _Channel()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                while poll_once(self.wait_seconds, self._channel) and not self._stop_event.is_set():
                    pass
            except Exception:
                logger.exception("auto-ingest poll failed")
                self._channel.reset()  # moto restarted, queue gone: a new client and URL next time
            self._stop_event.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        self._stop_event.set()
        self.join(timeout)


def start(interval: float = 0.5, wait_seconds: int = 2) -> Worker | None:
    """Start the worker if AWS_ENDPOINT_URL points at an S3/SQS endpoint (moto); None otherwise."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return None
    worker = Worker(interval, wait_seconds)
    worker.start()
    logger.info("auto-ingest worker polling %s on %s", pipes.QUEUE_NAME, os.environ["AWS_ENDPOINT_URL"])
    return worker


__all__ = ["Worker", "lost_events", "poll_once", "routes", "set_lost_patterns", "start"]
