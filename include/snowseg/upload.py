"""Upload from the browser: a CSV (or gzip) received by the loads monitor, stored under the input roots, loaded by
``load_small_file``.

The loads monitor's form (``plugins/snowseg_monitor.py``, ``/snowseg/upload``) hands the request body to
:func:`receive`, which parses the multipart stream as it arrives (python-multipart's push parser, never the whole
body in memory or a spooled copy first):

1. the form's CSRF token must come before the file and be valid (:func:`check_csrf_token`);
2. the file name is validated (:func:`safe_name`: no path parts, no control characters, ``.csv``, ``.csv.gz`` or
   ``.gz``) before a byte of it is written;
3. the bytes go to a partial file in the upload folder's ``.incoming/`` (a dot-folder: never an input of a load),
   counted as they come: past the small-file limit the upload stops and the partial file is deleted
   (:class:`UploadTooLarge`);
4. the first bytes must agree with the name (gzip magic for ``.gz``; no NUL byte in a ``.csv``);
5. :func:`store` moves it to ``<upload dir>/<day>/<time>-<id>-<safe name>`` (unique, so two uploads of
   ``sales.csv`` never clash), confined to the input roots like any ``file_path``; for an ``s3://`` upload dir it is
   written under that prefix instead;
6. :func:`trigger` starts ``load_small_file`` with that ``file_path`` through Airflow's own
   ``airflow.api.common.trigger_dag`` (the api-server's process; the DAG's params are validated as for any trigger),
   naming the uploader as the run's triggering user and in its note.

The content checks (header, UTF-8, gzip integrity, ragged records) are the DAG's ``check_file``: one owner of the
checks, and every refusal lands in ``LOAD_AUDIT`` as ``REFUSED`` with the file, line and column, which the fate page
(:func:`fate`) shows. The size limit is the contract's ``csv.max_file_mb``, the same the DAG applies.

Examples
--------
>>> safe_name("Sales report (May).csv")
'Sales_report_May.csv'
>>> safe_name("../../etc/passwd.csv")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
snowseg.upload.UploadBadName: the file name '../../etc/passwd.csv' is refused: it has path parts ...
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg import settings, storage
from snowseg.errors import InputError
from snowseg.loading.scan import GZIP_MAGIC

#: The DAG an upload triggers.
UPLOAD_DAG = "load_small_file"
#: The name endings the form takes (case-insensitive); a gzip file must end in ``.gz``.
SUFFIXES = (".csv.gz", ".csv", ".gz")
#: The form's fields: the CSRF token first, then the file.
TOKEN_FIELD, FILE_FIELD = "csrf_token", "file"
#: How long a form's CSRF token is good for.
TOKEN_SECONDS = 4 * 3600
#: Multipart framing allowed beyond the file's own bytes (boundaries, part headers, the token field).
OVERHEAD = 64 * 1024
#: Where partial uploads are written (below the local upload folder; a dot-folder is never a load input).
INCOMING = ".incoming"
#: The longest safe name kept (the stored name adds a time and an id before it).
NAME_CHARS = 100


class UploadRefused(InputError):
    """An upload the monitor refused before anything was stored or triggered: ``status`` is the HTTP status,
    ``reason`` a short code (``too_large``, ``wrong_type``, ``bad_name``, ``missing``, ``csrf``, ``bad_request``),
    ``name`` the file name as sent (None when there was none)."""

    status = 400
    reason = "bad_request"

    def __init__(self, message: str, *, name: str | None = None):
        super().__init__(message)
        self.name = name


class UploadTooLarge(UploadRefused):
    """Over the small-file limit: ``limit_bytes``; ``received`` is how far the upload got (or its Content-Length)."""

    status, reason = 413, "too_large"

    def __init__(self, message: str, *, name: str | None, limit_bytes: int, received: int):
        super().__init__(message, name=name)
        self.limit_bytes, self.received = limit_bytes, received


class UploadWrongType(UploadRefused):
    """Not a CSV or gzip file, by its name or by its first bytes."""

    status, reason = 415, "wrong_type"


class UploadBadName(UploadRefused):
    """A file name that cannot be kept: path parts, control characters, nothing left of it."""

    reason = "bad_name"


class UploadMissing(UploadRefused):
    """The form came without a file."""

    reason = "missing"


class CsrfRefused(UploadRefused):
    """The request did not come from the monitor's own form (origin, or the form's token)."""

    status, reason = 403, "csrf"


def limit_bytes(contract: Any | None = None) -> int:
    """The small-file limit in bytes: the dataset contract's ``csv.max_file_mb`` (MB = 10**6 bytes), as
    ``load_small_file``'s ``check_file`` applies it (default: the DAG's default contract)."""
    if contract is None:
        contract = default_contract()
    return int(contract.csv.max_file_mb * 1_000_000)


def default_contract() -> Any:
    """The contract an upload is loaded with: ``load_small_file``'s default contract (``DEFAULT_CONTRACT_NAME``)."""
    from snowseg.config import DEFAULT_CONTRACT_NAME, contract_path, load_contract

    return load_contract(contract_path(DEFAULT_CONTRACT_NAME))


