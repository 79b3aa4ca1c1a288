"""Loads past their deadline, found by the ``watch_loads`` DAG, each alerted once per window.

- :func:`check_landing`: files in the S3 landing area older than N minutes that no LOAD_AUDIT row accounts
  for, each with what the pipe's load history says about it and what to do (:func:`stale_landing_files`);
- (before these, ``watch_loads`` reconciles: :mod:`snowseg.loading.reconcile` queues the files whose S3 event was lost
  again, and :func:`check_landing` leaves those to the reconciliation's ``landing_refreshed`` finding);
- :func:`check_pipe`: a pipe in a state where it loads nothing (:func:`pipe_state_finding`), else one whose
  oldest pending file waits longer than N minutes (:func:`pipe_pending_finding`);
- :func:`alert_new` sends each :class:`Finding` once per ``SNOWSEG_ALERT_REPEAT_HOURS`` (default 24), through
  :func:`snowseg.alerting.delivery.send_alert`, remembering the alerted keys in a state object (``load()`` /
  ``save()``: in Airflow, :class:`snowseg.airflow.alert_state.VariableState`).

What to do about a pipe is :mod:`snowseg.loading.pipe_states`' (the one owner of that advice); the landing hints
here add what the load history says about the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from snowseg import settings, sf_errors
from snowseg.alerting.delivery import send_alert
from snowseg.loading import pipe_states
from snowseg.objects import dataset_objects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One deadline breach: what it is about (``key``, for alerting once) and its alert."""

    kind: str
    key: str
    message: str
    details: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "key": self.key, "message": self.message, "details": self.details}


def landing_objects(s3_hook: Any, landing: Any) -> list[dict]:
    """The objects under the landing prefix: key, size, ETag and LastModified (S3Hook, paginated)."""
    return [o for o in s3_hook.get_file_metadata(prefix=landing.prefix, bucket_name=landing.bucket)
            if not o["Key"].endswith("/")]


def audited_landing_paths(cur: Any, names: Any) -> set[str]:
    """Paths under the landing stage (``<batch id>/<file name>``) that LOAD_AUDIT has a row for, any status."""
    from snowseg import warehouse as wh
    from snowseg.loading.snowpipe import LOAD_PATH

    try:
        rows = wh.run(cur, "alerts/select_audited_landing_files.sql", {"load_path": LOAD_PATH},
                      database=names.database, schema=names.audit)
    except Exception as e:
        if sf_errors.errno_of(e) == sf_errors.DOES_NOT_EXIST:  # no LOAD_AUDIT yet: nothing was accounted for
            return set()
        raise
    return {f"{batch_id}/{file_name}" for batch_id, file_name in rows}


