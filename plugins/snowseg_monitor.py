"""Snowseg's loads monitor: one server-rendered page, mounted on the Airflow api-server by this plugin.

``fastapi_apps`` mounts the app at ``/snowseg``; ``external_views`` puts "Snowseg loads" under the UI's
Browse menu, which shows ``/snowseg/`` in an iframe at ``/plugin/snowseg``. The page reads the warehouse
through the same Airflow connection as the DAGs (``snowseg.warehouse.connect()``:
``SNOWSEG_SNOWFLAKE_CONN_ID``, default ``snowflake_default``) and the object names from
``Names.from_env()``; the data come from ``snowseg.monitor``.

Routes (below the prefix):

- ``/``: recent files by load path, the quality gate, the latest segmentation run (HTML);
- ``/rejects?file=...&batch=...``: a file's rejected records, 500 a page (HTML);
- ``/api/loads``, ``/api/rejects?file=...``, ``/api/quality``, ``/api/segments``: the same data as JSON;
- ``/api/alerts?limit=N``: the latest kept alerts (``SNOWSEG_ALERTS_FILE``: the file, or the ``s3://``
  prefix's objects), newest last, redacted again;
- ``/reports/<path>``: the report base (``SNOWSEG_REPORT_DIR``: a folder, or an ``s3://`` prefix read through
  Airflow's ObjectStoragePath), read-only; paths that would leave it are refused.
- ``/upload`` (GET: the form; POST: a CSV or gzip file, streamed, at most the small-file limit, CSRF-checked, stored
  under the input roots, then ``load_small_file`` triggered with it) and ``/upload/fate?run=...`` (the file's fate:
  the run's state, then its LOAD_AUDIT row), for users who may trigger the load (:mod:`snowseg.upload`).

Airflow does not authenticate plugin apps by itself (it mounts them beside its own API, whose auth
is a router dependency that a mount does not inherit), so this app adds Airflow's own check to every
route (:func:`_require_login`), ``/openapi.json`` included: the UI's login cookie or an API token
(``Authorization: Bearer``), as for ``/api/v2``. A browser without a login is sent to the UI's login
page and comes back; a JSON client without a token gets 401.

Who may see data is a role, not "anyone logged in" (:func:`may_see_data`): raw rejected records and
the report folder need the permission to trigger the load DAGs (``POST`` on DAG runs of
``load_small_file`` in Airflow's auth manager: the simple auth manager's ``user``, ``op`` and
``admin`` roles; FAB's "can create on DAG Runs" with edit on that DAG). Viewers see counts,
statuses, errors and rules, never a raw record.

Every response carries ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: SAMEORIGIN`` and a
Content-Security-Policy that allows no script at all (the pages have none); files of the report
folder are also ``sandbox``-ed, so nothing in a report can act on the Airflow origin. Every text read
from the warehouse passes :func:`snowseg.redaction.redact` before it is shown.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

log = logging.getLogger(__name__)

URL_PREFIX = "/snowseg"
TEMPLATES = Path(__file__).resolve().parent / "snowseg_monitor_templates"
#: The DAG whose run-trigger permission lets a user see data (raw rejected records, the report folder).
DATA_ROLE_DAG = "load_small_file"
#: No script, no plugins, no forms elsewhere, no framing by other origins: the pages are server-rendered HTML.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'self'; base-uri 'none'")
#: Files of the report folder also run in a sandbox: no script, no forms, no popups, no top navigation. The
#: origin is kept (allow-same-origin) so that 'self' still admits the report's own pictures; without
#: allow-scripts nothing can use it.
REPORT_CSP = CSP + "; sandbox allow-same-origin"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
                    "Referrer-Policy": "same-origin"}


class WarehouseUnavailable(Exception):
    """The page cannot open the warehouse connection; shown with HTTP 503."""


def _fmt_int(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def _fmt_time(value: Any) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)


def _fmt_float(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


def _fmt_pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


def _wbr(value: Any) -> Markup:
    """An Airflow run id that may wrap after its run type (``manual__`` / ``2026-11-27T08:00:00+00:00``)."""
    head, sep, tail = str(value).partition("__")
    return Markup('{}__<wbr><span class="nw">{}</span>').format(head, tail) if sep else escape(str(value))


def _fmt_duration(seconds: Any) -> str:
    from snowseg.monitor import format_duration  # snowseg is imported per request, never at plugin load

    return format_duration(seconds)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(thousands=_fmt_int, time=_fmt_time, num=_fmt_float, pct=_fmt_pct, duration=_fmt_duration,
                       q=lambda v: quote(str(v), safe=""), path=lambda v: quote(str(v)), wbr=_wbr)
    return env


_ENV = _env()


def _render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    from snowseg.warehouse import Names

    page = _ENV.get_template(name).render(
        database=Names.from_env().database, generated_at=datetime.now(UTC).replace(tzinfo=None), **context)
    return HTMLResponse(page, status_code=status_code)


@contextmanager
def _warehouse() -> Iterator[Any]:
    """A cursor on the DAGs' Snowflake connection; WarehouseUnavailable if it cannot be opened."""
    from airflow.exceptions import AirflowNotFoundException
    from snowflake.connector.errors import DatabaseError
    from snowseg import warehouse

    try:
        conn = warehouse.connect()
    except warehouse.WarehouseUnreachable as e:
        raise WarehouseUnavailable(str(e)) from None
    except (AirflowNotFoundException, DatabaseError) as e:  # no such connection; login refused
        raise WarehouseUnavailable(
            f"cannot open the Snowflake connection {warehouse.conn_id_from_env()!r}: {e}") from None
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def _names():
    from snowseg.warehouse import Names

    return Names.from_env()


