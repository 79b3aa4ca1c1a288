"""What ``SYSTEM$PIPE_STATUS`` says about a pipe, and what to do about it: the one owner of these facts.

Snowflake's ``executionState`` (https://docs.snowflake.com/en/sql-reference/functions/system_pipe_status) is
RUNNING, PAUSED, FAILING_OVER, READ_ONLY, one of the STOPPED_* states (STOPPED_FILE_FORMAT_DROPPED,
STOPPED_STAGE_DROPPED, STOPPED_MISSING_TABLE, ...) or one of the STALLED_* states. Files queued on the pipe
still load in the :data:`WAITABLE` states: RUNNING; PAUSED once someone resumes it (a deliberate, reversible
act: "This count can increase even if a pipe is paused"); FAILING_OVER (a failover under way). In any other state
the pipe loads nothing until someone changes its objects, so waiting on it is pointless: :func:`require_waitable`
raises :class:`PipeNotRunning` with the state, Snowflake's ``error`` and what to do (:func:`advice`). Files that a
waitable pipe has not loaded in time are :class:`PipeFilesPending` (what to do: :func:`pending_advice`). Every piece of
advice about a pipe is written here once; the sensor, the notifier and the watcher read it from here.

:func:`parse_timestamp` reads the status's timestamps (``oldestFileTimestamp``, ``lastIngestedTimestamp``...),
whose format the docs leave open (``"oldestFileTimestamp":<value>`` is even shown unquoted).

Examples
--------
>>> waitable({"executionState": "PAUSED"}), waitable({"executionState": "STOPPED_FILE_FORMAT_DROPPED"}), waitable({})
(True, False, True)
>>> require_waitable("DB.RAW.P", {"executionState": "STOPPED_FILE_FORMAT_DROPPED", "pendingFileCount": 2,
...                               "error": "File format DB.RAW.F was dropped"})
Traceback (most recent call last):
...
snowseg.loading.pipe_states.PipeNotRunning: pipe DB.RAW.P is STOPPED_FILE_FORMAT_DROPPED (2 files pending; ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from snowseg.errors import ConfigurationError, SnowsegError

RUNNING = "RUNNING"
PAUSED = "PAUSED"
FAILING_OVER = "FAILING_OVER"
#: states in which the files queued on a pipe still load without a change to its objects
WAITABLE = frozenset({RUNNING, PAUSED, FAILING_OVER})

# a STOPPED_* state -> the object whose loss stopped the pipe
_LOST_OBJECT = {
    "STOPPED_FILE_FORMAT_DROPPED": "the named file format its COPY uses",
    "STOPPED_STAGE_DROPPED": "the stage its COPY reads",
    "STOPPED_STAGE_ALTERED": "the location (URL) of the stage its COPY reads",
    "STOPPED_MISSING_TABLE": "the table its COPY loads",
    "STOPPED_NOTIFICATION_INTEGRATION_DROPPED": "its notification integration",
}
_RERUN = "Then re-run load_s3_snowpipe for them so that they are accounted for (nothing is loaded twice)."
_PAUSED = "The pipe is PAUSED: resume it with {resume}; its pending files then load. " + _RERUN
_QUEUE = ("check the bucket's event notification to the pipe's channel (notify=auto) or the insertFiles call "
          "(notify=rest), or queue the files with ALTER PIPE {pipe} REFRESH PREFIX = '{folder}'")
_PENDING = ("If the pipe is PAUSED, resume it: {resume}. Otherwise {queue}. Then re-run load_s3_snowpipe: loaded files "
            "are not loaded twice.")
_RECREATE = (
    "The pipe stopped because {lost} was dropped or replaced (CREATE OR REPLACE drops the old object, and a pipe never "
    "follows the new one); it loads nothing until it is recreated. An admin recreates it from its definition, once "
    "the object is back: CREATE OR REPLACE PIPE {pipe} AUTO_INGEST = TRUE AS <the COPY that DESC PIPE {pipe} shows>, "
    "grants OPERATE and MONITOR on it to the service role again, and checks that SYSTEM$PIPE_STATUS('{pipe}') says "
    "RUNNING. Then re-run load_s3_snowpipe with the same files: they land on the same keys and the new pipe loads "
    "them (no ALTER PIPE ... REFRESH without a PREFIX: a recreated pipe has no load history and would load the last "
    "7 days of files again). Change file formats and stages with ALTER (as the migrations do), never CREATE OR "
    "REPLACE."
)
_STALLED = ("Snowpipe cannot run the pipe's COPY ({state}): the \"error\" of SYSTEM$PIPE_STATUS('{pipe}') says why "
            "(often a missing privilege on the stage, its storage integration or the table, or a dropped object). "
            "Fix that, check that the state is RUNNING again, then re-run load_s3_snowpipe.")
_READ_ONLY = ("The pipe is READ_ONLY: it or its table is in a secondary (replica) database, where pipes load nothing. "
              "Load through the primary account's pipe, or promote this database to primary.")
_CLONED = ("The pipe belongs to a cloned database or schema (STOPPED_CLONED), where pipes never load. Load through the "
           "original's pipe, or recreate this one: CREATE OR REPLACE PIPE {pipe} AUTO_INGEST = TRUE AS <the COPY that "
           "DESC PIPE {pipe} shows>.")
_OTHER = ("The pipe is {state} and loads nothing: see SYSTEM$PIPE_STATUS('{pipe}') and its \"error\"; a pipe stopped "
          "by Snowflake (STOPPED_BY_SNOWFLAKE_ADMIN, STOPPED_FEATURE_DISABLED) is a matter for Snowflake Support, "
          "otherwise an admin recreates it (CREATE OR REPLACE PIPE {pipe} ... AS <the COPY that DESC PIPE {pipe} "
          "shows>). Then re-run load_s3_snowpipe.")


def execution_state(status: Mapping[str, Any] | None) -> str:
    """The status's executionState, upper case ('UNKNOWN' when there is none)."""
    return str((status or {}).get("executionState") or "UNKNOWN").upper()


