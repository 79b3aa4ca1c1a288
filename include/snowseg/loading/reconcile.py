"""Snowpipe reconciliation: landing files whose S3 event was lost are queued again, loaded once and accounted for.

Snowpipe's auto-ingest hears of a file through an S3 event notification, and S3 does not guarantee to deliver every
event; Snowflake recommends an occasional ``ALTER PIPE ... REFRESH`` over a narrow prefix. ``watch_loads`` runs
:func:`reconcile` before its checks:

1. It lists the landing prefix (the Amazon provider's S3Hook) and keeps the files at least ``minutes`` old
   (``SNOWSEG_RECONCILE_MINUTES``, 15) that no ``AUDIT.LOAD_AUDIT`` row accounts for.
2. It reads the pipe's load history (``COPY_HISTORY``, :func:`snowseg.loading.snowpipe.pipe_loads`). A file with no
   finished load there is refreshed: ``ALTER PIPE <pipe> REFRESH PREFIX = '<prefix>'`` on the narrowest prefix that
   names it (:func:`refresh_prefixes`: the file's own path, or its folder when every file of the folder is
   missing). Only when the pipe is in a state where it loads (RUNNING; a paused or stopped pipe is
   ``check_pipe``'s to report), and only for files staged within the last 7 days: REFRESH queues nothing older
   (such a file is left to ``check_landing``'s alert, which says how to load it).
3. REFRESH itself never loads a file twice: it "checks the load history of both the target table and the pipe"
   and queues only what neither loaded. :func:`reconcile` waits up to ``wait_seconds`` for the pipe's loads.
4. Every such file with a finished pipe load (refreshed now, or loaded earlier but never accounted for) gets its
   ``LOAD_AUDIT`` row through the same accounting as ``load_s3_snowpipe``
   (:func:`snowseg.loading.snowpipe.account_files`: LOADED, or a file the pipe skipped loaded again with
   ``ON_ERROR = CONTINUE``; ``rows_parsed = rows_loaded + rows_rejected``), with ``AIRFLOW_DAG_ID = watch_loads``
   saying it came from reconciliation. The object is read back from S3 and checked against the contract for its
   row count and content hash; a file whose folder is not its content hash (``snowpipe_<sha16>/``, as
   ``load_s3_snowpipe`` lands files) is not accounted for here (its finding says so).
5. Each refreshed file is one finding (``landing_refreshed``, keyed on its URL and ETag, so alerted once).

A re-run finds the refreshed files in LOAD_AUDIT (or, if their load is still under way, in the pipe's queue, which
REFRESH does not queue twice): nothing is loaded or recorded twice.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from snowseg import settings
from snowseg import warehouse as wh
from snowseg.alerting import watch
from snowseg.alerting.watch import Finding
from snowseg.errors import SnowsegError
from snowseg.loading import pipe_states, snowpipe
from snowseg.loading.common import batch_id_for
from snowseg.objects import dataset_objects
from snowseg.warehouse import quote_literal

log = logging.getLogger(__name__)

#: "ALTER PIPE ... REFRESH copies a set of data files staged within the previous 7 days to the Snowpipe ingest queue"
REFRESH_DAYS = 7


def threshold_minutes(value: float | None = None) -> float:
    """The age (minutes) from which a landing file without history is refreshed: argument, then
    ``SNOWSEG_RECONCILE_MINUTES`` (15).

    Examples
    --------
    >>> import os; os.environ.pop("SNOWSEG_RECONCILE_MINUTES", None) and None
    >>> threshold_minutes(), threshold_minutes(0)
    (15.0, 0.0)
    """
    return float(value if value is not None else settings.value("SNOWSEG_RECONCILE_MINUTES"))


def wait_seconds(value: float | None = None) -> float:
    """How long to wait for the refreshed files' loads: argument, then ``SNOWSEG_RECONCILE_WAIT_SECONDS`` (120)."""
    return float(value if value is not None else settings.value("SNOWSEG_RECONCILE_WAIT_SECONDS"))


