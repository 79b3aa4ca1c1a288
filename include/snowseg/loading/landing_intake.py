"""Scheduled intake: ``load_bulk_stage`` picks up every new file under a landing folder or prefix, each file once.

The landing (``SNOWSEG_BULK_LANDING``) is a folder or an ``s3://`` prefix under the input roots
(``SNOWSEG_INPUT_ROOTS``); it is listed through Airflow's ``ObjectStoragePath`` (``file://``, or ``s3://`` with the
AWS connection ``SNOWSEG_AWS_CONN_ID``), so one code path serves both, recursively. Which listed files are *new*
is decided from what the warehouse records, so it survives a reset of Airflow's metadata database and a re-run
never loads a file twice:

- ``AUDIT.LANDING_INTAKE`` (migration ``database/V013``) has one row per file a run took: its URL, size and
  last-modified time as listed, and what came of it (``LOADED``, ``PARTIALLY_LOADED``, ``SKIPPED``, ``REFUSED``).
  A listed file whose (URL, size, last-modified) has a row is not even read. A file rewritten in place (another
  size or last-modified) is new again.
- A new file goes through the bulk load (:func:`snowseg.loading.bulk.load_path_files`), which skips content
  that ``AUDIT.LOAD_AUDIT`` already has loaded (its SHA-256). So a file touched or rewritten with the same bytes
  loads nothing (``SKIPPED``); one rewritten with other bytes loads its rows as a new batch (the rows of the
  earlier version stay: raw tables only grow). If a run stops between a load and its ledger row, the next run
  reads the file again and the content rule skips it.

Files still being written are left alone: dot-files and anything under a dot-folder, names or folders starting
with ``_`` (``_temporary/``, ``_SUCCESS``), names containing ``_COPYING_`` or ending ``.tmp``, ``.temp``,
``.part``, ``.partial``, ``.crdownload``, ``.filepart`` or ``~``; and only ``.csv`` and ``.csv.gz`` files are
taken. A file last modified less than ``SNOWSEG_BULK_SETTLE_SECONDS`` ago is left for the next run (a writer
that does not rename into place may still be appending; clocks of the store and the worker should agree within
that margin). Local symlinks are not followed.

Examples
--------
>>> from datetime import datetime, timedelta
>>> t0 = datetime(2026, 12, 1, 6, 0)
>>> a, b = LandingFile("file:///in/a.csv", 10, t0), LandingFile("file:///in/b.csv", 20, t0)
>>> s = select_new([b, a], {a.key}, now=t0 + timedelta(hours=1), settle_seconds=60)
>>> [f.url for f in s.new], [f.url for f in s.taken]
(['file:///in/b.csv'], ['file:///in/a.csv'])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from snowseg import settings
from snowseg.errors import InputError

log = logging.getLogger(__name__)

#: SNOWSEG_BULK_SCHEDULE values that mean "no schedule" (manual and watcher-triggered runs only).
SCHEDULE_OFF = ("off", "none", "never")
#: The file names the intake takes (case-insensitive); the bulk load reads plain and gzip-compressed CSV.
CSV_SUFFIXES = (".csv", ".csv.gz")
#: Name endings of files a writer has not finished (browsers, rsync, scp, WinSCP, Hadoop, editors).
WRITING_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", "~")
#: What ``hadoop fs -put`` calls a file while it copies it.
COPYING_MARKER = "_COPYING_"


class LandingError(InputError):
    """A scheduled-intake setting cannot be used: ``setting`` names it, ``value`` is its value, the message says why."""

    def __init__(self, message: str, *, setting: str, value: str):
        self.setting, self.value = setting, value
        super().__init__(message)


def bulk_schedule() -> str | None:
    """``load_bulk_stage``'s schedule: SNOWSEG_BULK_SCHEDULE (a cron expression or preset, default ``@daily``),
    or None (no schedule) for ``off``.

    Examples
    --------
    >>> import os; os.environ.pop("SNOWSEG_BULK_SCHEDULE", None) and None
    >>> bulk_schedule()
    '@daily'
    >>> os.environ["SNOWSEG_BULK_SCHEDULE"] = " OFF "; bulk_schedule() is None
    True
    >>> del os.environ["SNOWSEG_BULK_SCHEDULE"]
    """
    value = settings.value("SNOWSEG_BULK_SCHEDULE").strip()
    return None if value.lower() in SCHEDULE_OFF else value


def settle_seconds() -> float:
    """SNOWSEG_BULK_SETTLE_SECONDS as a number of seconds (>= 0)."""
    text = settings.value("SNOWSEG_BULK_SETTLE_SECONDS")
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise LandingError(f"SNOWSEG_BULK_SETTLE_SECONDS must be a number of seconds >= 0, got {text!r}",
                           setting="SNOWSEG_BULK_SETTLE_SECONDS", value=text)
    return seconds


def landing_url(value: str | None = None) -> str:
    """The landing as a URL: ``s3://bucket/prefix/`` under an object root of the input roots, a local folder (under a
    folder root) as ``file:///<resolved path>``.

    Parameters
    ----------
    value : str, optional
        Default: SNOWSEG_BULK_LANDING, else the folder ``landing`` in the first input root.

    Raises
    ------
    InputRefused
        A folder or prefix outside the input roots (:func:`snowseg.inputs.confine`,
        :func:`snowseg.storage.confine_url`).
    LandingError
        Another scheme than ``s3://`` or ``file://``.

    Examples
    --------
    >>> import tempfile; from pathlib import Path; root = tempfile.gettempdir()
    >>> landing_url(f"file://{root}/in") == f"file://{Path(root, 'in').resolve()}"
    True
    >>> landing_url("ftp://host/x")
    Traceback (most recent call last):
    ...
    snowseg.loading.landing_intake.LandingError: SNOWSEG_BULK_LANDING must be a folder under the input roots or \