def stale_landing_files(objects: list[dict], landing: Any, audited: set[str], *, minutes: float, now: datetime,
                        pipe: str, loads: Mapping[str, Mapping] | None = None,
                        pipe_state: Mapping[str, Any] | None = None) -> list[Finding]:
    """Landing files older than `minutes` without a LOAD_AUDIT row, each with what the pipe knows of it.

    `loads` is the pipe's load history by path under the landing stage (``pipe_loads`` as dicts),
    `pipe_state` its ``SYSTEM$PIPE_STATUS`` (None: the pipe does not exist). They choose the advice.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> lz = NS(url="s3://b/sales/", bucket="b", prefix="sales/")
    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> objs = [{"Key": "sales/snowpipe_ab/a.csv", "Size": 10, "ETag": '"e1"', "LastModified": t},
    ...         {"Key": "sales/snowpipe_cd/b.csv", "Size": 20, "ETag": '"e2"', "LastModified": t}]
    >>> [f.details["file"] for f in stale_landing_files(objs, lz, {"snowpipe_cd/b.csv"}, minutes=30,
    ...                                                   now=t + timedelta(minutes=45), pipe="DB.RAW.P")]
    ['a.csv']
    >>> stale_landing_files(objs, lz, set(), minutes=60, now=t + timedelta(minutes=45), pipe="DB.RAW.P")
    []
    """
    findings = []
    for o in sorted(objects, key=lambda o: o["Key"]):
        rel = o["Key"][len(landing.prefix):] if o["Key"].startswith(landing.prefix) else o["Key"]
        age = now - _aware(o["LastModified"])
        if rel in audited or age < timedelta(minutes=minutes):
            continue
        url = f"s3://{landing.bucket}/{o['Key']}"
        name = rel.rsplit("/", 1)[-1]
        folder = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        load = (loads or {}).get(rel)
        details = {"file": name, "url": url, "staged_path": rel, "age_minutes": round(age.total_seconds() / 60, 1),
                   "bytes": o.get("Size"), "last_modified": _aware(o["LastModified"]).isoformat(), "pipe": pipe,
                   "pipe_status": load.get("status") if load else None,
                   "rows_loaded_by_pipe": load.get("rows_loaded") if load else None,
                   "first_error": load.get("first_error") if load else None,
                   "first_error_line": load.get("first_error_line") if load else None}
        details["what_to_do"] = _landing_hint(details, folder, pipe_state)
        seen = details["pipe_status"] or ("no load of it" if pipe_state is not None else "does not exist")
        if pipe_state is not None:
            seen += f" (pipe {pipe_state.get('executionState', '?')})"
        message = (f"{name} has waited {details['age_minutes']:g} min in the landing area with no LOAD_AUDIT row "
                   f"({url}, {o.get('Size') or 0:,} bytes, last modified {details['last_modified']})\n"
                   f"pipe {pipe}: {seen}\nwhat to do: {details['what_to_do']}")
        findings.append(Finding("landing_stale", f"landing_stale:{url}:{str(o.get('ETag', '')).strip(chr(34))}",
                                message, details))
    return findings


def _landing_hint(d: Mapping[str, Any], folder: str, pipe_state: Mapping[str, Any] | None) -> str:
    pipe, status = d["pipe"], d.get("pipe_status")
    if pipe_state is None:
        return (f"There is no pipe {pipe}: load the file with load_s3_snowpipe (it creates the stage and the pipe), "
                "or remove it from the landing area if it does not belong there.")
    if status == "LOADED":
        return (f"The pipe loaded it ({d.get('rows_loaded_by_pipe')} rows) but no load_s3_snowpipe run accounted "
                "for it: re-run load_s3_snowpipe with the same file (nothing is loaded twice) so that LOAD_AUDIT, "
                "the quality gate and segment_customers see it.")
    if status in ("LOAD_FAILED", "PARTIALLY_LOADED"):
        return (f"The pipe skipped it ({d.get('first_error')} at line {d.get('first_error_line')}): re-run "
                "load_s3_snowpipe with the file; it loads the good rows with ON_ERROR = CONTINUE and keeps the "
                "rejected ones, or fix the file at that line and send it again.")
    state = pipe_states.execution_state(pipe_state)
    if state == pipe_states.PAUSED or not pipe_states.waitable(pipe_state):
        return "The pipe has not loaded it. " + pipe_states.advice(pipe, state)
    return (f"The pipe has no finished load of it: if it is pending, see SYSTEM$PIPE_STATUS('{pipe}'); if the "
            f"pipe never heard of it, {pipe_states.queue_advice(pipe, folder)}. If it was dropped here by hand, load "
            "it with load_s3_snowpipe instead, or remove it.")


