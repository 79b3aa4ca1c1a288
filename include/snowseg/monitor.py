"""The loads monitor's data: what a data engineer looks at in the morning, read from the warehouse.

Four views, each a function that takes a cursor and the object names and returns plain data (dicts,
lists, numbers, datetimes); the Airflow plugin ``plugins/snowseg_monitor.py`` turns them into HTML
and JSON. No web code here.

- :func:`recent_loads`: the latest files of each load path from ``AUDIT.LOAD_AUDIT``, a per-path
  summary of the last 24 h, and a check of every file's counts (parsed = loaded + rejected);
- :func:`rejected_rows`: one page of a file's rejected records (``RAW.SALES_REJECTED``), with the total;
- :func:`quality_results`: the gate's latest verdicts (``AUDIT.BATCH_GATE``) and the failed rules of its
  latest run (``AUDIT.DQ_RESULTS``);
- :func:`latest_segments`: the latest published model run (``ANALYTICS.MODEL_RUNS``) and its
  ``SEGMENT_PROFILES``, with the path of its HTML report.

A table that does not exist yet (a fresh warehouse) is not an error: the view says so
(``available`` is false and ``message`` says what is missing). :func:`report_file` resolves a path
under the report base (a local folder, or an ``s3://`` prefix: ``snowseg.report.report_base()``) and refuses
anything that would leave it.

Examples
--------
>>> counts_add_up(120, 118, 2), counts_add_up(120, 118, 1), counts_add_up(None, 0, 0)
(True, False, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from snowseg import sf_errors, storage
from snowseg import warehouse as wh
from snowseg.objects import LOAD_PATHS
from snowseg.report import quality_report_dir
from snowseg.warehouse import Names, quote_ident

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    ReportBase = Path | ObjectStoragePath

FILES_PER_PATH = 50
MAX_FILES_PER_PATH = 500
REJECTS_PAGE = 500
SUMMARY_HOURS = 24
VERDICTS = 20

NOTHING_LOADED = "nothing loaded yet"
NO_GATE_RUN = "no quality gate has run yet"
NO_MODEL_RUN = "no segmentation run has been published yet"
NO_REJECTS = "no rejected rows yet"



class ReportPathRefused(ValueError):
    """A report path that would leave the report folder (``..``, an absolute path, a symlink out, a NUL)."""


def counts_add_up(parsed: int | None, loaded: int | None, rejected: int | None) -> bool | None:
    """Whether a LOAD_AUDIT row's counts add up (parsed = loaded + rejected); None when a count is missing.

    Examples
    --------
    >>> counts_add_up(0, 0, 0)
    True
    """
    if parsed is None or loaded is None or rejected is None:
        return None
    return int(parsed) == int(loaded) + int(rejected)


def duration_seconds(started: datetime | None, finished: datetime | None) -> float | None:
    """finished - started in seconds, or None when either is missing.

    Examples
    --------
    >>> duration_seconds(datetime(2026, 1, 1, 8, 0, 0), datetime(2026, 1, 1, 8, 1, 30, 500000))
    90.5
    """
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


def format_duration(seconds: float | None) -> str:
    """A duration for people: ``0.42 s``, ``12.3 s``, ``3 min 05 s``, ``2 h 01 min``; ``–`` when unknown.

    Examples
    --------
    >>> [format_duration(s) for s in (None, 0.42, 12.34, 185, 7260)]
    ['–', '0.42 s', '12.3 s', '3 min 05 s', '2 h 01 min']
    """
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def without_values(text: str | None) -> str | None:
    """An error text with the values it quotes replaced by ``'…'``: what a role that may not see data is shown.

    Snowflake's load errors quote the offending value (``Numeric value 'seven' is not recognized``);
    the rest of the text (the rule, the line, the column) stays.

    Examples
    --------
    >>> without_values("Numeric value 'seven' is not recognized; File 'a.csv', line 6, column QUANTITY")
    "Numeric value '…' is not recognized; File '…', line 6, column QUANTITY"
    """
    return None if text is None else _QUOTED.sub("'…'", text)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'")


def report_file(root: ReportBase, relative: str) -> ReportBase:
    """The file or folder `relative` under the report base `root`, never anything outside it.

    Parameters
    ----------
    root : Path or ObjectStoragePath
        The report base (``snowseg.report.report_base()``): a local folder, or an ``s3://`` prefix, where a
        key is checked on its text (no symlinks there) and a "folder" is a prefix.
    relative : str
        A ``/``-separated path below `root`, as taken from a URL (already percent-decoded).

    Returns
    -------
    Path or ObjectStoragePath
        The resolved path (the object below the prefix); it exists and is inside `root`.

    Raises
    ------
    ReportPathRefused
        If `relative` is empty, absolute, has a ``..`` or ``.`` segment, a backslash or a NUL, or
        resolves (through a symlink) outside `root`.
    FileNotFoundError
        If there is nothing at that path.

    Examples
    --------
    >>> report_file(Path("/tmp"), "../etc/passwd")
    Traceback (most recent call last):
    ...
    snowseg.monitor.ReportPathRefused: report path '../etc/passwd' is not allowed: give a path below the report folder
    """
    refused = ReportPathRefused(f"report path {relative!r} is not allowed: give a path below the report folder")
    if not relative or "\x00" in relative or "\\" in relative or relative.startswith("/"):
        raise refused
    if any(part in ("..", ".") for part in relative.split("/")):
        raise refused
    if not isinstance(root, Path):  # an s3:// report base
        try:
            target = storage.below(root, relative)
        except ValueError:
            raise refused from None
        if not target.exists():
            raise FileNotFoundError(f"no report file {relative!r} under {storage.shown(root)}")
        return target
    base = Path(root).resolve()
    target = (base / PurePosixPath(relative)).resolve()
    if not target.is_relative_to(base):
        raise refused
    if not target.exists():
        raise FileNotFoundError(f"no report file {relative!r} under {base}")
    return target


def _index_under(root: ReportBase | None, folder: str) -> str | None:
    """``<folder>/index.html`` when that report page exists under `root`, else None."""
    if root is None:
        return None
    rel = f"{folder}/index.html"
    try:
        return rel if report_file(root, rel).is_file() else None
    except (ReportPathRefused, FileNotFoundError):
        return None


def _query(cur: Any, name: str, params: Mapping[str, Any] | None = None, **fragments: str) -> list[dict] | None:
    """A monitor query's rows as dicts (upper-case keys); None when its table does not exist yet."""
    try:
        rows = wh.run(cur, name, params, **fragments)
    except Exception as e:  # the connector's ProgrammingError; anything else is re-raised
        if sf_errors.is_missing(e):
            return None
        raise
    cols = [d[0].upper() for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in rows]


