"""Send an alert through every configured channel, with secrets redacted: the one way out for every alert.

Channels, chosen by environment (every channel gets the same redacted text):

- always: one JSON line per alert appended to ``SNOWSEG_ALERTS_FILE`` (default
  ``$AIRFLOW_HOME/snowseg_alerts.jsonl``; a ``file://`` URL is the same). When it is an ``s3://bucket/prefix/``
  (workers on several machines), S3 objects cannot be appended to: each alert is one object
  ``<prefix><UTC time, microseconds>-<random id>.json`` holding the same JSON record, so nothing is lost to a
  concurrent writer and key order is time order. :func:`read_alerts` reads either kind back, oldest first;
- ``SNOWSEG_ALERT_SMTP_TO`` (comma-separated): also an e-mail through the SMTP provider's
  ``SmtpNotifier`` (``SNOWSEG_ALERT_SMTP_CONN_ID``, ``SNOWSEG_ALERT_SMTP_FROM``);
- ``SNOWSEG_ALERT_NOTIFIER`` (JSON ``{"class": ..., "kwargs": {...}, "message_field": ...}``): also any
  installed Airflow notifier, e.g. the Slack or Apprise provider's.

A channel that fails is logged and recorded in the JSON line (``delivered``); it never fails the task.
Messages never carry secrets: the Snowflake, AWS and SMTP connections' passwords and sensitive extras,
Airflow's own masked values, URL credentials, ``password=...`` pairs and PEM keys are replaced by ``***``
(:mod:`snowseg.redaction`). Nothing here imports Airflow until a channel needs a provider's notifier.
"""

from __future__ import annotations

import html
import json
import logging
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowseg import settings, storage
from snowseg.redaction import known_secrets, redact

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)


def alerts_file() -> Path | ObjectStoragePath:
    """``SNOWSEG_ALERTS_FILE`` (a path, ``file://`` URL, or the ``ObjectStoragePath`` of an ``s3://`` prefix), else
    ``$AIRFLOW_HOME/snowseg_alerts.jsonl`` (``~/airflow`` as Airflow's default)."""
    if path := settings.get("SNOWSEG_ALERTS_FILE"):
        return storage.base("SNOWSEG_ALERTS_FILE", path)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "snowseg_alerts.jsonl"


def alert_key(at: datetime) -> str:
    """The object name of one alert under an ``s3://`` alerts prefix: sorts by time, unique.

    >>> alert_key(datetime(2026, 12, 5, 17, 3, 4, 5, tzinfo=UTC))[:24]
    '20261205T170304.000005Z-'
    """
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{uuid.uuid4().hex[:12]}.json"


def read_alerts(limit: int | None = None) -> list[dict]:
    """The kept alerts, oldest first (the last `limit` of them): the file's lines, or the prefix's objects."""
    where = alerts_file()
    if isinstance(where, Path):
        try:
            lines = where.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = [json.loads(line) for line in lines if line.strip()]
        return records[-limit:] if limit else records
    keys = sorted(str(k) for k in where.fs.find(where.path) if str(k).endswith(".json"))
    keys = keys[-limit:] if limit else keys
    return [json.loads(where.fs.cat_file(k)) for k in keys]


def send_alert(kind: str, message: str, details: Mapping[str, Any] | None = None) -> dict:
    """Send one alert through every configured channel; return the record written to the alerts file.

    Parameters
    ----------
    kind : str
        The alert's kind, a short word (``file_refused``, ``pipe_pending``, ``landing_stale``...).
    message : str
        The alert's text; its first line is the summary (e-mail subject, Slack headline).
    details : mapping, optional
        JSON-able facts (files, rows, line, column, batch ids...). ``what_to_do``, ``dag_id``,
        ``task_id``, ``run_id`` and ``try_number`` are lifted to the record's top level.

    Returns
    -------
    dict
        The record, as appended (one JSON line) to :func:`alerts_file`; ``delivered`` says which
        channels took it.

    Examples
    --------
    >>> import os, json, tempfile
    >>> os.environ["SNOWSEG_ALERTS_FILE"] = path = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> rec = send_alert("task_failed", "x.y failed\\npassword=hunter22", {"what_to_do": "look"})
    >>> rec["kind"], rec["summary"], "hunter22" in open(path).read()
    ('task_failed', 'x.y failed', False)
    >>> del os.environ["SNOWSEG_ALERTS_FILE"]
    """
    secrets = known_secrets()
    details = dict(redact(dict(details or {}), secrets))
    message = redact(message, secrets)
    top = {k: details.pop(k) for k in ("dag_id", "task_id", "run_id", "try_number", "what_to_do") if k in details}
    record: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), "kind": kind,
        "summary": message.splitlines()[0] if message else kind, **top, "details": details, "message": message,
    }
    delivered: dict[str, str] = {}
    if to := settings.get("SNOWSEG_ALERT_SMTP_TO"):
        delivered["smtp"] = _deliver(_send_smtp, record, [a.strip() for a in to.split(",") if a.strip()])
    if spec := settings.get("SNOWSEG_ALERT_NOTIFIER"):
        delivered["notifier"] = _deliver(_send_notifier, record, spec)
    path = alerts_file()
    if not isinstance(path, Path):  # object storage: one object per alert (S3 objects cannot be appended to)
        obj = path / alert_key(datetime.now(UTC))
        record["delivered"] = {"file": storage.shown(obj), **delivered}
        obj.write_text(json.dumps(record, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
        log.warning("ALERT %s: %s", kind, record["summary"])
        return record
    record["delivered"] = {"file": str(path), **delivered}
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
    with path.open("a", encoding="utf-8") as f:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)  # one whole line per alert even with parallel tasks on this host
        except (ImportError, OSError):
            pass
        f.write(line)
    log.warning("ALERT %s: %s", kind, record["summary"])
    return record


def _deliver(send: Any, record: dict, target: Any) -> str:
    try:
        send(record, target)
        return "ok"
    except Exception as e:  # a broken channel must not hide the alert or fail the task
        log.exception("alert channel %s failed", send.__name__)
        return f"failed: {redact(str(e))[:300]}"  # e.g. an SMTP error quoting the login


def _send_smtp(record: dict, to: list[str]) -> None:
    """E-mail through the SMTP provider's notifier (installed with Airflow core)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    body = html.escape(_full_text(record, "\n\n"))
    notifier = SmtpNotifier(
        to=to, from_email=settings.get("SNOWSEG_ALERT_SMTP_FROM"),
        smtp_conn_id=settings.get("SNOWSEG_ALERT_SMTP_CONN_ID"),
        subject=f"[snowseg] {record['summary']}"[:250], html_content=f"<pre>{body}</pre>",
    )
    notifier.notify({})  # notify, not __call__: the text is final, never a Jinja template


def _send_notifier(record: dict, spec: str) -> None:
    """Any installed Airflow notifier: ``{"class": "pkg.Notifier", "kwargs": {...}, "message_field": "text"}``."""
    import importlib

    conf = json.loads(spec)
    module, _, name = conf["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    notifier = cls(**{**conf.get("kwargs", {}), conf.get("message_field", "text"): _full_text(record, "\n")})
    notifier.notify({})  # notify, not __call__: the text is final, never a Jinja template


def _full_text(record: dict, sep: str) -> str:
    """The message, with its what-to-do line unless the message already has it."""
    todo = record.get("what_to_do")
    return record["message"] + (f"{sep}What to do: {todo}" if todo and todo not in record["message"] else "")