def pipe_pending_finding(pipe: str, status: Mapping[str, Any], *, minutes: float, now: datetime) -> Finding | None:
    """A finding when the pipe's oldest pending file has waited `minutes` or more (SYSTEM$PIPE_STATUS).

    The age is ``oldestFileTimestamp``'s; without it, the time since ``lastIngestedTimestamp`` (a pipe
    that has pending files and ingested nothing for that long is stuck too).

    Examples
    --------
    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> st = {"executionState": "PAUSED", "pendingFileCount": 2, "oldestFileTimestamp": "2026-01-01T11:40:00.000Z",
    ...       "oldestPendingFilePath": "snowpipe_ab/a.csv"}
    >>> f = pipe_pending_finding("DB.RAW.P", st, minutes=15, now=t)
    >>> f.key, f.details["pending_files"], f.details["age_minutes"]
    ('pipe_pending:DB.RAW.P:snowpipe_ab/a.csv', 2, 20.0)
    >>> pipe_pending_finding("DB.RAW.P", st, minutes=30, now=t) is None
    True
    """
    pending = int(status.get("pendingFileCount") or 0)
    if pending == 0:
        return None
    since = status.get("oldestFileTimestamp") or status.get("lastIngestedTimestamp")
    if not since:
        return None  # nothing to date the wait by; the next look may have it
    oldest = pipe_states.parse_timestamp(since)
    age = now - oldest
    if age < timedelta(minutes=minutes):
        return None
    state = str(status.get("executionState", "?"))
    oldest_path = status.get("oldestPendingFilePath") or status.get("lastForwardedFilePath") or oldest.isoformat()
    details = {"pipe": pipe, "pending_files": pending, "age_minutes": round(age.total_seconds() / 60, 1),
               "oldest_file": status.get("oldestPendingFilePath"), "oldest_since": oldest.isoformat(),
               "execution_state": state, "pipe_status": dict(status),
               "what_to_do": pipe_states.pending_advice(pipe, state)}
    message = (f"pipe {pipe} ({state}) has {pending} file(s) pending, the oldest for {details['age_minutes']:g} min"
               + (f" ({details['oldest_file']})" if details["oldest_file"] else "")
               + f"\nwhat to do: {details['what_to_do']}")
    return Finding("pipe_pending", f"pipe_pending:{pipe}:{oldest_path}", message, details)


def pipe_state_finding(pipe: str, status: Mapping[str, Any]) -> Finding | None:
    """A finding when the pipe is in a state where it loads nothing (STOPPED_*, STALLED_*, READ_ONLY...), pending
    files or not: every file that lands from now on waits for someone to fix the pipe.

    Examples
    --------
    >>> f = pipe_state_finding("DB.RAW.P", {"executionState": "STOPPED_FILE_FORMAT_DROPPED", "pendingFileCount": 0})
    >>> f.key
    'pipe_stopped:DB.RAW.P:STOPPED_FILE_FORMAT_DROPPED'
    >>> f.details["what_to_do"].split(" (")[0]
    'The pipe stopped because the named file format its COPY uses was dropped or replaced'
    >>> pipe_state_finding("DB.RAW.P", {"executionState": "PAUSED", "pendingFileCount": 3}) is None
    True
    """
    if pipe_states.waitable(status):
        return None
    error = pipe_states.PipeNotRunning.from_status(pipe, status)
    details = {"pipe": pipe, "execution_state": error.state, "pipe_error": error.error,
               "pending_files": error.pending_files, "pipe_status": dict(status), "what_to_do": error.command}
    message = (f"pipe {pipe} is {error.state}: it loads nothing ({error.pending_files} file(s) pending)"
               + (f"\nSnowflake says: {error.error}" if error.error else "") + f"\nwhat to do: {error.command}")
    return Finding("pipe_stopped", f"pipe_stopped:{pipe}:{error.state}", message, details)


def check_landing(conn: Any, s3_hook: Any, landing: Any, names: Any, contract: Any, *, minutes: float,
                  now: datetime | None = None, skip: Iterable[str] = ()) -> list[Finding]:
    """:func:`stale_landing_files` on the landing area, LOAD_AUDIT and the pipe's load history; `skip` names the
    ``s3://`` URLs another finding already covers (the reconciliation's, :mod:`snowseg.loading.reconcile`)."""
    from snowseg.loading import snowpipe

    now = now or datetime.now(UTC)
    skipped = set(skip)
    objects = [o for o in landing_objects(s3_hook, landing) if f"s3://{landing.bucket}/{o['Key']}" not in skipped]
    pipe = snowpipe.Pipe(names.database, names.raw, dataset_objects(contract).pipe, None)
    with conn.cursor() as cur:
        audited = audited_landing_paths(cur, names)
        candidates = [o["Key"][len(landing.prefix):] for o in objects
                      if o["Key"][len(landing.prefix):] not in audited
                      and now - _aware(o["LastModified"]) >= timedelta(minutes=minutes)]
        loads, state = {}, None
        if candidates and (state := _pipe_status(cur, pipe)) is not None:
            loads = {k: asdict(v) for k, v in snowpipe.pipe_loads(cur, names, contract, pipe, candidates).items()}
    return stale_landing_files(objects, landing, audited, minutes=minutes, now=now, pipe=pipe.qualified,
                               loads=loads, pipe_state=state)