def refresh_prefixes(missing: Iterable[str], listed: Iterable[str]) -> list[str]:
    """The narrowest REFRESH prefixes that name every `missing` path (relative to the pipe's stage).

    A folder is named when more than one file is missing in it and every file listed in it is missing; otherwise each
    missing file is named by its own path. (A prefix is a prefix: ``a.csv`` also names ``a.csv.gz``; REFRESH skips
    whatever the load metadata has loaded, so a file named by accident is only queued if it was never loaded.)

    Examples
    --------
    >>> refresh_prefixes(["snowpipe_ab/a.csv"], ["snowpipe_ab/a.csv", "snowpipe_cd/b.csv"])
    ['snowpipe_ab/a.csv']
    >>> refresh_prefixes(["d/a.csv", "d/b.csv"], ["d/a.csv", "d/b.csv"])
    ['d/']
    >>> refresh_prefixes(["d/a.csv", "d/b.csv"], ["d/a.csv", "d/b.csv", "d/c.csv"])
    ['d/a.csv', 'd/b.csv']
    """
    missing = sorted(set(missing))
    by_folder: dict[str, list[str]] = defaultdict(list)
    for path in listed:
        by_folder[_folder(path)].append(path)
    wanted: dict[str, list[str]] = defaultdict(list)
    for path in missing:
        wanted[_folder(path)].append(path)
    prefixes = []
    for folder, paths in sorted(wanted.items()):
        if folder and len(paths) > 1 and set(paths) >= set(by_folder.get(folder, [])):
            prefixes.append(folder)
        else:
            prefixes.extend(paths)
    return prefixes


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


@dataclass(frozen=True)
class Stale:
    """A landing file past the threshold that no LOAD_AUDIT row accounts for."""

    key: str
    staged_path: str
    url: str
    etag: str
    bytes: int | None
    last_modified: datetime

    @classmethod
    def from_object(cls, o: dict, landing: Any) -> Stale:
        rel = o["Key"][len(landing.prefix):] if o["Key"].startswith(landing.prefix) else o["Key"]
        return cls(o["Key"], rel, f"s3://{landing.bucket}/{o['Key']}", str(o.get("ETag", "")).strip('"'),
                   o.get("Size"), _aware(o["LastModified"]))


@dataclass
class Reconciliation:
    """What one reconciliation did: prefixes refreshed, files sent, files accounted for, findings to alert."""

    refreshed: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    accounted: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)  # URLs check_landing leaves to this finding
    skipped_reason: str | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(int(a.get("rows_loaded") or 0) for a in self.accounted)

    def to_dict(self) -> dict:
        return {**asdict(self), "rows_loaded": self.rows_loaded}


def stale_files(objects: list[dict], landing: Any, audited: set[str], *, minutes: float, now: datetime) -> list[Stale]:
    """Landing objects at least `minutes` old whose ``<folder>/<name>`` has no LOAD_AUDIT row.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> lz = NS(bucket="b", prefix="sales/")
    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> objs = [{"Key": "sales/x/a.csv", "Size": 1, "ETag": '"e"', "LastModified": t},
    ...         {"Key": "sales/y/b.csv", "Size": 1, "ETag": '"f"', "LastModified": t + timedelta(minutes=10)}]
    >>> [s.staged_path for s in stale_files(objs, lz, set(), minutes=15, now=t + timedelta(minutes=20))]
    ['x/a.csv']
    >>> stale_files(objs, lz, {"x/a.csv", "y/b.csv"}, minutes=0, now=t + timedelta(minutes=20))
    []
    """
    out = [Stale.from_object(o, landing) for o in sorted(objects, key=lambda o: o["Key"])]
    return [s for s in out if s.staged_path not in audited and now - s.last_modified >= timedelta(minutes=minutes)]