an s3:// prefix, got 'ftp://host/x'
    """
    from snowseg import storage
    from snowseg.inputs import confine, input_roots, object_roots

    text = (value if value is not None else settings.get("SNOWSEG_BULK_LANDING")) or ""
    text = text.strip() or str(input_roots()[0] / "landing")
    if text.startswith("s3://"):
        landing = storage.confine_url(text, object_roots())
        return f"{landing.scheme}://{landing.bucket}/{landing.prefix}"
    if "://" in text and not text.startswith("file://"):
        raise LandingError(f"SNOWSEG_BULK_LANDING must be a folder under the input roots or an s3:// prefix, got "
                           f"{text!r}", setting="SNOWSEG_BULK_LANDING", value=text)
    return f"file://{confine(text.removeprefix('file://'))}"


@dataclass(frozen=True)
class LandingFile:
    """One listed file: its URL and, as the store lists them, its size and last-modified time (naive UTC)."""

    url: str
    size: int
    modified_at: datetime

    @property
    def key(self) -> tuple[str, int, datetime]:
        """What LANDING_INTAKE records of the listing: (URL, size, last-modified)."""
        return (self.url, self.size, self.modified_at)

    @property
    def source(self) -> str:
        """What the bulk load is given: a local file's path, else the URL."""
        return self.url.removeprefix("file://") if self.url.startswith("file://") else self.url

    def describe(self) -> str:
        return f"{self.url} ({self.size} bytes, modified {self.modified_at:%Y-%m-%d %H:%M:%S} UTC)"