def _report_root() -> Any:
    """The report base: a local folder, or the ObjectStoragePath of an s3:// prefix."""
    from snowseg.report import report_base

    return report_base()


def _rejects_query(file_name: str, batch_id: str | None, offset: int = 0, limit: int | None = None) -> str:
    params = {"file": file_name}
    if batch_id:
        params["batch"] = batch_id
    if offset:
        params["offset"] = str(offset)
    if limit:
        params["limit"] = str(limit)
    return urlencode(params)


def _with_links(request: Request, data: dict, kind: str) -> dict:
    """Absolute links for JSON readers (the HTML uses relative ones)."""
    base = str(request.scope.get("root_path", "")).rstrip("/")
    if kind == "loads":
        for path in data["paths"]:
            for f in path["files"]:
                q = _rejects_query(f["file_name"], f.get("batch_id")) if f["has_rejects"] else None
                f["rejects_url"] = f"{base}/rejects?{q}" if q else None  # the HTML page
                f["rejects_api_url"] = f"{base}/api/rejects?{q}" if q else None
    elif data.get("report_path"):
        data["report_url"] = f"{base}/reports/{quote(data['report_path'])}"
    return data


def _json(data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(data), status_code=status_code)


async def _require_login(request: Request) -> None:
    """Airflow's authentication for every route: the UI's login cookie or a Bearer token.

    A page request without a valid login is redirected to the UI's login page (``next`` brings the
    reader back); an ``/api/`` request gets Airflow's 401/403. The user is kept for :func:`may_see_data`.
    """
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    try:
        request.state.snowseg_user = await get_user(request, None, await bearer_scheme(request))
    except HTTPException as e:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        is_api = request.url.path.startswith(f"{root}/api/") or request.url.path == f"{root}/openapi.json"
        if e.status_code in (401, 403) and not is_api:
            target = quote(f"{root}{request.url.path[len(root):] or '/'}" + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(status_code=307, headers={"Location": f"/auth/login?next={target}"}) from e
        raise


def may_see_data(request: Request) -> bool:
    """Whether the logged-in user may see raw records and reports: may they trigger :data:`DATA_ROLE_DAG`?"""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    user = getattr(request.state, "snowseg_user", None)
    return user is not None and get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=DATA_ROLE_DAG), user=user)


def _redacted(data: Any) -> Any:
    """`data` with every text redacted (the connections' secrets read once)."""
    from snowseg.redaction import known_secrets, redact

    return redact(data, known_secrets())


