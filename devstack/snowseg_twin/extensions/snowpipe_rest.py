"""Snowpipe REST API on the twin's HTTP app: insertFiles, insertReport, loadHistoryScan.

Emulates the endpoints the `snowflake-ingest` SDK's SimpleIngestManager calls, with its shapes:
- ``POST /v1/data/pipes/{pipe}/insertFiles?requestId=..`` with ``{"files": [{"path": "..", "size": n}]}``
  (application/json) or one path per line (text/plain); at most 5,000 files. Queues the files on the
  pipe (paths relative to the pipe's FROM location; files the pipe loaded in the last 14 days are
  ignored) and answers ``{"requestId": "..", "responseCode": "SUCCESS"}`` at once; loading is
  asynchronous, as in Snowflake.
- ``GET /v1/data/pipes/{pipe}/insertReport[?recentSeconds=n][&beginMark=m]``: the files whose load
  finished in the last 10 minutes (or recentSeconds), after beginMark: ``{"pipe", "completeResult",
  "nextBeginMark", "files": [{"path", "stageLocation", "fileSize", "timeReceived", "lastInsertTime",
  "rowsInserted", "rowsParsed", "errorsSeen", "errorLimit", "firstError", "firstErrorLineNum",
  "firstErrorCharacterPos", "firstErrorColumnName", "complete", "status"}], "statistics":
  {"activeFilesCount"}}``; status LOADED | LOAD_FAILED | PARTIALLY_LOADED.
- ``GET /v1/data/pipes/{pipe}/loadHistoryScan?startTimeInclusive=..[&endTimeExclusive=..]``: the same
  file entries for loads finished in [start, end), plus ``startTimeInclusive``, ``endTimeExclusive``,
  ``rangeStartTime``, ``rangeEndTime``.

Every call needs an ``Authorization: Bearer <jwt>`` header (401 otherwise); the pipe name is the fully
qualified ``db.schema.pipe`` (404 if it doesn't exist).

Differs from Snowflake: the JWT is not verified (the twin has no key-pair authentication); the
pipe name is matched as given, then upper-cased; beginMark is the twin's own cursor (microseconds of
the last reported load); firstError fields are null-free (omitted) for files without errors.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from snowseg_twin.extensions import pipes

MAX_FILES = 5000
REPORT_WINDOW = datetime.timedelta(minutes=10)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "code": code, "message": message, "success": False, "headers": None}, status_code=status
    )


def _authorized(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _find(name: str) -> pipes.Pipe | None:
    parts = name.split(".")
    if len(parts) != 3:
        return None
    return pipes.find(*parts) or pipes.find(*(p.upper() for p in parts))


async def _pipe(request: Request) -> pipes.Pipe | JSONResponse:
    """The request's pipe, or the error response: 401 without a Bearer token, 404 for an unknown pipe."""
    if not _authorized(request):
        return _error(401, "390101", "Authorization header is missing or is not a Bearer JWT.")
    pipe = await run_in_threadpool(_find, request.path_params["pipe"])
    if pipe is None:
        return _error(404, "390404", f"Specified object does not exist or not authorized. Pipe not found: "
                                     f"{request.path_params['pipe']}")  # fmt: skip
    return pipe


def _ts(value: datetime.datetime | None) -> str | None:
    return pipes.format_timestamp(value)