@dataclass
class Selection:
    """A listing sorted out: ``new`` (to load, oldest first), ``taken`` (on record), ``settling`` (too young),
    ``ignored`` ((URL, reason): being written, hidden, not CSV)."""

    landing: str
    new: list[LandingFile] = field(default_factory=list)
    taken: list[LandingFile] = field(default_factory=list)
    settling: list[LandingFile] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the log and for a skipped run."""
        return (f"{self.landing}: {len(self.new)} new file(s), {len(self.taken)} taken before, {len(self.settling)} "
                f"left to settle until the next run, {len(self.ignored)} ignored (being written, hidden or not CSV)")


def ignore_reason(relative: str) -> str | None:
    """Why a file at `relative` (its path below the landing) is not taken, or None to take it.

    Examples
    --------
    >>> paths = ("2026/a.csv", "b.CSV.gz", ".c.csv", ".x/d.csv", "_temporary/0/e.csv", "f.csv._COPYING_", "g.csv.tmp",
    ...          "h.csv~", "i.json")
    >>> [ignore_reason(p) for p in paths]  # doctest: +NORMALIZE_WHITESPACE
    [None, None, 'a dot-file or dot-folder', 'a dot-file or dot-folder', 'being written (a _ name)',
     'being written', 'being written', 'being written', 'not a CSV file (.csv, .csv.gz)']
    """
    parts = [p for p in relative.split("/") if p]
    name = parts[-1] if parts else ""
    lower = name.lower()
    if any(p.startswith(".") for p in parts):
        return "a dot-file or dot-folder"
    if any(p.startswith("_") for p in parts):
        return "being written (a _ name)"
    if COPYING_MARKER in name or lower.endswith(WRITING_SUFFIXES):
        return "being written"
    if not lower.endswith(CSV_SUFFIXES):
        return "not a CSV file (.csv, .csv.gz)"
    return None


def modified_at(info: Mapping[str, Any]) -> datetime:
    """A listing entry's last-modified time as naive UTC: ``mtime`` (seconds, local files) or ``LastModified`` (S3).

    Examples
    --------
    >>> modified_at({"mtime": 0.25})
    datetime.datetime(1970, 1, 1, 0, 0, 0, 250000)
    >>> from datetime import timezone, timedelta
    >>> modified_at({"LastModified": datetime(2026, 12, 1, 7, 0, tzinfo=timezone(timedelta(hours=1)))})
    datetime.datetime(2026, 12, 1, 6, 0)
    """
    if info.get("mtime") is not None:
        return datetime.fromtimestamp(float(info["mtime"]), UTC).replace(tzinfo=None)
    value = info.get("LastModified")
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
    raise NotImplementedError(f"listing entry {info.get('name')!r} has no last-modified time (mtime or LastModified)")


def select_new(listing: Iterable[LandingFile], taken: set[tuple[str, int, datetime]], *, now: datetime,
               settle_seconds: float, landing: str = "") -> Selection:
    """Which listed files are new: not on record (`taken`, from LANDING_INTAKE) and at least `settle_seconds` old.

    Parameters
    ----------
    listing : LandingFile
        The files the landing holds (already without ignored names).
    taken : set of (url, size, modified_at)
        The keys LANDING_INTAKE has for this landing and table.
    now : datetime
        Naive UTC.
    settle_seconds : float
        Files modified more recently than this are left for the next run.

    Returns
    -------
    Selection
        ``new`` sorted oldest first (then by URL), so files load in the order they landed.

    Examples
    --------
    >>> from datetime import timedelta
    >>> t = datetime(2026, 12, 1, 6, 0)
    >>> old, young = LandingFile("s3://b/p/a.csv", 5, t), LandingFile("s3://b/p/b.csv", 5, t + timedelta(seconds=50))
    >>> changed = LandingFile("s3://b/p/a.csv", 6, t + timedelta(seconds=1))  # rewritten in place: new
    >>> s = select_new([young, changed], {old.key}, now=t + timedelta(seconds=100), settle_seconds=60)
    >>> [(f.url, f.size) for f in s.new], [f.url for f in s.settling]
    ([('s3://b/p/a.csv', 6)], ['s3://b/p/b.csv'])
    """
    out = Selection(landing)
    for f in sorted(listing, key=lambda f: (f.modified_at, f.url)):
        if f.key in taken:
            out.taken.append(f)
        elif (now - f.modified_at).total_seconds() < settle_seconds:
            out.settling.append(f)
        else:
            out.new.append(f)
    return out


def list_landing(url: str, *, conn_id: str | None = None) -> tuple[list[LandingFile], list[tuple[str, str]]]:
    """Every file under the landing `url` (recursively) through Airflow's ``ObjectStoragePath``: the files to
    consider and the ignored ones with the reason. A local landing folder that does not exist lists nothing.

    Parameters
    ----------
    url : str
        ``file:///folder`` or ``s3://bucket/prefix/`` (:func:`landing_url`).
    conn_id : str, optional
        The AWS connection for ``s3://``; default SNOWSEG_AWS_CONN_ID.
    """
    from airflow.sdk import ObjectStoragePath

    from snowseg import storage

    local = url.startswith("file://")
    if local:
        base = ObjectStoragePath(url)
    else:  # the AWS connection, with a filesystem attached to it when s3fs is not installed
        conn_id = conn_id or storage.aws_conn_id()
        storage.attach_s3(conn_id)
        base = ObjectStoragePath(url, conn_id=conn_id)
    if local and not base.exists():
        log.info("landing folder %s does not exist (yet): nothing to take", url)
        return [], []
    root = base.path.rstrip("/")
    files, ignored = [], []
    for name, info in sorted(base.fs.find(base.path, detail=True).items()):
        full = f"{base.protocol}://{name}" if local else f"s3://{name}"
        if info.get("islink"):
            ignored.append((full, "a symlink (not followed)"))
            continue
        if info.get("type", "file") != "file":
            continue
        reason = ignore_reason(name[len(root):] if name.startswith(root) else name)
        if reason:
            ignored.append((full, reason))
        else:
            files.append(LandingFile(full, int(info["size"]), modified_at(info)))
    return files, ignored


def taken_keys(cur: Any, names: Any, landing: str, target_table: str) -> set[tuple[str, int, datetime]]:
    """The (URL, size, last-modified) keys LANDING_INTAKE has for this landing and table."""
    from snowseg import warehouse as wh

    rows = wh.run(cur, "audit/select_landing_intake.sql", {"landing_url": landing, "target_table": target_table},
                  database=names.database, schema=names.audit)
    return {(str(u), int(s), m.replace(tzinfo=None) if m.tzinfo else m) for u, s, m in rows}


def record_taken(cur: Any, names: Any, landing: str, f: LandingFile, *, target_table: str, load_path: str,
                 status: str, batch_id: str | None, dag_id: str | None, run_id: str | None) -> None:
    """Put one taken file on record in LANDING_INTAKE."""
    from snowseg import warehouse as wh

    wh.run(cur, "audit/insert_landing_intake.sql", {
        "landing_url": landing, "file_url": f.url, "file_size": f.size, "file_modified_at": f.modified_at,
        "target_table": target_table, "load_path": load_path, "status": status, "batch_id": batch_id,
        "dag_id": dag_id, "run_id": run_id, "taken_at": datetime.now(UTC).replace(tzinfo=None),
    }, database=names.database, schema=names.audit)


@dataclass
class Intake:
    """What one scheduled intake did: the listing sorted out and each new file's load results."""

    selection: Selection
    results: list[Any] = field(default_factory=list)  # LoadResult, one per loaded or skipped file