app = FastAPI(title="Snowseg loads monitor", docs_url=None, redoc_url=None, openapi_url=None,
              dependencies=[Depends(_require_login)],
              description="Recent loads, rejected rows, quality gate and segments, read from the warehouse.")


@app.middleware("http")
async def _security_headers(request: Request, call_next: Any) -> Response:
    """No sniffing, no framing by other origins, no script: on every response, errors and redirects included."""
    response = await call_next(request)
    root = str(request.scope.get("root_path", "")).rstrip("/")
    in_reports = request.url.path.startswith(f"{root}/reports/")
    response.headers["Content-Security-Policy"] = REPORT_CSP if in_reports else CSP
    response.headers.update(SECURITY_HEADERS)
    return response


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> JSONResponse:
    """The app's OpenAPI document, behind the same login as every route."""
    return JSONResponse(app.openapi())


@app.exception_handler(WarehouseUnavailable)
def _unavailable(request: Request, exc: WarehouseUnavailable) -> Response:
    log.warning("snowseg monitor: %s", exc)
    if request.url.path.startswith(f"{request.scope.get('root_path', '')}/api/"):
        return _json({"error": "warehouse unreachable", "detail": str(exc)}, 503)
    return _render("unavailable.html", 503, message=str(exc))


@app.get("/", response_class=HTMLResponse)
def index(request: Request, limit: int = Query(50, ge=1, le=500, description="files listed per load path")
          ) -> HTMLResponse:
    """The monitor page: loads, quality, segments."""
    from snowseg import monitor

    root = _report_root()
    with _warehouse() as cur:
        names = _names()
        loads = monitor.recent_loads(cur, names, per_path=limit)
        quality = monitor.quality_results(cur, names, report_root=root)
        segments = monitor.latest_segments(cur, names, report_root=root)
        loads = monitor.add_load_costs(cur, names, loads)  # cost per file, from the query history by tag
        segments = monitor.add_segment_costs(cur, names, segments)  # cost of the model run
    loads, (quality, segments) = _loads_for(request, loads), _redacted([quality, segments])
    return _render("index.html", loads=loads, quality=quality, segments=segments,
                   rejects_query=_rejects_query, may_see_data=may_see_data(request))


def _rejects(request: Request, file: str, batch: str | None, limit: int, offset: int) -> dict:
    """One page of a file's rejected records, redacted; the raw records only for users who may see data."""
    from snowseg import monitor

    with _warehouse() as cur:
        data = monitor.rejected_rows(cur, _names(), file, batch_id=batch, limit=limit, offset=offset)
    data["raw_records_hidden"] = not may_see_data(request)
    if data["raw_records_hidden"]:
        for row in data["rows"]:
            row["rejected_record"], row["error"] = None, monitor.without_values(row.get("error"))
    return _redacted(data)


def _loads_for(request: Request, data: dict) -> dict:
    """Recent loads, redacted; the values quoted by first errors masked for users who may not see data."""
    if not may_see_data(request):
        from snowseg.monitor import without_values

        for path in data.get("paths", []):
            for f in path["files"]:
                f["first_error"] = without_values(f.get("first_error"))
    return _redacted(data)


@app.get("/rejects", response_class=HTMLResponse)
def rejects_page(request: Request, file: str = Query(..., min_length=1, description="FILE_NAME of a LOAD_AUDIT row"),
                 batch: str | None = Query(None, description="only this load batch"),
                 limit: int = Query(500, ge=1, le=500), offset: int = Query(0, ge=0)) -> HTMLResponse:
    """A file's rejected records with line, column, error and (for users who may see data) raw record."""
    data = _rejects(request, file, batch, limit, offset)
    prev_q = _rejects_query(file, batch, max(0, offset - limit), limit) if offset > 0 else None
    next_q = _rejects_query(file, batch, offset + limit, limit) if offset + limit < data["total"] else None
    return _render("rejects.html", data=data, prev_q=prev_q, next_q=next_q)