# --- the name --------------------------------------------------------------------------------------------------


def suffix_of(name: str) -> str | None:
    """The accepted ending of `name` (lower case), or None.

    >>> suffix_of("a.CSV.GZ"), suffix_of("a.csv"), suffix_of("a.xlsx")
    ('.csv.gz', '.csv', None)
    """
    lower = name.lower()
    return next((s for s in SUFFIXES if lower.endswith(s) and len(lower) > len(s)), None)


def safe_name(original: str) -> str:
    """The name an upload is stored under (before its time and id): letters, digits, ``.``, ``_`` and ``-`` only,
    no leading dot, at most :data:`NAME_CHARS` characters, its ending kept.

    Raises
    ------
    UploadBadName
        Empty, path parts (``/``, ``\\``, ``..``), control characters, or nothing left once cleaned.
    UploadWrongType
        Not ``.csv``, ``.csv.gz`` or ``.gz``.

    Examples
    --------
    >>> safe_name("ventes été.CSV")
    'ventes_ete.CSV'
    >>> safe_name(".env.csv")
    'env.csv'
    >>> safe_name("report.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.upload.UploadWrongType: 'report.xlsx' is not a CSV file: upload a .csv, .csv.gz or .gz file...
    """
    shown = original.replace("\x00", "\\x00")
    if not original.strip():
        raise UploadBadName("the file has no name: choose a file", name=original)
    if "/" in original or "\\" in original or original in (".", ".."):
        raise UploadBadName(f"the file name {shown!r} is refused: it has path parts (give the file's own name)",
                            name=original)
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in original):
        raise UploadBadName(f"the file name {shown!r} is refused: it has control characters", name=original)
    suffix = suffix_of(original)
    if suffix is None:
        raise UploadWrongType(f"{original!r} is not a CSV file: upload a .csv, .csv.gz or .gz file (at most the "
                              "small-file limit)", name=original)
    ascii_name = unicodedata.normalize("NFKD", original).encode("ascii", "ignore").decode()
    stem, ending = ascii_name[:len(ascii_name) - len(suffix)], ascii_name[len(ascii_name) - len(suffix):]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "upload"
    stem = re.sub(r"\.{2,}", ".", stem)[:NAME_CHARS - len(ending)]
    return stem + ending


def stored_name(safe: str, now: datetime | None = None) -> str:
    """``<HHMMSS>-<8 hex>-<safe name>``: unique however many files of one name are uploaded.

    >>> import re; bool(re.fullmatch(r"\\d{6}-[0-9a-f]{8}-sales\\.csv", stored_name("sales.csv")))
    True
    """
    now = now or datetime.now(UTC)
    return f"{now:%H%M%S}-{secrets.token_hex(4)}-{safe}"


