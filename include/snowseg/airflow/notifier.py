"""Failure callbacks: one alert per failed task, built from the typed failure the task raised.

:class:`SnowsegNotifier` is every task's ``on_failure_callback`` (through the DAGs' ``default_args``,
:func:`snowseg.airflow.tasks.default_args`). In Airflow 3 a task's failure callback runs in the task's own process,
after the task failed: ``context["exception"]`` is the exception object itself. A task that fails for good raises
``AirflowFailException`` whose cause is the typed failure (:func:`snowseg.airflow.tasks.fail`), so
:func:`failure_alert` walks the chain of causes (:func:`failure_chain`), finds the typed failure (:func:`classify`)
and reads its fields: the held batches of :class:`~snowseg.quality.gate.GateFailed`, the refused files of
:class:`~snowseg.loading.intake.FilesRefused` (line, column, error), the located COPY error of
:class:`~snowseg.loading.common.LoadFailed`, the pipe, pending files and state of
:class:`~snowseg.loading.pipe_states.PipeFilesPending` / :class:`~snowseg.loading.pipe_states.PipeNotRunning`. Row
counts come from the upstream tasks' XComs. The exception's text is shown, never parsed.

What to do comes from the failure itself (``what_to_do``, written once by its class) or, for the failures that are
not ours and for Airflow-side steps (re-trigger, clear, open the log), from :data:`WHAT_TO_DO`.

At DAG level, ``SnowsegNotifier(scope="run")`` only speaks for runs that failed *without* a failed task (deadlock,
run timeout): such a run has no exception object, only its reason; a failed task is never alerted twice.
Alerts go out through :func:`snowseg.alerting.delivery.send_alert` (channels, redaction).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from snowseg import sf_errors
from snowseg.alerting.delivery import send_alert
from snowseg.loading.checks import FileCheckError
from snowseg.loading.common import LoadFailed
from snowseg.loading.intake import FilesRefused
from snowseg.loading.pipe_states import PipeFilesPending, PipeNotRunning
from snowseg.quality.gate import GateFailed
from snowseg.warehouse import WarehouseUnreachable

log = logging.getLogger(__name__)

# kind -> what to do, for failures whose class does not say (not ours, or the step is Airflow's); {placeholders} are
# filled from the alert (a missing one reads "?")
WHAT_TO_DO = {
    "file_refused": "Fix {where} and load it again with {dag_id} (a fixed file is a new batch; the refused or "
                    "failed content stays on record once in AUDIT.LOAD_AUDIT, its rejected rows in "
                    "RAW.SALES_REJECTED).",
    "input_missing": "Check the run's file/path param: {error}. The file must exist on the Airflow worker; then "
                     "trigger {dag_id} again.",
    "warehouse_unreachable": "Check the Snowflake connection {conn_id!r} (host/port extras, credentials, network); "
                             "for the local twin run `make twin-up` (`make twin-status` shows it). Then clear the "
                             "failed task: nothing is loaded twice.",
    "task_failed": "Open the task log: {log_url}",
    "run_failed": "The run failed without a failed task ({reason}): open it in the Airflow UI and clear or "
                  "re-trigger it: {run_url}",
}


# the typed failures, by alert kind, in the order they decide it (a held batch before a pipe before a file...)
_KINDS: tuple[tuple[str, type[BaseException] | tuple[type[BaseException], ...]], ...] = (
    ("quality_gate_held", GateFailed),
    ("pipe_stopped", PipeNotRunning),
    ("pipe_pending", PipeFilesPending),
    ("warehouse_unreachable", WarehouseUnreachable),
    ("file_refused", (FileCheckError, LoadFailed)),
    ("input_missing", FileNotFoundError),
)


@dataclass(frozen=True)
class Alert:
    """An alert ready to send: its kind, its text (first line = summary) and its facts."""

    kind: str
    message: str
    details: dict = field(default_factory=dict)

    def send(self) -> dict:
        return send_alert(self.kind, self.message, self.details)


def failure_chain(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc`, then its cause (``raise ... from``) or context, and theirs: each exception once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def classify(exc: BaseException | None) -> tuple[str, BaseException | None]:
    """The alert kind of a failure and the typed exception in its chain that decides it (None for ``task_failed``).

    Examples
    --------
    >>> from snowseg.loading.pipe_states import PipeNotRunning
    >>> from airflow.sdk.exceptions import AirflowFailException
    >>> stopped = PipeNotRunning("DB.RAW.P", "STOPPED_STAGE_DROPPED")
    >>> try:
    ...     raise AirflowFailException(str(stopped)) from stopped
    ... except AirflowFailException as e:
    ...     kind, failure = classify(e)
    >>> kind, failure is stopped
    ('pipe_stopped', True)
    >>> classify(RuntimeError("boom")), classify(None)
    (('task_failed', None), ('task_failed', None))
    """
    chain = list(failure_chain(exc))
    for kind, types in _KINDS:
        if typed := next((e for e in chain if isinstance(e, types)), None):
            return kind, typed
    if unreachable := next((e for e in chain if sf_errors.errno_of(e) == sf_errors.UNREACHABLE), None):
        return "warehouse_unreachable", unreachable
    return "task_failed", None


def file_locations(failure: BaseException | None) -> list[dict]:
    """The files a typed failure names, with line, column and error: each refusal of a
    :class:`~snowseg.loading.intake.FilesRefused`, or the file and located COPY error of a
    :class:`~snowseg.loading.common.LoadFailed`. Empty for any other failure.

    Examples
    --------
    >>> from snowseg.loading.intake import FilesRefused, Refusal
    >>> r = Refusal(path="/d/b.csv", name="b.csv", error="/d/b.csv: 1 line(s) with bytes that are not valid UTF-8: "
    ...             "line 3", line=3, column=2, bytes=9, sha256="x", column_name="BRANCH")
    >>> file_locations(FilesRefused("1 file(s) refused", refusals=[r]))  # doctest: +NORMALIZE_WHITESPACE
    [{'file': '/d/b.csv', 'name': 'b.csv', 'line': 3, 'column': 'BRANCH',
      'error': '1 line(s) with bytes that are not valid UTF-8: line 3'}]
    """
    if isinstance(failure, FilesRefused):
        # the refusal's message names its file first; the alert shows the file apart, so the text goes without it
        return [{"file": r.path, "name": r.name, "line": r.line,
                 "column": r.column_name or (str(r.column) if r.column else None),
                 "error": r.error.splitlines()[0].removeprefix(f"{r.path}: ")} for r in failure.refusals]
    if isinstance(failure, LoadFailed) and failure.file:
        located = failure.error
        return [{"file": failure.file, "name": _base_name(failure.file), "line": located.line if located else None,
                 "column": located.column if located else None, "error": located.message if located else None}]
    return []


def failure_alert(context: Mapping[str, Any], *, scope: str = "task") -> Alert | None:
    """The alert for a failure callback's context; None when a run-level callback has nothing to add.

    A task-level context gives the DAG, task, run, try, the exception (with its typed cause) and the task's
    upstream XComs (the checked files and their row counts). A run-level context (``scope="run"``) has no
    exception, only a reason: with reason ``task_failure`` it returns None (the failed task's own callback
    has alerted), otherwise a ``run_failed`` alert.
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    if scope == "run":
        reason = str(context.get("reason") or "")
        if reason == "task_failure":
            return None
        run_url = _run_url(dag_id, run_id)
        return Alert("run_failed", f"{dag_id} run {run_id} failed: {reason or 'unknown reason'}",
                     {"dag_id": dag_id, "run_id": run_id, "reason": reason, "run_url": run_url,
                      "what_to_do": _fill("run_failed", reason=reason, run_url=run_url)})

    task_id = getattr(ti, "task_id", None)
    exc = context.get("exception")
    error = str(exc) if exc is not None else "no exception recorded (the task was killed or lost its heartbeat?)"
    first_line = error.strip().splitlines()[0][:500] if error.strip() else ""
    kind, failure = classify(exc)
    details: dict[str, Any] = {"dag_id": dag_id, "task_id": task_id, "run_id": run_id,
                               "try_number": getattr(ti, "try_number", None), "exception": error,
                               "exception_type": type(exc).__name__ if exc is not None else None,
                               "log_url": _safe(lambda: getattr(ti, "log_url", None))}
    files = _merge_files(files_from_xcom(_upstream_xcoms(context, ti)), file_locations(failure))
    if files:
        details["files"] = files
    if isinstance(failure, GateFailed):
        held = [{"batch_id": v.batch_id, "rows": v.rows, "quarantined": v.quarantined, "rules": v.failed_rules}
                for v in failure.held]
        details |= {"batches": held, "report": failure.report_path}
        headline = "batch " + "; batch ".join(
            f"{b['batch_id']} held ({b['rows']} rows, {b['quarantined']} quarantined; failed: {b['rules']})"
            for b in held) if held else "a batch was held by the quality gate"
        what_to_do = failure.what_to_do
    elif isinstance(failure, PipeFilesPending):
        details |= {"pipe": failure.pipe, "pending": failure.pending, "execution_state": failure.state}
        headline = f"files still pending on pipe {failure.pipe} ({failure.state})"
        what_to_do = failure.what_to_do
    elif isinstance(failure, PipeNotRunning):
        details |= {"pipe": failure.pipe, "execution_state": failure.state, "pipe_error": failure.error,
                    "pending_files": failure.pending_files}
        headline = f"pipe {failure.pipe} is {failure.state}: it loads nothing until it is fixed"
        what_to_do = failure.what_to_do
    elif kind == "warehouse_unreachable":
        from snowseg.warehouse import conn_id_from_env

        details["conn_id"] = conn_id_from_env()  # the DAGs' tasks all connect through it
        headline = f"Snowflake connection {details['conn_id']!r} unreachable"
        what_to_do = _fill(kind, conn_id=details["conn_id"])
    elif kind == "file_refused":
        located = [f for f in files if f.get("line") or f.get("error")] or files
        headline = "; ".join(_where(f, short=True) for f in located) or first_line
        what_to_do = _fill(kind, where="; ".join(_where(f) for f in located) or "the file", dag_id=dag_id)
    elif kind == "input_missing":
        headline = first_line[:300]
        what_to_do = _fill(kind, error=first_line, dag_id=dag_id)
    else:
        headline = first_line[:300] or "failed"
        what_to_do = _fill(kind, log_url=details["log_url"])
    details["what_to_do"] = what_to_do
    lines = [f"{dag_id}.{task_id} failed: {headline}",
             f"run {run_id}, try {details['try_number']}; kind {kind}"]
    if files:
        lines.append("files: " + "; ".join(_describe_file(f, rows=True) for f in files))
    lines += [f"error: {error.strip()}", f"what to do: {what_to_do}"]
    if details.get("log_url"):
        lines.append(f"log: {details['log_url']}")
    return Alert(kind, "\n".join(lines), details)


