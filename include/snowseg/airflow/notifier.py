"""Alerts that say which file, which rows and what to do: task-failure callbacks and load deadlines.

Two sources share one way out, :func:`send_alert`:

- :class:`SnowsegNotifier`, an Airflow notifier set as every task's ``on_failure_callback`` (through
  the DAGs' ``default_args``). It reads the callback context (DAG, task, run, try, the exception, the
  upstream tasks' XComs) and builds one alert per failed task: the file(s) with their row counts,
  the line and column the exception names, and a "what to do" line for the kind of failure
  (:data:`WHAT_TO_DO`). At DAG level, ``SnowsegNotifier(scope="run")`` only speaks for runs that
  failed *without* a failed task (deadlock, run timeout), so a failed task is never alerted twice.
- The ``watch_loads`` DAG's deadline checks: files in the S3 landing area older than N minutes that
  no LOAD_AUDIT row accounts for (:func:`check_landing`), and a pipe whose oldest pending file waits
  longer than N minutes (:func:`check_pipe`). :func:`alert_new` sends each finding once per
  ``SNOWSEG_ALERT_REPEAT_HOURS`` (default 24), remembering alerted keys in an Airflow Variable.

Channels, chosen by environment (every channel gets the same redacted text):

- always: one JSON line per alert appended to ``SNOWSEG_ALERTS_FILE`` (default
  ``$AIRFLOW_HOME/snowseg_alerts.jsonl``);
- ``SNOWSEG_ALERT_SMTP_TO`` (comma-separated): also an e-mail through the SMTP provider's
  ``SmtpNotifier`` (``SNOWSEG_ALERT_SMTP_CONN_ID``, ``SNOWSEG_ALERT_SMTP_FROM``);
- ``SNOWSEG_ALERT_NOTIFIER`` (JSON ``{"class": ..., "kwargs": {...}, "message_field": ...}``): also any
  installed Airflow notifier, e.g. the Slack or Apprise provider's.

A channel that fails is logged and recorded in the JSON line (``delivered``); it never fails the task.
Messages never carry secrets: the Snowflake, AWS and SMTP connections' passwords and sensitive extras,
Airflow's own masked values, URL credentials, ``password=...`` pairs and PEM keys are replaced by ``***``.
"""

from __future__ import annotations

import ast
import html
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from snowseg.loading import pipe_states
from snowseg.objects import dataset_objects
from snowseg.redaction import known_secrets, redact

log = logging.getLogger(__name__)

STATE_VARIABLE = "snowseg_alerted_keys"
DEFAULT_REPEAT_HOURS = 24.0

# kind -> what to do; {placeholders} are filled from the alert's details (missing ones read "?")
WHAT_TO_DO = {
    "file_refused": "Fix {where} and load it again with {dag_id} (a fixed file is a new batch; the refused or "
                    "failed content stays on record once in AUDIT.LOAD_AUDIT, its rejected rows in "
                    "RAW.SALES_REJECTED).",
    "input_missing": "Check the run's file/path param: {error}. The file must exist on the Airflow worker; then "
                     "trigger {dag_id} again.",
    "warehouse_unreachable": "Check the Snowflake connection {conn_id!r} (host/port extras, credentials, network); "
                             "for the local twin run `make twin-up` (`make twin-status` shows it). Then clear the "
                             "failed task: nothing is loaded twice.",
    "quality_gate_held": "See the quality report {report} and AUDIT.BATCH_GATE / AUDIT.DQ_RESULTS for batch "
                         "{batch_ids} (its file: select FILE_NAME from AUDIT.LOAD_AUDIT where BATCH_ID = "
                         "'{first_batch}'). Fix the file and load it again (a new batch), or after a look set the "
                         "batch's AUDIT.BATCH_GATE row to PUBLISHED and re-run segment_customers.",
    "pipe_pending": "If the pipe is PAUSED, resume it: ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED = FALSE. "
                    "Otherwise check the bucket's event notification to the pipe's channel (notify=auto) or the "
                    "insertFiles call (notify=rest), or queue the files with ALTER PIPE {pipe} REFRESH PREFIX = "
                    "'<folder>/'. Then re-run load_s3_snowpipe: loaded files are not loaded twice.",
    "pipe_stopped": "{pipe_advice}",
    "task_failed": "Open the task log: {log_url}",
    "run_failed": "The run failed without a failed task ({reason}): open it in the Airflow UI and clear or "
                  "re-trigger it: {run_url}",
    "landing_stale": "{landing_hint}",
}