def check_pipe(conn: Any, names: Any, contract: Any, *, minutes: float, now: datetime | None = None) -> list[Finding]:
    """:func:`pipe_state_finding`, else :func:`pipe_pending_finding`, on the contract's pipe (none if the pipe does not
    exist yet)."""
    from snowseg.loading import snowpipe

    pipe = snowpipe.Pipe(names.database, names.raw, dataset_objects(contract).pipe, None)
    with conn.cursor() as cur:
        status = _pipe_status(cur, pipe)
    if status is None:
        log.info("pipe %s does not exist: nothing to watch", pipe.qualified)
        return []
    log.info("SYSTEM$PIPE_STATUS(%s) = %s", pipe.qualified, status)
    finding = (pipe_state_finding(pipe.qualified, status)
               or pipe_pending_finding(pipe.qualified, status, minutes=minutes, now=now or datetime.now(UTC)))
    return [finding] if finding else []


def pipe_status_or_none(cur: Any, pipe: Any) -> dict | None:
    """``SYSTEM$PIPE_STATUS`` of `pipe` as a dict, None when the pipe does not exist (or the role may not see it)."""
    return _pipe_status(cur, pipe)


def _pipe_status(cur: Any, pipe: Any) -> dict | None:
    from snowseg.loading import snowpipe

    try:
        return snowpipe.pipe_status(cur, pipe)
    except Exception as e:
        if sf_errors.errno_of(e) == sf_errors.DOES_NOT_EXIST:  # does not exist (or not authorized)
            return None
        raise


def repeat_after() -> timedelta:
    """``SNOWSEG_ALERT_REPEAT_HOURS`` (default 24): how long one finding stays alerted before it alerts again."""
    return timedelta(hours=float(settings.value("SNOWSEG_ALERT_REPEAT_HOURS")))


def alert_new(findings: Iterable[Finding | Mapping[str, Any]], state: Any, *, now: datetime | None = None,
              window: timedelta | None = None) -> dict:
    """Send each finding not alerted within `window`; remember it in `state` (``load()`` / ``save()``).

    Returns
    -------
    dict
        ``findings`` (all keys), ``alerted`` (sent now) and ``suppressed`` (alerted before, within the window).

    Examples
    --------
    >>> class Mem:
    ...     def __init__(self): self.d = {}
    ...     def load(self): return dict(self.d)
    ...     def save(self, d): self.d = dict(d)
    >>> import os, tempfile; os.environ["SNOWSEG_ALERTS_FILE"] = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> f = Finding("pipe_pending", "pipe_pending:P:a", "pipe P stuck", {})
    >>> s = Mem(); alert_new([f], s)["alerted"], alert_new([f], s)["suppressed"]
    (['pipe_pending:P:a'], ['pipe_pending:P:a'])
    >>> del os.environ["SNOWSEG_ALERTS_FILE"]
    """
    now = now or datetime.now(UTC)
    window = window if window is not None else repeat_after()
    before = state.load()
    kept = {k: v for k, v in before.items() if now - _parse_ts(v) < window}
    summary: dict[str, list[str]] = {"findings": [], "alerted": [], "suppressed": []}
    for f in findings:
        f = f if isinstance(f, Finding) else Finding(**f)
        summary["findings"].append(f.key)
        if f.key in kept:
            summary["suppressed"].append(f.key)
            continue
        send_alert(f.kind, f.message, {**f.details, "key": f.key})
        kept[f.key] = now.isoformat()
        summary["alerted"].append(f.key)
    if kept != before:
        state.save(kept)
    return summary


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _parse_ts(value: str) -> datetime:
    return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