def _lower(row: Mapping[str, Any]) -> dict:
    return {k.lower(): v for k, v in row.items()}


def _int(value: Any) -> int:
    return int(value or 0)


def shape_loads(rows: Iterable[Mapping[str, Any]], summary: Iterable[Mapping[str, Any]], *, since: datetime,
                hours: int = SUMMARY_HOURS, per_path: int = FILES_PER_PATH) -> dict:
    """Group LOAD_AUDIT rows and the per-path summary by load path, and check each file's counts.

    Parameters
    ----------
    rows : iterable of mappings
        ``monitor/select_recent_loads.sql`` rows (upper-case keys).
    summary : iterable of mappings
        ``monitor/select_load_path_summary.sql`` rows.
    since : datetime
        The start of the summary window.
    hours : int
        The summary window's length, for the label.
    per_path : int
        How many files per path were asked for.

    Returns
    -------
    dict
        ``paths``: one entry per load path (the three known paths first, then any other), each with
        ``summary`` (``files``, ``rows_loaded``, ``rows_rejected``, ``files_failed``,
        ``files_mismatched`` over the window) and ``files`` (newest first, each with ``duration_s``,
        ``counts_add_up`` and ``has_rejects``); ``files``: the number of files listed;
        ``mismatched``: the listed files whose counts do not add up; ``message`` when nothing was
        ever loaded.

    Examples
    --------
    >>> t = datetime(2026, 1, 5, 8, 0)
    >>> row = dict(AUDIT_ID="a1", FILE_NAME="x.csv", LOAD_PATH="bulk_stage", STATUS="PARTIALLY_LOADED",
    ...            ROWS_PARSED=10, ROWS_LOADED=8, ROWS_REJECTED=1, STARTED_AT=t, FINISHED_AT=t + timedelta(seconds=3))
    >>> out = shape_loads([row], [dict(LOAD_PATH="bulk_stage", FILES=1, ROWS_LOADED=8, ROWS_REJECTED=1)], since=t)
    >>> [p["load_path"] for p in out["paths"]], out["mismatched"]
    (['small_file', 'bulk_stage', 'snowpipe'], ['x.csv'])
    >>> f = out["paths"][1]["files"][0]
    >>> f["counts_add_up"], f["duration_s"], f["has_rejects"], out["paths"][1]["summary"]["rows_loaded"]
    (False, 3.0, True, 8)
    """
    by_path: dict[str, dict] = {}

    def entry(path: str) -> dict:
        if path not in by_path:
            by_path[path] = {"load_path": path, "files": [], "summary": {
                "files": 0, "rows_parsed": 0, "rows_loaded": 0, "rows_rejected": 0, "files_failed": 0,
                "files_mismatched": 0,
            }}
        return by_path[path]

    for path in LOAD_PATHS:
        entry(path)
    for s in summary:
        entry(s["LOAD_PATH"])["summary"].update({k.lower(): _int(v) for k, v in s.items() if k != "LOAD_PATH"})
    mismatched, listed = [], 0
    for r in rows:
        f = _lower(r)
        f["duration_s"] = duration_seconds(f.get("started_at"), f.get("finished_at"))
        f["counts_add_up"] = counts_add_up(f.get("rows_parsed"), f.get("rows_loaded"), f.get("rows_rejected"))
        f["has_rejects"] = _int(f.get("rows_rejected")) > 0
        if f["counts_add_up"] is False:
            mismatched.append(f["file_name"])
        entry(f["load_path"])["files"].append(f)
        listed += 1
    known = [by_path[p] for p in LOAD_PATHS]
    others = [by_path[p] for p in sorted(by_path) if p not in LOAD_PATHS]
    out = {"available": True, "paths": known + others, "files": listed, "mismatched": mismatched,
           "since": since, "hours": hours, "per_path": per_path}
    if not listed:
        out["message"] = NOTHING_LOADED
    return out