def waitable(status: Mapping[str, Any] | None) -> bool:
    """Whether files queued on the pipe still load without anyone recreating or fixing its objects (a status without
    an executionState gives nothing to judge by: it is waited on)."""
    return not (status or {}).get("executionState") or execution_state(status) in WAITABLE


def advice(pipe: str, state: str) -> str:
    """What to do about a pipe in `state` (any executionState but RUNNING).

    Examples
    --------
    >>> advice("DB.RAW.P", "PAUSED").split(";")[0]
    'The pipe is PAUSED: resume it with ALTER PIPE DB.RAW.P SET PIPE_EXECUTION_PAUSED = FALSE'
    >>> advice("DB.RAW.P", "STOPPED_FILE_FORMAT_DROPPED").split(" (")[0]
    'The pipe stopped because the named file format its COPY uses was dropped or replaced'
    """
    state = state.upper()
    if state == PAUSED:
        return _PAUSED.format(resume=resume_command(pipe))
    if state in _LOST_OBJECT:
        return _RECREATE.format(pipe=pipe, lost=_LOST_OBJECT[state])
    if state.startswith("STALLED_"):
        return _STALLED.format(pipe=pipe, state=state)
    if state == "READ_ONLY":
        return _READ_ONLY
    if state == "STOPPED_CLONED":
        return _CLONED.format(pipe=pipe)
    return _OTHER.format(pipe=pipe, state=state)


def resume_command(pipe: str) -> str:
    """The statement that resumes a PAUSED pipe.

    Examples
    --------
    >>> resume_command("DB.RAW.P")
    'ALTER PIPE DB.RAW.P SET PIPE_EXECUTION_PAUSED = FALSE'
    """
    return f"ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED = FALSE"


def queue_advice(pipe: str, folder: str = "<folder>/") -> str:
    """How files a pipe never heard of reach it: the bucket notification, insertFiles, or REFRESH of `folder`."""
    return _QUEUE.format(pipe=pipe, folder=folder)


def pending_advice(pipe: str, state: str | None = None) -> str:
    """What to do about files a pipe in `state` (a waitable one, or unknown) has not loaded yet.

    Examples
    --------
    >>> pending_advice("DB.RAW.P", "PAUSED") == advice("DB.RAW.P", "PAUSED")
    True
    >>> pending_advice("DB.RAW.P", "RUNNING").split(". Otherwise")[0]
    'If the pipe is PAUSED, resume it: ALTER PIPE DB.RAW.P SET PIPE_EXECUTION_PAUSED = FALSE'
    """
    if (state or "").upper() == PAUSED:
        return advice(pipe, PAUSED)
    return _PENDING.format(resume=resume_command(pipe), queue=queue_advice(pipe))