def _fill(kind: str, **values: Any) -> str:
    """:data:`WHAT_TO_DO`'s advice for `kind`, filled with `values` (None and missing ones read "?")."""
    class _Missing(dict):
        def __missing__(self, key: str) -> str:
            return "?"

    return WHAT_TO_DO[kind].format_map(_Missing({k: v for k, v in values.items() if v is not None}))


def _base_name(path: str) -> str:
    """'3f9a/sales.csv.gz' and '/data/sales.csv' are the same file: 'sales.csv'."""
    name = PurePath(path.replace("\\", "/")).name
    return name[:-3] if name.lower().endswith((".csv.gz", ".tsv.gz", ".txt.gz")) else name


def files_from_xcom(values: Iterable[Any]) -> list[dict]:
    """File infos (name, path, rows, bytes) found in upstream XComs: FileInfo dicts, refusals, landed files.

    Examples
    --------
    >>> files_from_xcom([{"files": [{"path": "/d/a.csv", "name": "a.csv", "rows": 3, "bytes": 90, "sha256": "x"}],
    ...                   "refused": [{"path": "/d/b.csv", "name": "b.csv", "error": "e", "line": 2, "column": 1}]}])
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'name': 'a.csv', 'path': '/d/a.csv', 'rows': 3, 'bytes': 90},
     {'name': 'b.csv', 'path': '/d/b.csv', 'rows': 0, 'bytes': None}]
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