def reconcile(conn: Any, s3_hook: Any, landing: Any, names: Any, contract: Any, *, minutes: float,
              wait: float, poll: float = 5.0, now: datetime | None = None, dag_id: str | None = None,
              run_id: str | None = None) -> Reconciliation:
    """Refresh the landing files the pipe never heard of, wait for their loads, and account for them (module doc).

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    s3_hook : airflow.providers.amazon.aws.hooks.s3.S3Hook
    landing : snowseg.loading.snowpipe.Landing
    minutes : float
        Age from which a file without a LOAD_AUDIT row and without pipe history is refreshed.
    wait, poll : float
        Seconds to wait for the refreshed files' loads, and between looks at the load history.

    Returns
    -------
    Reconciliation
    """
    now = now or datetime.now(UTC)
    result = Reconciliation()
    objects = watch.landing_objects(s3_hook, landing)
    pipe = snowpipe.Pipe(names.database, names.raw, dataset_objects(contract).pipe, None)
    with conn.cursor() as cur:
        stale = stale_files(objects, landing, watch.audited_landing_paths(cur, names), minutes=minutes, now=now)
        if not stale:
            return result
        state = watch.pipe_status_or_none(cur, pipe)
        if state is None or pipe_states.execution_state(state) not in (pipe_states.RUNNING, "UNKNOWN"):
            result.skipped_reason = (f"pipe {pipe.qualified} is {pipe_states.execution_state(state)}"
                                     if state is not None else f"pipe {pipe.qualified} does not exist")
            log.info("no reconciliation: %s (check_pipe reports it)", result.skipped_reason)
            return result
        loads = snowpipe.pipe_loads(cur, names, contract, pipe, [s.staged_path for s in stale])
        lost = [s for s in stale if s.staged_path not in loads
                and now - s.last_modified < timedelta(days=REFRESH_DAYS)]
        if lost:
            result.refreshed = refresh_prefixes([s.staged_path for s in lost],
                                                [Stale.from_object(o, landing).staged_path for o in objects])
            for prefix in result.refreshed:
                result.sent += refresh(cur, names, pipe, prefix)
        if lost and wait > 0:
            loads = _wait_for_loads(cur, names, contract, pipe, [s.staged_path for s in stale], loads,
                                    [s.staged_path for s in lost], wait=wait, poll=poll)
    done = [s for s in stale if s.staged_path in loads and loads[s.staged_path].status in snowpipe.DONE]
    outcomes = {s.staged_path: _account(conn, s3_hook, landing, s, loads[s.staged_path], contract, names,
                                        dag_id=dag_id, run_id=run_id) for s in done}
    result.accounted = [o for o in outcomes.values() if "status" in o]
    for s in lost:
        prefix = next((p for p in result.refreshed if s.staged_path.startswith(p)), s.staged_path)
        finding = refreshed_finding(s, pipe.qualified, loads.get(s.staged_path), outcomes.get(s.staged_path),
                                    sent=any(_same(p, s.staged_path) for p in result.sent), now=now, prefix=prefix)
        result.findings.append(finding.to_dict())
        result.handled.append(s.url)
    result.handled += [s.url for s in done if "status" in outcomes[s.staged_path] and s.url not in result.handled]
    return result


def refresh(cur: Any, names: Any, pipe: Any, prefix: str) -> list[str]:
    """``ALTER PIPE <pipe> REFRESH PREFIX = '<prefix>'``: the files it queued (the rows whose Status is SENT).

    REFRESH queues only files staged within the last 7 days that neither the pipe's nor the table's load metadata
    has loaded, so a prefix naming loaded files queues nothing (an empty list).
    """
    rows = wh.run(cur, "snowpipe/alter_pipe_refresh.sql", database=names.database, schema=names.raw,
                  pipe=pipe.name, prefix=quote_literal(prefix))
    sent = [str(r[0]) for r in rows if len(r) < 2 or str(r[1]).upper() == "SENT"]
    log.info("ALTER PIPE %s REFRESH PREFIX = '%s': %d file(s) queued", pipe.qualified, prefix, len(sent))
    return sent


def _same(sent: str, staged_path: str) -> bool:
    """Whether REFRESH's File (relative to the stage, or with the stage's path in front) is this staged path."""
    return sent == staged_path or sent.endswith("/" + staged_path)


def _wait_for_loads(cur: Any, names: Any, contract: Any, pipe: Any, paths: list[str], loads: dict,
                    waited_for: list[str], *, wait: float, poll: float) -> dict:
    deadline = time.monotonic() + wait
    while True:
        if all(p in loads and loads[p].status in snowpipe.DONE for p in waited_for):
            return loads
        if time.monotonic() >= deadline:
            log.info("%d refreshed file(s) not loaded within %.0f s: a later run accounts for them",
                     sum(p not in loads for p in waited_for), wait)
            return loads
        time.sleep(max(0.1, min(poll, deadline - time.monotonic())))
        loads = snowpipe.pipe_loads(cur, names, contract, pipe, paths)