def take_new_files(
    conn: Any, contract: Any, names: Any, *, chunk_bytes: int, parallel: int = 4, purge: bool = True,
    landing: str | None = None, aws_conn_id: str | None = None, settle: float | None = None,
    now: datetime | None = None, dag_id: str | None = None, run_id: str | None = None,
) -> Intake:
    """List the landing, bulk-load each new file (oldest first) and put each on record in LANDING_INTAKE.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    contract, names : the dataset contract and object names.
    chunk_bytes, parallel, purge : as :func:`snowseg.loading.bulk.load_path_files`.
    landing : str, optional
        Default :func:`landing_url` of SNOWSEG_BULK_LANDING.
    settle : float, optional
        Default SNOWSEG_BULK_SETTLE_SECONDS.
    now : datetime, optional
        Naive UTC; default the current time.

    Returns
    -------
    Intake
        No results when no file was new; only ``SKIPPED`` ones when every new file's content was loaded before.

    Raises
    ------
    snowseg.loading.intake.FilesRefused
        After every other new file was loaded, naming the refused ones (each is on record as REFUSED in
        LOAD_AUDIT and LANDING_INTAKE, so it is not taken again until it changes).
    snowseg.errors.WarehouseNotSetUp
        The versioned setup lacks LANDING_INTAKE (migration database/V013) or the dataset's objects.
    """
    from snowseg import migrations
    from snowseg.loading import bulk, intake
    from snowseg.objects import raw_table

    url = landing_url(landing)
    target = raw_table(names, contract)
    with conn.cursor() as cur:
        migrations.require(cur, names, contract)
        taken = taken_keys(cur, names, url, target)
    files, ignored = list_landing(url, conn_id=aws_conn_id)
    selection = select_new(files, taken, now=now or datetime.now(UTC).replace(tzinfo=None),
                           settle_seconds=settle_seconds() if settle is None else settle, landing=url)
    selection.ignored = ignored
    log.info(selection.describe())
    for url_, reason in ignored:
        log.info("ignored %s: %s", url_, reason)
    for f in selection.settling:
        log.info("left for the next run (modified less than the settle time ago): %s", f.describe())

    done = Intake(selection)
    refusals: list[intake.Refusal] = []
    for f in selection.new:
        log.info("taking %s", f.describe())
        try:
            results = bulk.load_path_files(conn, f.source, contract, names, chunk_bytes=chunk_bytes,
                                           parallel=parallel, purge=purge, dag_id=dag_id, run_id=run_id)
        except intake.FilesRefused as e:
            refusals += e.refusals
            status, batch_id = "REFUSED", None
        except FileNotFoundError:
            log.warning("%s went away after it was listed; the next run looks again", f.url)
            continue
        else:
            done.results += results
            status, batch_id = (results[0].status, results[0].batch_id) if results else ("SKIPPED", None)
        with conn.cursor() as cur:
            record_taken(cur, names, url, f, target_table=target, load_path=bulk.LOAD_PATH, status=status,
                         batch_id=batch_id, dag_id=dag_id, run_id=run_id)
    if refusals:
        for r in done.results:
            log.info(r.message)
        raise intake.refused_error(refusals, names)
    return done