def _parse_time(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _file_entries(
    pipe: pipes.Pipe, since: datetime.datetime, until: datetime.datetime | None = None
) -> list[tuple[datetime.datetime, dict]]:
    sql = (
        "SELECT file_path, stage_location, file_size, queued_at, last_load_time, row_count, row_parsed, error_count, "
        "error_limit, first_error_message, first_error_line_number, first_error_character_position, "
        f"first_error_column_name, status FROM {pipes.PIPE_FILES} "
        "WHERE pipe_id = ? AND status <> 'PENDING' AND last_load_time > ?"
    )
    params: list[Any] = [pipe.pipe_id, since]
    if until is not None:
        sql += " AND last_load_time < ?"
        params.append(until)
    with pipes.open_catalog() as meta:
        rows = meta.execute(sql + " ORDER BY last_load_time, file_path", params).fetchall()
    files = []
    for (path, location, size, queued, loaded, inserted, parsed, errors, limit, first, line, char, column,
         status) in rows:  # fmt: skip
        entry: dict[str, Any] = {
            "path": path, "stageLocation": location, "fileSize": size, "timeReceived": _ts(queued),
            "lastInsertTime": _ts(loaded), "rowsInserted": inserted, "rowsParsed": parsed, "errorsSeen": errors,
            "errorLimit": limit, "complete": True, "status": status,
        }  # fmt: skip
        if first is not None:
            entry.update(
                firstError=first, firstErrorLineNum=line, firstErrorCharacterPos=char, firstErrorColumnName=column
            )
        files.append((loaded, entry))
    return files


def _active(pipe: pipes.Pipe) -> int:
    with pipes.open_catalog() as meta:
        return meta.execute(
            f"SELECT count(*) FROM {pipes.PIPE_FILES} WHERE pipe_id = ? AND status = 'PENDING'", [pipe.pipe_id]
        ).fetchall()[0][0]


async def insert_files(request: Request) -> JSONResponse:
    pipe = await _pipe(request)
    if isinstance(pipe, JSONResponse):
        return pipe
    body = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("text/plain"):
            files = [(line.strip(), None) for line in body.decode().splitlines() if line.strip()]
        else:
            files = [(str(f["path"]), f.get("size")) for f in json.loads(body)["files"]]
    except (ValueError, KeyError, TypeError):
        return _error(400, "390400", 'Invalid request body: expected {"files": [{"path": "..", "size": n}]}.')
    if len(files) > MAX_FILES:
        return _error(400, "390400", f"Too many files in the request: {len(files)}; the maximum is {MAX_FILES}.")
    request_id = request.query_params.get("requestId") or str(uuid.uuid4())
    await run_in_threadpool(pipes.enqueue, pipe, files, request_id)
    pipes.kick(pipe.pipe_id)
    return JSONResponse({"requestId": request_id, "responseCode": "SUCCESS"})


async def insert_report(request: Request) -> JSONResponse:
    pipe = await _pipe(request)
    if isinstance(pipe, JSONResponse):
        return pipe
    now = datetime.datetime.now(datetime.UTC)
    recent = request.query_params.get("recentSeconds")
    since = now - (datetime.timedelta(seconds=int(recent)) if recent else REPORT_WINDOW)
    mark = request.query_params.get("beginMark")
    if mark and mark.isdigit():
        since = max(since, datetime.datetime.fromtimestamp(int(mark) / 1e6, datetime.UTC))
    entries = await run_in_threadpool(_file_entries, pipe, since)
    next_mark = mark or "0"
    if entries:
        last = entries[-1][0]
        next_mark = str(int(last.timestamp() * 1e6))
    return JSONResponse(
        {
            "pipe": pipe.fqname,
            "completeResult": True,
            "nextBeginMark": next_mark,
            "files": [e for _, e in entries],
            "statistics": {"activeFilesCount": await run_in_threadpool(_active, pipe)},
        }
    )


async def load_history_scan(request: Request) -> JSONResponse:
    pipe = await _pipe(request)
    if isinstance(pipe, JSONResponse):
        return pipe
    start_text = request.query_params.get("startTimeInclusive")
    if not start_text:
        return _error(400, "390400", "Missing required parameter startTimeInclusive.")
    end_text = request.query_params.get("endTimeExclusive")
    try:
        start = _parse_time(start_text)
        end = _parse_time(end_text) if end_text else datetime.datetime.now(datetime.UTC)
    except ValueError:
        return _error(400, "390400", "startTimeInclusive / endTimeExclusive must be ISO-8601 timestamps.")
    entries = await run_in_threadpool(_file_entries, pipe, start - datetime.timedelta(microseconds=1), end)
    times = [t for t, _ in entries]
    return JSONResponse(
        {
            "pipe": pipe.fqname,
            "completeResult": "true",
            "startTimeInclusive": start_text,
            "endTimeExclusive": end_text or _ts(end),
            "rangeStartTime": _ts(min(times)) if times else None,
            "rangeEndTime": _ts(max(times)) if times else None,
            "files": [e for _, e in entries],
        }
    )


routes = [
    Route("/v1/data/pipes/{pipe}/insertFiles", insert_files, methods=["POST"]),
    Route("/v1/data/pipes/{pipe}/insertReport", insert_report, methods=["GET"]),
    Route("/v1/data/pipes/{pipe}/loadHistoryScan", load_history_scan, methods=["GET"]),
]