# --- CSRF ------------------------------------------------------------------------------------------------------


def _token_key() -> bytes:
    """A key for the form tokens, derived from the api-server's JWT signing secret (every api-server shares it)."""
    from airflow.api_fastapi.auth.tokens import get_signing_key

    secret = get_signing_key("api_auth", "jwt_secret")
    return hashlib.sha256(b"snowseg-upload-csrf\x00" + secret.encode()).digest()


def csrf_token(user_id: str, now: float | None = None) -> str:
    """A form token bound to the logged-in user: ``<issued>.<HMAC(user, issued)>``, good for :data:`TOKEN_SECONDS`."""
    issued = str(int(now if now is not None else time.time()))
    mac = hmac.new(_token_key(), f"{user_id}\x00{issued}".encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{mac}"


def check_csrf_token(token: str | None, user_id: str, now: float | None = None) -> None:
    """Refuse a token that is missing, not this user's, forged or older than :data:`TOKEN_SECONDS`.

    Raises
    ------
    CsrfRefused
    """
    issued, _, mac = (token or "").partition(".")
    if not issued.isdigit() or not mac:
        raise CsrfRefused("the upload did not come from the upload form (no form token): open the form and upload "
                          "again")
    expected = csrf_token(user_id, float(issued)).partition(".")[2]
    if not hmac.compare_digest(mac, expected):
        raise CsrfRefused("the upload form's token is not valid for you: open the form and upload again")
    age = (now if now is not None else time.time()) - int(issued)
    if age < -60 or age > TOKEN_SECONDS:
        raise CsrfRefused("the upload form has expired: open the form and upload again")


def check_origin(headers: Any, *, cookie_auth: bool) -> None:
    """The request must come from this site when the browser's login cookie authenticates it: ``Sec-Fetch-Site``,
    when sent, must be ``same-origin``, and ``Origin`` must be present and name the host the request was sent to.
    A request with a bearer token carries its credential explicitly, so another site cannot forge it.

    Raises
    ------
    CsrfRefused

    Examples
    --------
    >>> check_origin({"host": "h:8080", "origin": "http://h:8080", "sec-fetch-site": "same-origin"}, cookie_auth=True)
    >>> check_origin({"host": "h:8080", "origin": "https://evil.example"}, cookie_auth=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.upload.CsrfRefused: the upload came from another site ...
    """
    if not cookie_auth:
        return
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        raise CsrfRefused(f"the upload came from another site (Sec-Fetch-Site: {site}): use the loads monitor's form")
    origin, host = headers.get("origin"), headers.get("host")
    if not origin or not host or origin == "null" or origin.split("://", 1)[-1].rstrip("/") != host:
        raise CsrfRefused("the upload came from another site (its Origin is not this server's): use the loads "
                          "monitor's form")


# --- where uploads go ------------------------------------------------------------------------------------------


def upload_dir() -> Path | storage.ObjectUrl:
    """The upload folder (``SNOWSEG_UPLOAD_DIR``, else ``uploads`` in the first local input root), confined to the
    input roots; or the ``s3://`` prefix it names, under an object root.

    Raises
    ------
    StorageSettingError
        The setting names a place outside the input roots, or another scheme.
    """
    from snowseg.errors import InputRefused
    from snowseg.inputs import confine, input_roots, object_roots

    text = (settings.get("SNOWSEG_UPLOAD_DIR") or "").strip()
    try:
        if storage.is_url(text) and not text.lower().startswith("file://"):
            url = storage.confine_url(text.rstrip("/") + "/", object_roots())
            return url
        return confine(text.removeprefix("file://") or input_roots()[0] / "uploads")
    except InputRefused as e:
        raise storage.StorageSettingError("SNOWSEG_UPLOAD_DIR", e.path, e.reason) from None


# --- receiving -------------------------------------------------------------------------------------------------


@dataclass
class Received:
    """An upload as received: the name as sent, its safe name, the partial file, its size in bytes, sha256 and first
    bytes."""

    original_name: str
    safe_name: str
    partial: Path
    size: int
    sha256: str
    head: bytes = b""
    _cleanup: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        """Remove the partial file (and a temporary folder made for it)."""
        self.partial.unlink(missing_ok=True)
        for folder in self._cleanup:
            shutil.rmtree(folder, ignore_errors=True)


def _staging(target: Path | storage.ObjectUrl) -> tuple[Path, list[Path]]:
    """Where a partial upload is written: the local upload folder's ``.incoming/`` (the same filesystem, so the
    final move is atomic), or a temporary folder for an ``s3://`` upload dir."""
    if isinstance(target, Path):
        folder = target / INCOMING
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        return folder, []
    folder = Path(tempfile.mkdtemp(prefix="snowseg-upload-"))
    return folder, [folder]


def _disposition(headers: dict[bytes, bytes]) -> tuple[str | None, str | None]:
    """A part's field name and file name (None when absent). Browsers send a ``"`` in a file name as ``%22`` (the
    HTML standard's multipart encoding), which is decoded back; ``%0A``/``%0D`` stay as they are (shown, never
    stored: the safe name drops ``%``)."""
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(headers.get(b"content-disposition", b""))
    name, filename = options.get(b"name"), options.get(b"filename")
    return (name.decode("utf-8", "replace") if name is not None else None,
            filename.decode("utf-8", "replace").replace("%22", '"') if filename is not None else None)


async def receive(body: AsyncIterator[bytes], content_type: str, *, user_id: str, limit: int,
                  target: Path | storage.ObjectUrl, content_length: int | None = None) -> Received:
    """Parse the form's multipart `body` as it streams in and write its file to a partial file.

    Raises
    ------
    UploadTooLarge
        Content-Length or the file's bytes over `limit` (the partial file is deleted; nothing is kept).
    CsrfRefused
        The token is missing, wrong, or comes after the file.
    UploadBadName, UploadWrongType, UploadMissing, UploadRefused
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadRefused("send the upload form as multipart/form-data")
    if content_length is not None and content_length > limit + OVERHEAD:
        raise UploadTooLarge(f"the upload is {content_length / 1e6:.1f} MB, over the small-file limit of "
                             f"{limit / 1e6:g} MB: load big files with the bulk stage path (DAG load_bulk_stage)",
                             name=None, limit_bytes=limit, received=content_length)

    state: dict[str, Any] = {"headers": {}, "field": None, "value": b"", "token": None, "file": None}
    staging, cleanup = _staging(target)
    digest = hashlib.sha256()

    def on_part_begin() -> None:
        state["headers"], state["field"], state["value"], state["header"] = {}, None, b"", b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = state["header"].lower()
        state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

    def on_header_end() -> None:
        state["header"] = b""

    def on_headers_finished() -> None:
        name, filename = _disposition(state["headers"])
        state["field"] = name
        if name != FILE_FIELD:
            return
        if state["file"] is not None:
            raise UploadRefused("send one file per upload")
        check_csrf_token(state["token"], user_id)  # before a byte of the file is written
        if not filename:
            raise UploadMissing("no file was chosen: choose a CSV file to upload")
        safe = safe_name(filename)
        fd, partial = tempfile.mkstemp(prefix="part-", suffix=".tmp", dir=staging)
        state["file"] = Received(filename, safe, Path(partial), 0, "", _cleanup=cleanup)
        state["fh"] = os.fdopen(fd, "wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if state["field"] == FILE_FIELD and state["file"] is not None:
            got: Received = state["file"]
            got.size += len(chunk)
            if got.size > limit:
                raise UploadTooLarge(
                    f"{got.original_name!r} is over the small-file limit of {limit / 1e6:g} MB (the upload was "
                    "stopped there and nothing was kept): load big files with the bulk stage path "
                    "(DAG load_bulk_stage)", name=got.original_name, limit_bytes=limit, received=got.size)
            if len(got.head) < 4096:
                got.head += chunk[:4096 - len(got.head)]
            digest.update(chunk)
            state["fh"].write(chunk)
        elif state["field"] == TOKEN_FIELD:
            state["value"] += chunk
            if len(state["value"]) > 256:
                raise CsrfRefused("the upload form's token is not valid for you: open the form and upload again")

    def on_part_end() -> None:
        if state["field"] == TOKEN_FIELD:
            state["token"] = state["value"].decode("ascii", "replace")
        elif state["field"] == FILE_FIELD and "fh" in state:
            state["fh"].close()

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except BaseException:
        if "fh" in state:
            state["fh"].close()
        if state["file"] is not None:
            state["file"].discard()
        else:
            for folder in cleanup:
                shutil.rmtree(folder, ignore_errors=True)
        raise
    got = state["file"]
    if got is None:
        for folder in cleanup:
            shutil.rmtree(folder, ignore_errors=True)
        if state["token"] is None:
            raise CsrfRefused("the upload did not come from the upload form (no form token): open the form and "
                              "upload again")
        raise UploadMissing("no file was chosen: choose a CSV file to upload")
    got.sha256 = digest.hexdigest()
    try:
        check_type(got.original_name, got.head)
    except UploadRefused:
        got.discard()
        raise
    return got


def check_type(name: str, head: bytes) -> None:
    """The first bytes agree with the name: a ``.gz`` file starts with the gzip magic, a ``.csv`` file does not and
    has no NUL byte (a spreadsheet or any binary file renamed). An empty file passes: the load refuses it, on record.

    Raises
    ------
    UploadWrongType

    Examples
    --------
    >>> check_type("a.csv", b"a,b\\n")
    >>> check_type("a.csv.gz", b"PK\\x03\\x04")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.upload.UploadWrongType: 'a.csv.gz' is not a gzip file ...
    """
    if not head:
        return
    gz = head.startswith(GZIP_MAGIC)
    if suffix_of(name) in (".csv.gz", ".gz"):
        if not gz:
            raise UploadWrongType(f"{name!r} is not a gzip file (its name ends in .gz): upload the CSV itself or "
                                  "gzip it", name=name)
    elif gz:
        raise UploadWrongType(f"{name!r} is a gzip file: name it .csv.gz", name=name)
    elif b"\x00" in head:
        raise UploadWrongType(f"{name!r} is not a CSV text file (it has NUL bytes: a spreadsheet or another binary "
                              "file?): export it as CSV", name=name)


# --- storing and triggering ------------------------------------------------------------------------------------


def store(got: Received, target: Path | storage.ObjectUrl, now: datetime | None = None) -> str:
    """Move the received file to its final place; return the ``file_path`` to load (a path, or an ``s3://`` URL).

    The path is confined to the input roots again (:func:`snowseg.inputs.confine`) before the move.
    """
    from snowseg.inputs import confine, object_roots

    now = now or datetime.now(UTC)
    relative = f"{now:%Y-%m-%d}/{stored_name(got.safe_name, now)}"
    try:
        if isinstance(target, Path):
            final = confine(target / relative)
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            os.replace(got.partial, final)
            return str(final)
        url = storage.confine_url(f"{target.url.rstrip('/')}/{relative}", object_roots())
        dest = storage.object_path(url)
        dest.fs.put_file(str(got.partial), dest.path)
        return url.url
    finally:
        got.discard()


def note(user_name: str, original_name: str, size: int, sha256: str) -> str:
    """The run's note: who uploaded which file (its name as sent, its size and content hash).

    >>> note("ada", "sales.csv", 1200, "ab" * 32)
    'Uploaded from the loads monitor by ada: sales.csv (1,200 bytes, sha256 abababababab…)'
    """
    return f"Uploaded from the loads monitor by {user_name}: {original_name} ({size:,} bytes, sha256 {sha256[:12]}…)"


class TriggerFailed(InputError):
    """Airflow would not start :data:`UPLOAD_DAG` for a stored upload (``file_path``): no such DAG yet, or a conf its
    params refuse; ``cause`` is Airflow's error text."""

    def __init__(self, file_path: str, cause: str):
        self.file_path, self.cause = file_path, cause
        super().__init__(f"the file was stored ({file_path}) but {UPLOAD_DAG} could not be started: {cause}. Check "
                         f"that the DAG is parsed without import errors, then trigger it with this file_path")


def trigger(file_path: str, *, user_name: str, note_text: str) -> str:
    """Trigger :data:`UPLOAD_DAG` with `file_path` (the DAG's default contract) as `user_name`; return the run id.

    Airflow's ``trigger_dag`` validates the conf against the DAG's params, as the REST API's trigger does.

    Raises
    ------
    TriggerFailed
        No such DAG in the metadata DB, or the params refuse the conf.
    """
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import AirflowException, DagNotFound
    from airflow.utils.types import DagRunTriggeredByType

    from snowseg.config import DEFAULT_CONTRACT_NAME

    try:
        run = trigger_dag(UPLOAD_DAG, triggered_by=DagRunTriggeredByType.UI, triggering_user_name=user_name,
                          conf={"file_path": file_path, "contract": DEFAULT_CONTRACT_NAME}, note=note_text[:1000])
    except (DagNotFound, AirflowException, ValueError) as e:  # ParamValidationError is an AirflowException
        raise TriggerFailed(file_path, str(e)) from e
    if run is None:
        raise TriggerFailed(file_path, "Airflow created no run")
    return str(run.run_id)


# --- the file's fate -------------------------------------------------------------------------------------------

#: Run states after which nothing more happens.
FINISHED = ("success", "failed")


def run_state(run_id: str) -> dict | None:
    """The upload run from Airflow's metadata DB: state, note, who, when, its file_path and its tasks' states
    (None when there is no such run of :data:`UPLOAD_DAG`)."""
    from airflow.models import DagModel, DagRun, TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == UPLOAD_DAG, DagRun.run_id == run_id))
        if run is None:
            return None
        tis = session.execute(select(TaskInstance.task_id, TaskInstance.state).where(
            TaskInstance.dag_id == UPLOAD_DAG, TaskInstance.run_id == run_id)).all()
        paused = session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == UPLOAD_DAG))
        return {"run_id": run.run_id, "state": str(run.state), "note": run.note, "dag_paused": bool(paused),
                "user": run.triggering_user_name, "file_path": (run.conf or {}).get("file_path"),
                "queued_at": run.queued_at, "end_date": run.end_date,
                "tasks": {t: (str(s) if s is not None else None) for t, s in tis}}


def fate(cur: Any, names: Any, run: dict) -> dict:
    """What became of an upload: its run and its ``LOAD_AUDIT`` row(s) (status, rows, first error with line and
    column), and a one-word ``outcome``: ``waiting``, ``LOADED``/``PARTIALLY_LOADED``/``REFUSED``/``FAILED`` (from
    the audit row), ``SKIPPED`` (this content was loaded before) or ``failed`` (the run failed without an audit row)."""
    from snowseg.monitor import _lower, _query

    rows = _query(cur, "monitor/select_run_loads.sql", {"dag_id": UPLOAD_DAG, "run_id": run["run_id"]},
                  database=names.database, schema=names.audit) or []
    audit = [_lower(r) for r in rows]
    finished = run["state"] in FINISHED
    if audit and (finished or audit[0]["status"] in ("REFUSED", "FAILED")):
        outcome = audit[0]["status"]
    elif not finished:
        outcome = "waiting"
    elif run["tasks"].get("put_and_copy") == "skipped":
        outcome = "SKIPPED"
    else:
        outcome = "LOADED" if run["state"] == "success" else "failed"
    return {"run": run, "audit": audit, "outcome": outcome, "finished": finished}