def recent_loads(cur: Any, names: Names, *, per_path: int = FILES_PER_PATH, hours: int = SUMMARY_HOURS,
                 now: datetime | None = None) -> dict:
    """The latest `per_path` files of each load path and the last `hours` per path, from ``LOAD_AUDIT``.

    Parameters
    ----------
    cur : cursor
        A Snowflake cursor.
    names : Names
        Where the objects live (``Names.from_env()``).
    per_path : int
        Files listed per load path (1..500).
    hours : int
        The summary window.
    now : datetime, optional
        The window's end (naive UTC, as LOAD_AUDIT stores it); defaults to now.

    Returns
    -------
    dict
        :func:`shape_loads`'s result; ``available`` is false (and ``message`` is "nothing loaded yet")
        when ``LOAD_AUDIT`` does not exist yet.
    """
    per_path = max(1, min(int(per_path), MAX_FILES_PER_PATH))
    since = (now or datetime.now(UTC).replace(tzinfo=None)) - timedelta(hours=hours)
    where = {"database": names.database, "schema": names.audit}
    rows = _query(cur, "monitor/select_recent_loads.sql", {"per_path": per_path}, **where)
    if rows is None:
        out = shape_loads([], [], since=since, hours=hours, per_path=per_path)
        return {**out, "available": False}
    summary = _query(cur, "monitor/select_load_path_summary.sql", {"since": since}, **where) or []
    return shape_loads(rows, summary, since=since, hours=hours, per_path=per_path)


def _rejected_table(cur: Any, names: Names, file_name: str, batch_id: str | None) -> str:
    """The rejected table of the raw table the file went into (its latest LOAD_AUDIT row), else the contract's."""
    from snowseg.airflow.tasks import resolve
    from snowseg.objects import dataset_objects

    rows = _query(cur, "monitor/select_file_target_table.sql", {"file_name": file_name, "batch_id": batch_id},
                  database=names.database, schema=names.audit)
    table = None
    if rows and rows[0].get("TARGET_TABLE"):
        table = quote_ident(str(rows[0]["TARGET_TABLE"]).split(".")[-1])
    contract, _ = resolve(None, table)
    return dataset_objects(contract).rejected