@app.get("/api/loads")
def api_loads(request: Request, limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
    """Recent files by load path, the per-path summary of the last 24 h, and the count check."""
    from snowseg import monitor

    with _warehouse() as cur:
        data = monitor.recent_loads(cur, _names(), per_path=limit)
        data = monitor.add_load_costs(cur, _names(), data)  # cost per file, from the query history by tag
    return _json(_with_links(request, _loads_for(request, data), "loads"))


@app.get("/api/rejects")
def api_rejects(request: Request, file: str = Query(..., min_length=1), batch: str | None = None,
                limit: int = Query(500, ge=1, le=500), offset: int = Query(0, ge=0)) -> JSONResponse:
    """A file's rejected records (one page) and their total; ``rejected_record`` is null for viewers."""
    return _json(_rejects(request, file, batch, limit, offset))


@app.get("/api/quality")
def api_quality(request: Request) -> JSONResponse:
    """The gate's latest verdicts and the failed rules of its latest run."""
    from snowseg import monitor

    with _warehouse() as cur:
        data = monitor.quality_results(cur, _names(), report_root=_report_root())
    return _json(_with_links(request, _redacted(data), "quality"))


@app.get("/api/segments")
def api_segments(request: Request) -> JSONResponse:
    """The latest published model run and its segment profiles."""
    from snowseg import monitor

    with _warehouse() as cur:
        data = monitor.latest_segments(cur, _names(), report_root=_report_root())
        data = monitor.add_segment_costs(cur, _names(), data)  # cost of the model run
    return _json(_with_links(request, _redacted(data), "segments"))


@app.get("/reports/{path:path}", name="report")
def report(request: Request, path: str) -> Response:
    """A file of the report folder, read-only, for users who may see data; a folder ending in ``/`` serves its
    index.html."""
    from snowseg.monitor import ReportPathRefused, report_file

    if not may_see_data(request):
        return Response(f"Reports show data: your role may not see them (it needs the permission to trigger "
                        f"{DATA_ROLE_DAG}). Counts, statuses and rules are on the monitor page.",
                        status_code=403, media_type="text/plain")
    try:
        target = report_file(_report_root(), path)
    except ReportPathRefused:  # the path is not echoed back
        return Response("report path not allowed: give a path below the report folder", status_code=400,
                        media_type="text/plain")
    except FileNotFoundError:
        return Response("no such report file", status_code=404, media_type="text/plain")
    if target.is_dir():
        if not path.endswith("/"):
            return RedirectResponse(f"{quote(path.rstrip('/').split('/')[-1])}/", status_code=307)
        target = target / "index.html"
        if not target.is_file():
            return Response("no such report file", status_code=404, media_type="text/plain")
    if isinstance(target, Path):
        return FileResponse(target)
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return Response(target.read_bytes(), media_type=media_type)  # an object under the s3:// report base


@app.get("/api/alerts")
def api_alerts(request: Request, limit: int = Query(50, ge=1, le=500, description="the latest N alerts")
               ) -> JSONResponse:
    """The latest kept alerts, oldest first (they name files and errors: for users who may see data)."""
    from snowseg.alerting.delivery import read_alerts

    if not may_see_data(request):
        return _json({"error": f"alerts show data: your role may not see them (it needs the permission to trigger "
                               f"{DATA_ROLE_DAG})"}, 403)
    return _json({"alerts": _redacted(read_alerts(limit))})


# --- upload from the browser (snowseg.upload) ------------------------------------------------------------------


#: How often the fate page of an unfinished upload reloads itself (the ``Refresh`` header), in seconds.
FATE_REFRESH_S = 3


def _upload_forbidden(request: Request) -> HTMLResponse | None:
    """The user-facing 403 for a role that may not trigger the load (nothing is read from the request's body)."""
    if may_see_data(request):
        return None
    return _render("upload.html", 403, forbidden=True, dag_id=DATA_ROLE_DAG, token=None, limit_mb=None,
                   error=None, file_name=None)


def _upload_form(request: Request, status_code: int = 200, error: Any = None) -> HTMLResponse:
    """The upload form with a fresh token for this user, and the refusal of the last attempt if any."""
    from snowseg import upload

    user = request.state.snowseg_user
    return _render("upload.html", status_code, forbidden=False, dag_id=DATA_ROLE_DAG,
                   token=upload.csrf_token(str(user.get_id())), limit_mb=upload.limit_bytes() / 1e6,
                   error=None if error is None else _redacted(str(error)),
                   reason=getattr(error, "reason", None), file_name=getattr(error, "name", None))


@app.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request) -> HTMLResponse:
    """The upload form: a CSV or gzip file, at most the small-file limit, for users who may trigger the load."""
    return _upload_forbidden(request) or _upload_form(request)


