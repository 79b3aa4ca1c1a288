"""Send an alert through every configured channel, with secrets redacted: the one way out for every alert.

Channels, chosen by environment (every channel gets the same redacted text):

- always: one JSON line per alert appended to ``SNOWSEG_ALERTS_FILE`` (default
  ``$AIRFLOW_HOME/snowseg_alerts.jsonl``);
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
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg import settings
from snowseg.redaction import known_secrets, redact

log = logging.getLogger(__name__)


def alerts_file() -> Path:
    """``SNOWSEG_ALERTS_FILE``, else ``$AIRFLOW_HOME/snowseg_alerts.jsonl`` (``~/airflow`` as Airflow's default)."""
    if path := settings.get("SNOWSEG_ALERTS_FILE"):
        return Path(path)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "snowseg_alerts.jsonl"


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