def rejected_rows(cur: Any, names: Names, file_name: str, *, batch_id: str | None = None,
                  limit: int = REJECTS_PAGE, offset: int = 0) -> dict:
    """One page of a file's rejected records, with the total, from the raw table's rejected table.

    Parameters
    ----------
    cur : cursor
        A Snowflake cursor.
    names : Names
        Where the objects live.
    file_name : str
        The file's name as LOAD_AUDIT and SALES_REJECTED hold it (``FILE_NAME``).
    batch_id : str, optional
        Only this load batch of the file (a file name can be loaded again with new content).
    limit : int
        Rows on the page (1..500).
    offset : int
        Rows skipped (>= 0).

    Returns
    -------
    dict
        ``file_name``, ``batch_id``, ``table``, ``total``, ``limit``, ``offset`` and ``rows`` (each with
        ``line``, ``character``, ``column_name``, ``error``, ``code``, ``rejected_record``...);
        ``available`` is false when the rejected table does not exist yet.

    Raises
    ------
    ValueError
        If `file_name` is empty.
    """
    if not file_name:
        raise ValueError("file_name is empty: give the FILE_NAME of a LOAD_AUDIT row")
    limit = max(1, min(int(limit), REJECTS_PAGE))
    offset = max(0, int(offset))
    table = _rejected_table(cur, names, file_name, batch_id)
    params = {"file_name": file_name, "batch_id": batch_id or None}
    where = {"database": names.database, "schema": names.raw, "rejected_table": table}
    out: dict[str, Any] = {"available": True, "file_name": file_name, "batch_id": batch_id or None,
                           "table": f"{names.raw}.{table}",
           "total": 0, "limit": limit, "offset": offset, "rows": []}
    count = _query(cur, "monitor/count_rejected_rows.sql", params, **where)
    if count is None:
        return {**out, "available": False, "message": NO_REJECTS}
    out["total"] = _int(count[0]["ROWS_REJECTED"]) if count else 0
    if out["total"] and offset < out["total"]:
        rows = _query(cur, "monitor/select_rejected_rows.sql", {**params, "limit": limit, "offset": offset}, **where)
        out["rows"] = [_lower(r) for r in rows or []]
    return out


def quality_results(cur: Any, names: Names, *, limit: int = VERDICTS, report_root: ReportBase | None = None) -> dict:
    """The gate's latest verdicts and the failed rules of its latest run.

    Parameters
    ----------
    cur : cursor
        A Snowflake cursor.
    names : Names
        Where the objects live.
    limit : int
        How many verdicts (newest first).
    report_root : Path or ObjectStoragePath, optional
        The report folder; when the latest run's quality page is there, ``report_path`` is its path
        below it.

    Returns
    -------
    dict
        ``verdicts`` (batch, status, rows checked and quarantined, failed error rules, run, time);
        ``latest_run`` (run id, rules checked and failed, batches, time) or None; ``failures`` (the
        latest run's failed rules: expectation, column, severity, unexpected count, observed value);
        ``report_path``; ``available`` false when the gate's tables cannot be read (the setup was not applied);
        ``message`` when the gate has never run.
    """
    where = {"database": names.database, "schema": names.audit}
    verdicts = _query(cur, "monitor/select_gate_verdicts.sql", {"limit": max(1, int(limit))}, **where)
    runs = _query(cur, "monitor/select_latest_gate_run.sql", None, **where)
    out = {"available": verdicts is not None or runs is not None, "verdicts": [_lower(v) for v in verdicts or []],
           "latest_run": None, "failures": [], "report_path": None}
    if runs:
        run = _lower(runs[0])
        run.update({k: _int(run.get(k)) for k in ("rules_checked", "rules_failed", "batches")})  # SUM may be a float
        out["latest_run"] = run
        failures = _query(cur, "monitor/select_gate_failures.sql", {"run_id": run["run_id"]}, **where) or []
        out["failures"] = [_lower(f) for f in failures]
        out["report_path"] = _index_under(report_root, quality_report_dir(run["run_id"]))
    if not out["verdicts"] and not runs:
        out["message"] = NO_GATE_RUN
    return out