_FILE_TOKEN = re.compile(r"(?<![\w/.\-])((?:/|\w:\\)?[\w./\\\-]*?[\w\-]+\.(?:csv|tsv|txt)(?:\.gz)?)\b", re.I)
_LINE = re.compile(r"\bline (\d+)")
_COLUMN = re.compile(r"\bcolumn \"?([A-Za-z_][\w$]*|\d+)\"?(?:\[[^\]]*\])?(?::\s*([^;\n]+))?")
_HELD = re.compile(r"batch (?P<batch_id>\S+): HELD; (?P<rows>\d+) rows, (?P<quarantined>\d+) quarantined; "
                   r"failed error rules: (?P<rules>.*?); warnings")
_REPORT = re.compile(r"file://(\S+?\.html)")
_PIPE = re.compile(r"not loaded by pipe (\S+)")
_PENDING = re.compile(r"after \d+s: (\[[^\]]*\])")


# --- the way out ------------------------------------------------------------------------------------------------


def alerts_file() -> Path:
    """``SNOWSEG_ALERTS_FILE``, else ``$AIRFLOW_HOME/snowseg_alerts.jsonl`` (``~/airflow`` as Airflow's default)."""
    if path := os.environ.get("SNOWSEG_ALERTS_FILE"):
        return Path(path)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "snowseg_alerts.jsonl"