@app.post("/upload", response_class=HTMLResponse)
async def upload_post(request: Request) -> Response:
    """Receive a file (streamed, size-limited, CSRF-checked), store it under the input roots, trigger the load, and
    send the browser to the file's fate (303). A refusal is the form again with its reason (400/403/413/415)."""
    from starlette.concurrency import run_in_threadpool

    from snowseg import upload
    from snowseg.storage import StorageSettingError

    forbidden = _upload_forbidden(request)
    if forbidden is not None:
        return forbidden
    user = request.state.snowseg_user
    length = request.headers.get("content-length")
    try:
        upload.check_origin(request.headers, cookie_auth=not request.headers.get("authorization", "").lower()
                            .startswith("bearer "))
        target = upload.upload_dir()
        got = await upload.receive(request.stream(), request.headers.get("content-type", ""),
                                   user_id=str(user.get_id()), limit=upload.limit_bytes(), target=target,
                                   content_length=int(length) if length and length.isdigit() else None)
    except upload.UploadRefused as e:
        log.info("snowseg upload refused (%s) for %s", e.reason, user.get_name())
        return _upload_form(request, e.status, e)
    except StorageSettingError as e:  # SNOWSEG_UPLOAD_DIR outside the input roots: nothing is written
        log.error("snowseg upload: %s", e)
        return _upload_form(request, 500, e)
    file_path = await run_in_threadpool(upload.store, got, target)
    try:
        run_id = await run_in_threadpool(upload.trigger, file_path, user_name=user.get_name(),
                                         note_text=upload.note(user.get_name(), got.original_name, got.size,
                                                               got.sha256))
    except upload.TriggerFailed as e:  # no such DAG (not parsed yet, import errors) or params it refuses
        log.error("snowseg upload: %s", e)
        return _upload_form(request, 503, e)
    log.info("snowseg upload by %s stored at %s, run %s", user.get_name(), file_path, run_id)
    return RedirectResponse(f"upload/fate?{urlencode({'run': run_id})}", status_code=303)


@app.get("/upload/fate", response_class=HTMLResponse)
def upload_fate(request: Request, run: str = Query(..., min_length=1, max_length=250,
                                                   description="the load_small_file run an upload started")
                ) -> HTMLResponse:
    """What became of an uploaded file: the run's state, then its LOAD_AUDIT row (LOADED with rows, or REFUSED /
    FAILED with the reason); refreshes itself until the run has finished."""
    from snowseg import upload

    forbidden = _upload_forbidden(request)
    if forbidden is not None:
        return forbidden
    state = upload.run_state(run)
    if state is None:
        return _render("upload_fate.html", 404, fate=None, run_id=run, dag_id=DATA_ROLE_DAG)
    with _warehouse() as cur:
        data = upload.fate(cur, _names(), state)
    page = _render("upload_fate.html", fate=_redacted(data), run_id=run, dag_id=DATA_ROLE_DAG)
    if not data["finished"]:
        page.headers["Refresh"] = str(FATE_REFRESH_S)  # the browser reloads the page; no script needed
    return page


class SnowsegMonitorPlugin(AirflowPlugin):
    """The loads monitor: a FastAPI app on the api-server and a Browse menu entry in the UI."""

    name = "snowseg_monitor"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Snowseg loads monitor"}]
    external_views = [{
        "name": "Snowseg loads",
        "href": "snowseg/",  # relative to the UI's base URL, so it also works under a base_url prefix
        "url_route": "snowseg",  # shown inside the UI at /plugin/snowseg
        "destination": "nav",
        "category": "browse",
    }]