def with_rules(profile: dict) -> dict:
    """A profile row with its RULES JSON text read as a list (empty for a run published before the rules).

    Examples
    --------
    >>> with_rules({"segment_id": 0, "rules": '[{"text": "Recency ≤ 60 days", "covers": 9}]'})["rules"][0]["text"]
    'Recency ≤ 60 days'
    >>> with_rules({"segment_id": 1, "rules": None})["rules"]
    []
    """
    import json

    text = profile.get("rules")
    return {**profile, "rules": json.loads(text) if text else []}


def latest_segments(cur: Any, names: Names, *, report_root: ReportBase | None = None) -> dict:
    """The latest published model run and its segment profiles.

    Parameters
    ----------
    cur : cursor
        A Snowflake cursor.
    names : Names
        Where the objects live.
    report_root : Path or ObjectStoragePath, optional
        The report folder; when the run's report is there, ``report_path`` is
        ``<model_run_id>/index.html``.

    Returns
    -------
    dict
        ``run`` (model run id, k, k_reason, structured, n_runs, row_count, assigned_in, published_at,
        Airflow ids...) or None; ``profiles`` (segment id, name, size, share, stability, stability
        band, mean confidence, ``rules``: the segment's readable rules with their figures, ``rule_accuracy``,
        ``rule_recall``); ``rules_fidelity`` (the rules' tree: its accuracy over the run's rows);
        ``datasets`` (each dataset's current run: contract, model run id, k, rows,
        published at); ``report_path``; ``available`` false when no run was ever published.
    """
    where = {"database": names.database, "schema": names.analytics}
    runs = _query(cur, "monitor/select_latest_model_run.sql", None, **where)
    out: dict[str, Any] = {"available": runs is not None, "run": None, "profiles": [], "datasets": [],
                           "report_path": None}
    if not runs:
        return {**out, "message": NO_MODEL_RUN}
    run = _lower(runs[0])
    out["run"] = run
    datasets = _query(cur, "monitor/select_latest_run_per_dataset.sql", None, **where) or []
    out["datasets"] = [_lower(d) for d in datasets]
    profiles = _query(cur, "monitor/select_run_profiles.sql", {"model_run_id": run["model_run_id"]}, **where) or []
    out["profiles"] = [with_rules(_lower(p)) for p in profiles]
    out["rules_fidelity"] = next((p["rules_fidelity"] for p in out["profiles"] if p.get("rules_fidelity") is not None),
                                 None)
    out["report_path"] = _index_under(report_root, str(run["model_run_id"]))
    out["migration"] = run_migration(cur, names, str(run["model_run_id"]))
    return out


def run_migration(cur: Any, names: Names, model_run_id: str) -> dict | None:
    """A model run's refit decision, drift, migration matrix and centroid shifts, shaped for the page and the API.

    Returns None when the run has none recorded (published before migration database/V014). Otherwise
    ``run_kind``, ``refit_reason``, ``refit_run_id``, ``drift``, ``moved_share``, ``totals`` (customers, stayed,
    moved, new, left), ``rows`` (one per previous segment, then "new": its label and a count and row share per
    column), ``columns`` (segment ids, then "left") and ``shifts`` (per segment: scaled shift, largest changes).
    """
    import json

    rows = _query(cur, "monitor/select_run_migration.sql", {"model_run_id": model_run_id},
                  database=names.database, schema=names.analytics)
    if not rows or not rows[0].get("MIGRATION"):
        return None
    r = _lower(rows[0])
    return shape_migration(json.loads(r["migration"]), json.loads(r["centroid_shift"] or "[]"),
                           run_kind=r["run_kind"], refit_reason=r["refit_reason"], refit_run_id=r["refit_run_id"],
                           drift=r["drift"])