def send_alert(kind: str, message: str, details: Mapping[str, Any] | None = None) -> dict:
    """Send one alert through every configured channel; return the record written to the alerts file.

    Parameters
    ----------
    kind : str
        One of :data:`WHAT_TO_DO`'s keys (or any short word).
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
    if to := os.environ.get("SNOWSEG_ALERT_SMTP_TO"):
        delivered["smtp"] = _deliver(_send_smtp, record, [a.strip() for a in to.split(",") if a.strip()])
    if spec := os.environ.get("SNOWSEG_ALERT_NOTIFIER"):
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
        to=to, from_email=os.environ.get("SNOWSEG_ALERT_SMTP_FROM") or None,
        smtp_conn_id=os.environ.get("SNOWSEG_ALERT_SMTP_CONN_ID") or None,
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


# --- failure callbacks ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """An alert ready to send: its kind, its text (first line = summary) and its facts."""

    kind: str
    message: str
    details: dict = field(default_factory=dict)

    def send(self) -> dict:
        return send_alert(self.kind, self.message, self.details)


def classify(exc: BaseException | str | None) -> str:
    """The failure kind of an exception (its chain of causes included), for :data:`WHAT_TO_DO`.

    Examples
    --------
    >>> classify(ConnectionError("Snowflake connection 'x' points at h:1, which does not answer"))
    'warehouse_unreachable'
    >>> classify("2 of 2 files not loaded by pipe SALES_RAW_PIPE after 6s: ['a/b.csv']")
    'pipe_pending'
    >>> classify(pipe_states.PipeNotRunning("DB.RAW.P", "STOPPED_STAGE_DROPPED"))
    'pipe_stopped'
    >>> classify(None)
    'task_failed'
    """
    chain = list(_chain(exc)) if isinstance(exc, BaseException) else []
    types = {c.__name__ for e in chain for c in type(e).__mro__}
    text = "\n".join(str(e) for e in chain) if chain else str(exc or "")
    if "GateFailed" in types or "held back by the quality gate" in text:
        return "quality_gate_held"
    if "PipeNotRunning" in types:
        return "pipe_stopped"
    if "WarehouseUnreachable" in types or re.search(
            r"does not answer|Could not connect to Snowflake|Failed to connect to DB|250001", text):
        return "warehouse_unreachable"
    if _PIPE.search(text):
        return "pipe_pending"
    if types & {"FileCheckError", "LoadFailed"} or re.search(r"file\(s\) refused|COPY INTO \S+ failed", text):
        return "file_refused"
    if "FileNotFoundError" in types or "no such file" in text:
        return "input_missing"
    return "task_failed"


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def typed_locations(exc: BaseException | None) -> list[dict]:
    """The files a failure names, from the typed exceptions in its chain: refusals (``refusals``: path, line, field,
    contract column, error) or a failed load (``file`` and ``error``: a located COPY error). Empty if none is typed.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> e = RuntimeError("2 file(s) refused")
    >>> e.refusals = [R(path="/d/b.csv", name="b.csv", line=3, column=2, column_name="BRANCH",
    ...                 error="/d/b.csv: 1 line(s) with bytes that are not valid UTF-8: line 3")]
    >>> typed_locations(e)
    [{'file': '/d/b.csv', 'name': 'b.csv', 'line': 3, 'column': 'BRANCH', 'error': '1 line(s) with bytes that are not valid UTF-8: line 3'}]
    """
    for e in _chain(exc):
        refusals = getattr(e, "refusals", None)
        if refusals:
            return [{"file": r.path, "name": r.name, "line": r.line,
                     "column": r.column_name or (str(r.column) if r.column else None),
                     "error": r.error.splitlines()[0].removeprefix(f"{r.path}: ")} for r in refusals]
        located = getattr(e, "error", None)
        file = getattr(e, "file", None)
        if file and located is not None and hasattr(located, "line"):
            return [{"file": file, "name": _base_name(file), "line": located.line, "column": located.column,
                     "error": located.message}]
    return []


def locate(text: str) -> list[dict]:
    """The files an error message names, each with the line, column and error it gives for it.

    Examples
    --------
    >>> locate("/d/bad.csv: line 21, column 18: record 20 has 18 fields, expected 17 (A, B); fix the row")
    [{'file': '/d/bad.csv', 'name': 'bad.csv', 'line': 21, 'column': '18', 'error': 'record 20 has 18 fields, expected 17 (A, B)'}]
    >>> locate("/d/s.csv: COPY INTO T failed, nothing was loaded (file 3f/s.csv.gz, line 11, character 5, "
    ...        "column QUANTITY: Numeric value 'x7' is not recognized). Recorded in AUDIT.LOAD_AUDIT")[0]["column"]
    'QUANTITY'
    """
    found: dict[str, dict] = {}
    tokens = list(_FILE_TOKEN.finditer(text))
    for i, m in enumerate(tokens):
        segment = text[m.end(): tokens[i + 1].start() if i + 1 < len(tokens) else len(text)]
        path = m.group(1)
        name = _base_name(path)
        entry = found.setdefault(name, {"file": path, "name": name, "line": None, "column": None, "error": None})
        if line := _LINE.search(segment):
            entry["line"] = entry["line"] or int(line.group(1))
        if col := _COLUMN.search(segment):
            entry["column"] = entry["column"] or col.group(1)
            if col.group(2) and not entry["error"]:
                entry["error"] = _balanced(col.group(2))
    return list(found.values())


def _balanced(text: str) -> str:
    """An error text cut out of a sentence: no Snowflake code prefix, no trailing '.' or ')' closing the sentence's '('.

    Examples
    --------
    >>> _balanced("100038 (22018): None: Numeric value 'x7' is not recognized). Recorded in AUDIT.LOAD_AUDIT")
    "Numeric value 'x7' is not recognized"
    """
    text = re.sub(r"^\d{6} \(\w{5}\):\s*(?:[\w-]+:\s*)?", "", text.strip())
    text = re.split(r"\.(?:\s|$)", text)[0].strip()
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].rstrip(".").strip()
    return text


def _base_name(path: str) -> str:
    """'3f9a/sales.csv.gz' and '/data/sales.csv' are the same file: 'sales.csv'."""
    name = re.split(r"[/\\]", path)[-1]
    return name[:-3] if name.lower().endswith((".csv.gz", ".tsv.gz", ".txt.gz")) else name


def files_from_xcom(values: Iterable[Any]) -> list[dict]:
    """File infos (name, path, rows, bytes) found in upstream XComs: FileInfo dicts, refusals, landed files.

    Examples
    --------
    >>> files_from_xcom([{"files": [{"path": "/d/a.csv", "name": "a.csv", "rows": 3, "bytes": 90, "sha256": "x"}],
    ...                   "refused": [{"path": "/d/b.csv", "name": "b.csv", "error": "e", "line": 2, "column": 1}]}])
    [{'name': 'a.csv', 'path': '/d/a.csv', 'rows': 3, 'bytes': 90}, {'name': 'b.csv', 'path': '/d/b.csv', 'rows': 0, 'bytes': None}]
    """
    out: dict[str, dict] = {}

    def walk(v: Any, depth: int = 0) -> None:
        if depth > 4:
            return
        if isinstance(v, Mapping):
            if isinstance(v.get("name"), str) and "path" in v and ("rows" in v or "error" in v):
                out.setdefault(v["path"], {"name": v["name"], "path": v["path"], "rows": v.get("rows", 0),
                                           "bytes": v.get("bytes")})
                return
            for x in v.values():
                walk(x, depth + 1)
        elif isinstance(v, (list, tuple)):
            for x in v[:1000]:
                walk(x, depth + 1)

    for value in values:
        walk(value)
    return list(out.values())


def failure_alert(context: Mapping[str, Any], *, scope: str = "task") -> Alert | None:
    """The alert for a failure callback's context; None when a run-level callback has nothing to add.

    A task-level context gives the DAG, task, run, try, the exception and the task's upstream XComs
    (the checked files and their row counts). A run-level context (``scope="run"``) with reason
    ``task_failure`` returns None: the failed task's own callback has alerted.
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    if scope == "run":
        reason = str(context.get("reason") or "")
        if reason == "task_failure":
            return None
        details = {"dag_id": dag_id, "run_id": run_id, "reason": reason, "run_url": _run_url(dag_id, run_id)}
        return Alert("run_failed", f"{dag_id} run {run_id} failed: {reason or 'unknown reason'}",
                     _with_what_to_do("run_failed", details))

    task_id = getattr(ti, "task_id", None)
    exc = context.get("exception")
    error = str(exc) if exc is not None else "no exception recorded (the task was killed or lost its heartbeat?)"
    kind = classify(exc)
    details: dict[str, Any] = {"dag_id": dag_id, "task_id": task_id, "run_id": run_id,
                               "try_number": getattr(ti, "try_number", None), "exception": error,
                               "exception_type": type(exc).__name__ if exc is not None else None,
                               "log_url": _safe(lambda: ti.log_url)}
    upstream = _upstream_xcoms(context, ti)
    files = _merge_files(files_from_xcom(upstream), typed_locations(exc) or locate(error))
    if files:
        details["files"] = files
    fill: dict[str, Any] = {"error": error.strip().splitlines()[0][:500] if error.strip() else ""}  # template only
    if kind == "quality_gate_held":
        held = [{**m.groupdict(), "rows": int(m["rows"]), "quarantined": int(m["quarantined"])}
                for m in _HELD.finditer(error)]
        details["batches"] = held
        details["report"] = (m.group(1) if (m := _REPORT.search(error)) else "reports/quality/<run id>/index.html")
        fill |= {"batch_ids": ", ".join(b["batch_id"] for b in held) or "?",
                 "first_batch": held[0]["batch_id"] if held else "?"}
        headline = "batch " + "; batch ".join(
            f"{b['batch_id']} held ({b['rows']} rows, {b['quarantined']} quarantined; failed: {b['rules']})"
            for b in held) if held else "a batch was held by the quality gate"
    elif kind == "pipe_pending":
        named = m.group(1) if (m := _PIPE.search(error)) else "SALES_RAW_PIPE"
        details["pipe"] = _qualified_pipe(upstream, named)
        if m := _PENDING.search(error):
            details["pending"] = _safe(lambda: list(ast.literal_eval(m.group(1)))) or m.group(1)
        if m := re.search(r"'executionState': '(\w+)'", error):
            details["execution_state"] = m.group(1)
        headline = f"files still pending on pipe {details['pipe']}" + (
            f" ({details['execution_state']})" if details.get("execution_state") else "")
    elif kind == "pipe_stopped":
        stopped = next(e for e in _chain(exc) if isinstance(e, pipe_states.PipeNotRunning))
        details |= {"pipe": stopped.pipe, "execution_state": stopped.state, "pipe_error": stopped.error,
                    "pending_files": stopped.pending_files}
        fill["pipe_advice"] = stopped.command
        headline = f"pipe {stopped.pipe} is {stopped.state}: it loads nothing until it is fixed"
    elif kind == "warehouse_unreachable":
        from snowseg.warehouse import conn_id_from_env

        details["conn_id"] = (m.group(1) if (m := re.search(r"connection '([^']+)'", error)) else conn_id_from_env())
        headline = f"Snowflake connection {details['conn_id']!r} unreachable"
    elif kind == "file_refused":
        located = [f for f in files if f.get("line") or f.get("error")] or files
        fill["where"] = "; ".join(_where(f) for f in located) or "the file"
        headline = "; ".join(_where(f, short=True) for f in located) or fill["error"]
    else:
        headline = fill["error"][:300] or "failed"
    details = _with_what_to_do(kind, details, **fill)
    if kind == "pipe_pending" and str(details.get("execution_state", "")).upper() == pipe_states.PAUSED:
        details["what_to_do"] = pipe_states.advice(details["pipe"], pipe_states.PAUSED)
    lines = [f"{dag_id}.{task_id} failed: {headline}",
             f"run {run_id}, try {details['try_number']}; kind {kind}"]
    if files:
        lines.append("files: " + "; ".join(_describe_file(f, rows=True) for f in files))
    lines += [f"error: {error.strip()}", f"what to do: {details['what_to_do']}"]
    if details.get("log_url"):
        lines.append(f"log: {details['log_url']}")
    return Alert(kind, "\n".join(lines), details)


def _qualified_pipe(upstream: list[Any], name: str) -> str:
    """DATABASE.SCHEMA.NAME of the pipe `name`, from an upstream XCom of the pipe (prepare_pipe's), else `name`."""
    for v in upstream:
        if isinstance(v, Mapping) and v.get("name") == name and v.get("database") and v.get("schema"):
            return f"{v['database']}.{v['schema']}.{name}"
    return name


def _with_what_to_do(kind: str, details: dict, **fill: Any) -> dict:
    """`details` with ``what_to_do`` from :data:`WHAT_TO_DO`, filled from `details` and the template-only `fill`."""
    class _Missing(dict):
        def __missing__(self, key: str) -> str:
            return "?"

    known = _Missing({k: v for k, v in {**details, **fill}.items() if v is not None})
    details["what_to_do"] = WHAT_TO_DO.get(kind, WHAT_TO_DO["task_failed"]).format_map(known)
    return details


def _where(f: Mapping[str, Any], short: bool = False) -> str:
    """'sales.csv at line 11, column QUANTITY (Numeric value ...)' -- where to look in the file."""
    at = ", ".join(p for p in (f.get("line") and f"line {f['line']}", f.get("column") and f"column {f['column']}")
                   if p)
    error = f.get("error") or ""
    if short and len(error) > 120:
        error = error[:117] + "..."
    return f"{f['name']}" + (f" at {at}" if at else "") + (f" ({error})" if error else "")


def _describe_file(f: Mapping[str, Any], rows: bool = False) -> str:
    size = []
    if rows and f.get("rows") is not None:
        size.append(f"{f['rows']:,} rows")
    if rows and f.get("bytes") is not None:
        size.append(f"{f['bytes']:,} bytes")
    return _where(f) + (f" [{', '.join(size)}]" if size else "")


def _merge_files(from_xcom: list[dict], located: list[dict]) -> list[dict]:
    """One entry per file: XCom's rows and bytes, and the exception's line, column and error."""
    by_name: dict[str, dict] = {}
    for f in from_xcom:
        by_name.setdefault(f["name"], {"name": f["name"], "path": f["path"], "rows": f.get("rows"),
                                       "bytes": f.get("bytes"), "line": None, "column": None, "error": None})
    for f in located:
        entry = by_name.setdefault(f["name"], {"name": f["name"], "path": f["file"], "rows": None, "bytes": None,
                                               "line": None, "column": None, "error": None})
        for k in ("line", "column", "error"):
            entry[k] = entry[k] or f.get(k)
    return list(by_name.values())


def _upstream_xcoms(context: Mapping[str, Any], ti: Any) -> list[Any]:
    task = context.get("task") or getattr(ti, "task", None)
    values = []
    for task_id in sorted(getattr(task, "upstream_task_ids", ()) or ()):
        value = _safe(lambda t=task_id: ti.xcom_pull(task_ids=t))
        if value is not None:
            values.append(value)
    return values


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


def _run_url(dag_id: str | None, run_id: str | None) -> str:
    from urllib.parse import quote

    try:
        from airflow.sdk.configuration import conf

        base = conf.get("api", "base_url", fallback="http://localhost:8080/")
    except Exception:
        base = "http://localhost:8080/"
    return f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(str(run_id))}"