class NotAccountable(SnowsegError):
    """A landing file the pipe loaded that reconciliation cannot put on record: ``url`` and ``reason``."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"{url}: {reason}")


def _account(conn: Any, s3_hook: Any, landing: Any, s: Stale, load: Any, contract: Any, names: Any, *,
             dag_id: str | None, run_id: str | None) -> dict:
    """One file's LOAD_AUDIT row through :func:`snowseg.loading.snowpipe.account_files`; {"error": ...} if it cannot."""
    from snowseg.loading.checks import check_file

    try:
        with tempfile.TemporaryDirectory(prefix="snowseg-reconcile-") as tmp:
            local = Path(tmp) / s.staged_path.rsplit("/", 1)[-1]
            s3_hook.get_conn().download_file(Bucket=landing.bucket, Key=s.key, Filename=str(local))
            info = replace(check_file(local, contract, max_mb=float("inf")), path=s.url)
        folder = s.staged_path.rsplit("/", 1)[0] if "/" in s.staged_path else ""
        if folder != batch_id_for(info, snowpipe.LOAD_PATH):
            raise NotAccountable(s.url, f"its folder {folder!r} is not its content's batch id "
                                 f"{batch_id_for(info, snowpipe.LOAD_PATH)!r} (it was not landed by "
                                 "load_s3_snowpipe): load the original file with load_s3_snowpipe")
        landed = snowpipe.Landed(info=info, key=s.key, staged_path=s.staged_path)
        (res,) = snowpipe.account_files(conn, [landed], {s.staged_path: load}, contract, names, dag_id=dag_id,
                                        run_id=run_id)
    except SnowsegError as e:  # a check, a count that does not add up, a foreign file: its finding says so
        log.warning("cannot account for %s: %s", s.url, e)
        return {"error": str(e), "error_type": type(e).__name__}
    log.info("reconciled %s: %s", s.url, res.message)
    return {**res.to_dict(), "url": s.url}


def refreshed_finding(s: Stale, pipe: str, load: Any, outcome: dict | None, *, sent: bool, now: datetime,
                      prefix: str | None = None) -> Finding:
    """The alert for a file whose event was lost: what was done (REFRESH) and what came of it.

    Examples
    --------
    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> s = Stale("sales/snowpipe_ab/a.csv", "snowpipe_ab/a.csv", "s3://b/sales/snowpipe_ab/a.csv", "e1", 10, t)
    >>> f = refreshed_finding(s, "DB.RAW.P", None, None, sent=True, now=t + timedelta(minutes=20))
    >>> f.key, f.details["outcome"]
    ('landing_refreshed:s3://b/sales/snowpipe_ab/a.csv:e1', 'QUEUED')
    """
    age = round((now - s.last_modified).total_seconds() / 60, 1)
    if outcome and "status" in outcome:
        what = (f"the pipe loaded it and it is on record: {outcome['status']} {outcome['rows_loaded']} of "
                f"{outcome['rows_parsed']} rows (batch {outcome['batch_id']}, LOAD_AUDIT)")
        status, todo = outcome["status"], "Nothing; if this happens often, check the bucket's event notification."
    elif outcome:
        what = f"the pipe loaded it, but it could not be put on record: {outcome['error']}"
        status, todo = "NOT_RECORDED", outcome["error"]
    elif sent:
        what = "it is queued on the pipe; a later watch_loads run records its outcome"
        status = "QUEUED"
        todo = f"Nothing unless it stays pending: then see SYSTEM$PIPE_STATUS('{pipe}')."
    else:
        what = "REFRESH queued nothing for it (the load metadata has it, or it was staged more than 7 days ago)"
        status = "NOT_QUEUED"
        todo = "Load it with load_s3_snowpipe (nothing is loaded twice)."
    details = {"file": s.staged_path.rsplit("/", 1)[-1], "url": s.url, "staged_path": s.staged_path,
               "age_minutes": age, "bytes": s.bytes, "last_modified": s.last_modified.isoformat(), "pipe": pipe,
               "refresh": f"ALTER PIPE {pipe} REFRESH PREFIX = '{prefix or s.staged_path}'", "outcome": status,
               "load": asdict(load) if load is not None and not isinstance(load, dict) else load,
               "audit": outcome, "what_to_do": todo}
    message = (f"{details['file']} waited {age:g} min in the landing area and the pipe never heard of it (its S3 event "
               f"was lost): reconciliation queued it with ALTER PIPE {pipe} REFRESH; {what}\nwhat to do: {todo}")
    return Finding("landing_refreshed", f"landing_refreshed:{s.url}:{s.etag}", message, details)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)