def shape_migration(migration: dict, shifts: list[dict], *, run_kind: str | None, refit_reason: str | None,
                    refit_run_id: str | None, drift: float | None) -> dict:
    """The migration matrix as table rows (previous segment, then "new") and columns (segment, then "left").

    Examples
    --------
    >>> from snowseg.clustering.drift import migration_from_counts
    >>> m = shape_migration(migration_from_counts([(0, 0, 3), (0, 1, 1), (None, 1, 2)]), [], run_kind="assign",
    ...                     refit_reason="assign only: drift 0.04 ≤ 0.25", refit_run_id="mr_1", drift=0.04)
    >>> m["columns"], [(row["label"], [c["count"] for c in row["cells"]]) for row in m["rows"]]
    ([0, 1], [('0', [3, 1]), ('1', [None, None]), ('new', [None, 2])])
    >>> m["moved_share"], m["totals"]["customers"]
    (0.25, 6)
    """
    cells = {(c["from"], c["to"]): c for c in migration["cells"]}
    ids = sorted({k for f, t in cells for k in (f, t) if k is not None})
    froms = ids + ([None] if any(f is None for f, _ in cells) else [])
    cols = ids + (["left"] if any(t is None for _, t in cells) else [])
    return {
        "run_kind": run_kind, "refit_reason": refit_reason, "refit_run_id": refit_run_id, "drift": drift,
        "moved_share": migration.get("moved_share"), "columns": cols,
        "totals": {"customers": migration["total"], "stayed": migration["stayed"], "moved": migration["moved"],
                   "new": migration["new"], "left": migration["left"]},
        "rows": [{"label": "new" if f is None else str(f), "cells": [
            {"count": cells[(f, None if t == "left" else t)]["count"],
             "row_share": cells[(f, None if t == "left" else t)]["row_share"]}
            if (f, None if t == "left" else t) in cells else {"count": None, "row_share": None} for t in cols]}
            for f in froms],
        "shifts": [{"segment_id": s["segment_id"], "scaled": s["scaled"],
                    "largest": sorted(s["delta"].items(), key=lambda kv: -abs(kv[1]))[:3]} for s in shifts],
    }


def _history_or_message(cur: Any, names: Names, since: datetime | None) -> tuple[Any, dict]:
    """Snowseg's query history since `since` (snowseg.costs), and what the page says about it."""
    from snowflake.connector.errors import ProgrammingError

    from snowseg import costs

    try:
        history = costs.read_history(cur, names, since=since)
    except ProgrammingError as e:  # eg: the role may not read the history: the page shows the rest, and why not this
        return None, {"available": False, "message": f"query history not readable: {e}", "note": costs.ESTIMATE_NOTE}
    return history, {"available": True, "since": history.since, "truncated": history.truncated,
                     "note": costs.ESTIMATE_NOTE, "history_days": costs.HISTORY_DAYS}


def add_load_costs(cur: Any, names: Names, loads: dict) -> dict:
    """Add each listed file's cost (``cost``: queries, elapsed and execution seconds, estimated credits; None when
    the query history holds none of its batch's queries) and ``costs`` (where the figures come from) to
    :func:`recent_loads`'s result, from Snowflake's query history by tag (snowseg.costs)."""
    from snowseg import costs

    files = [f for p in loads.get("paths", []) for f in p.get("files", [])]
    started = [f["started_at"] for f in files if isinstance(f.get("started_at"), datetime)]
    if not files:
        return {**loads, "costs": {"available": False, "message": NOTHING_LOADED, "note": costs.ESTIMATE_NOTE}}
    history, about = _history_or_message(cur, names, min(started) if started else None)
    per_batch = costs.by_batch(history.rows) if history is not None else {}
    for f in files:
        cost = per_batch.get(f.get("batch_id") or "")
        f["cost"] = cost.to_dict() if cost is not None else None
    return {**loads, "costs": about}


def add_segment_costs(cur: Any, names: Names, segments: dict) -> dict:
    """Add the latest model run's cost (``run.cost``, as :func:`add_load_costs`; every query of the DAG run that
    produced it, and every query tagged with its id) to :func:`latest_segments`'s result."""
    from snowseg import costs

    run = segments.get("run")
    if not run:
        return segments
    started = run.get("started_at") if isinstance(run.get("started_at"), datetime) else None
    history, about = _history_or_message(cur, names, started)
    cost = costs.of_model_run(history.rows, str(run["model_run_id"]), dag_id=run.get("airflow_dag_id"),
                              run_id=run.get("airflow_run_id")) if history is not None else None
    run["cost"] = cost.to_dict() if cost is not None and cost.queries else None
    return {**segments, "costs": about}