class SnowsegNotifier(BaseNotifier):
    """Airflow notifier: one alert per failed task, with its files, rows, line, column and what to do.

    Parameters
    ----------
    scope : {"task", "run"}
        ``"task"`` (for ``default_args["on_failure_callback"]``): alert on the failed task.
        ``"run"`` (for the DAG's ``on_failure_callback``): alert only when the run failed without a
        failed task (deadlock, run timeout); a task failure has already been alerted by its task.

    Examples
    --------
    >>> SnowsegNotifier(scope="run").scope
    'run'
    """

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render; and dag.test() hands DAG callbacks a SerializedDAG, which has no template env."""

    def __init__(self, *, scope: str = "task"):
        super().__init__()
        if scope not in ("task", "run"):
            raise ValueError(f"SnowsegNotifier scope {scope!r} is not allowed: use 'task' or 'run'")
        self.scope = scope

    def notify(self, context: Any) -> None:
        try:
            alert = failure_alert(context, scope=self.scope)
        except Exception as e:  # the alert must go out even when building its details fails
            log.exception("could not build the alert's details")
            ti = context.get("ti")
            alert = Alert("task_failed", f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')} failed: "
                          f"{context.get('exception')}", {"note": f"details unavailable: {e}"})
        if alert is not None:
            alert.send()


# --- load deadlines (watch_loads) -------------------------------------------------------------------------------


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
        if getattr(e, "errno", None) == 2003:  # no LOAD_AUDIT yet: nothing was ever accounted for
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
        details = _with_what_to_do("landing_stale", details, landing_hint=_landing_hint(details, folder, pipe_state))
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
            f"pipe never heard of it, check the bucket notification (notify=auto) or "
            f"insertFiles (notify=rest), or queue it with ALTER PIPE {pipe} REFRESH PREFIX = '{folder}'. If it was "
            "dropped here by hand, load it with load_s3_snowpipe instead, or remove it.")


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
               "execution_state": state, "pipe_status": dict(status)}
    details = _with_what_to_do("pipe_pending", details)
    if state.upper() == pipe_states.PAUSED:
        details["what_to_do"] = pipe_states.advice(pipe, pipe_states.PAUSED)
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
    >>> f.key, f.details["what_to_do"].split(" (")[0]
    ('pipe_stopped:DB.RAW.P:STOPPED_FILE_FORMAT_DROPPED', 'The pipe stopped because the named file format its COPY uses was dropped or replaced')
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
                  now: datetime | None = None) -> list[Finding]:
    """:func:`stale_landing_files` on the landing area, LOAD_AUDIT and the pipe's load history."""
    from snowseg.loading import snowpipe

    now = now or datetime.now(UTC)
    objects = landing_objects(s3_hook, landing)
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