class PipeNotRunning(ConfigurationError):
    """A pipe in a state where it loads nothing (not :data:`WAITABLE`): waiting for it cannot help.

    ``pipe`` (DATABASE.SCHEMA.NAME), ``state`` (its executionState), ``error`` (SYSTEM$PIPE_STATUS's "error", if
    any), ``pending_files`` (pendingFileCount), ``pipe_status`` (the whole status) and ``command`` (what to do).
    """

    def __init__(self, pipe: str, state: str, *, error: str | None = None, pending_files: int = 0,
                 pipe_status: Mapping[str, Any] | None = None):
        self.pipe, self.state, self.error, self.pending_files = pipe, state, error, pending_files
        self.pipe_status = dict(pipe_status or {})
        self.command = self.what_to_do = advice(pipe, state)
        said = f"; Snowflake says: {error}" if error else ""
        super().__init__(f"pipe {pipe} is {state} ({pending_files} files pending; it loads nothing in this state)"
                         f"{said}. What to do: {self.command}")

    @classmethod
    def from_status(cls, pipe: str, status: Mapping[str, Any]) -> PipeNotRunning:
        error = status.get("error")
        return cls(pipe, execution_state(status), error=str(error) if error else None,
                   pending_files=int(status.get("pendingFileCount") or 0), pipe_status=status)


class PipeFilesPending(SnowsegError):
    """Files a waitable pipe has not loaded within the wait: ``pipe`` (DATABASE.SCHEMA.NAME, or as much of it as is
    known), ``pending`` (their staged paths), ``total`` (the files waited for), ``waited_seconds``, ``pipe_status``
    (SYSTEM$PIPE_STATUS at the end), ``state`` (its executionState) and ``what_to_do`` (:func:`pending_advice`).

    Examples
    --------
    >>> e = PipeFilesPending("DB.RAW.P", ["s_ab/a.csv"], total=2, waited_seconds=60,
    ...                      pipe_status={"executionState": "PAUSED", "pendingFileCount": 1})
    >>> (e.state, e.pending, e.what_to_do.split(":")[0])
    ('PAUSED', ['s_ab/a.csv'], 'The pipe is PAUSED')
    """

    def __init__(self, pipe: str, pending: list[str], *, total: int, waited_seconds: float,
                 pipe_status: Mapping[str, Any] | None = None):
        self.pipe, self.pending, self.total, self.waited_seconds = pipe, list(pending), total, waited_seconds
        self.pipe_status = dict(pipe_status or {})
        self.state = execution_state(self.pipe_status)
        self.what_to_do = pending_advice(pipe, self.state)
        super().__init__(f"{len(self.pending)} of {total} files not loaded by pipe {pipe} after {waited_seconds:.0f}s: "
                         f"{self.pending}; SYSTEM$PIPE_STATUS = {self.pipe_status}. What to do: {self.what_to_do}")


def require_waitable(pipe: str, status: Mapping[str, Any]) -> None:
    """Raise :class:`PipeNotRunning` unless the pipe's state is :data:`WAITABLE`."""
    if not waitable(status):
        raise PipeNotRunning.from_status(pipe, status)


_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SPACED_OFFSET = re.compile(r"\s+(?=[+-]\d{2}:?\d{2}$)")
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_timestamp(value: object) -> datetime:
    """A SYSTEM$PIPE_STATUS timestamp as an aware datetime (UTC when the value names no zone).

    Accepts ISO-8601 text (``2026-01-01T11:40:00.000Z``, any number of fractional digits, ``T`` or a space, a zone as
    ``Z``, ``UTC``, ``+00:00``, ``-0800`` or none), and epoch numbers (or their text) in seconds, milliseconds,
    microseconds or nanoseconds, told apart by magnitude.

    Raises
    ------
    ValueError
        Naming the value, when it is none of these.

    Examples
    --------
    >>> [parse_timestamp(v).isoformat() for v in ("2026-01-01T11:40:00.000Z", "2026-01-01 03:40:00.5 -0800",
    ...                                            1767267600000, "1767267600")]  # doctest: +NORMALIZE_WHITESPACE
    ['2026-01-01T11:40:00+00:00', '2026-01-01T03:40:00.500000-08:00', '2026-01-01T11:40:00+00:00',
     '2026-01-01T11:40:00+00:00']
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"pipe status timestamp {value!r} is not a timestamp: expected ISO-8601 text or epoch digits")
    text = value.strip()
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    text = re.sub(r"(?:\s*UTC|[Zz])$", "+00:00", text)
    text = _COMPACT_OFFSET.sub(r"\1:\2", _SPACED_OFFSET.sub("", text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"pipe status timestamp {value!r} is not a timestamp: expected ISO-8601 text (eg: "
                         "2026-01-01T11:40:00.000Z) or epoch digits") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_epoch(number: float) -> datetime:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (by magnitude: seconds reach 1e11 in year 5138)."""
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(number) < 1e11 * scale:
            return datetime.fromtimestamp(number / scale, tz=UTC)
    raise ValueError(f"pipe status timestamp {number!r} is out of range")