def _pipe_status(cur: Any, pipe: Any) -> dict | None:
    from snowseg.loading import snowpipe

    try:
        return snowpipe.pipe_status(cur, pipe)
    except Exception as e:
        if getattr(e, "errno", None) == 2003:  # does not exist (or not authorized)
            return None
        raise


class VariableState:
    """Alerted keys and when, in an Airflow Variable (shared by every worker, kept in the metadata DB)."""

    def __init__(self, name: str = STATE_VARIABLE):
        self.name = name

    def load(self) -> dict[str, str]:
        from airflow.sdk import Variable

        value = Variable.get(self.name, default=None, deserialize_json=True)
        return dict(value) if isinstance(value, Mapping) else {}

    def save(self, state: Mapping[str, str]) -> None:
        from airflow.sdk import Variable

        Variable.set(self.name, dict(state), serialize_json=True,
                     description="snowseg watch_loads: alerted keys -> first alert time (delete to re-alert)")


def repeat_after() -> timedelta:
    """``SNOWSEG_ALERT_REPEAT_HOURS`` (default 24): how long one finding stays alerted before it alerts again."""
    return timedelta(hours=float(os.environ.get("SNOWSEG_ALERT_REPEAT_HOURS", DEFAULT_REPEAT_HOURS)))


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
