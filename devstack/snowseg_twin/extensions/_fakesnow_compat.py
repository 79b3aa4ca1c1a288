"""Every fakesnow internal the twin reaches, in one place. Written against fakesnow==0.12.1 (pinned exactly).

fakesnow has no extension API: the twin wraps its cursor methods and server routes, replaces module globals,
and calls private helpers. Every such touchpoint is named here, and no other module under devstack/ imports
fakesnow (tests/twin/test_fakesnow_compat.py checks both). check() runs first in extensions.install() and
raises FakesnowIncompatible naming the touchpoint when a fakesnow upgrade removed or renamed one.

All touchpoints below were written against fakesnow 0.12.1.

Replaced or wrapped (monkeypatched):

=================================  ==========================================================================
touchpoint                         why
=================================  ==========================================================================
cursor.copy_into                   COPY INTO <table> from CSV with Snowflake's ON_ERROR, history (copy_csv)
cursor.FakeSnowflakeCursor.execute statements fakesnow can't run, before/after hooks (_statements)
FakeSnowflakeCursor._execute       VALIDATE's job ids, VALIDATION_MODE (validate, validation_mode)
FakeSnowflakeCursor._transform     table functions, session context, LAST_QUERY_ID (load_checks, session_context)
server.parse_one                   statements sqlglot can't parse reach the handlers as a Command (_statements)
server.login_request (+ routes)    key-pair JWT login, the session's role/warehouse (users)
server.query_request (+ routes)    the error's own text, the session's TIMEZONE (query_responses; server.py)
server.to_ipc (+ a route)          a large result in chunks the connector downloads (result_chunks)
server.shared_fs                   a FakeSnow whose databases persist under the twin's home (server.py)
arrow.timestamp_to_sf_struct       NULL timestamps stay NULL (null_timestamps)
transforms.put_stage               PUT's file:// path taken literally (put_paths)
checks._relevant_tables            a qualified stage in COPY's FROM needs no current database (put_paths)
transforms.stage.LOCAL_BUCKET_PATH internal stages' files under the twin's home (server.py)
file_format.CSV_DEFAULT_OPTIONS    Snowflake's CSV default ESCAPE_UNENCLOSED_FIELD = '\\' (file_formats)
=================================  ==========================================================================

Read or called:

=================================  ==========================================================================
touchpoint                         why
=================================  ==========================================================================
copy_into._from_source             a COPY's FROM (@stage/path) (copy_csv, pipes, validation_mode)
copy_into._extract_table           a COPY's target table (copy_csv, pipes, validate, validation_mode)
copy_into.copy_into                fakesnow's own COPY, for formats the twin doesn't load itself (copy_csv)
copy_into.stage_url_from_var,      stage resolution shared with fakesnow's COPY (copy_csv, pipes, _load_history)
  LoadHistoryRecord
transforms.stage.*                 internal stage directories, table stages, lookups (_staged_files, s3_stages, ...)
params.MutableParams,              bound parameters of a COPY (copy_csv, _copy_options, validate, ...)
  pop_qmark_param
transforms.options.parse_options,  CREATE FILE FORMAT / STAGE options as fakesnow parses them (file_formats, ...)
  file_format.lookup_file_format
instance.FakeSnow, info_schema,    re-implemented FakeSnow.__init__ with a persistent global catalog (server.py)
  macros, show, GLOBAL_DATABASE_NAME
conn.FakeSnowflakeConnection       a pipe's loader session (pipes)
server.sessions                    a login's connection by token (users, query_responses)
cursor._duck_conn, ._conn,         the session's DuckDB connection, its fakesnow connection, run DuckDB SQL as the
  ._execute, ._sfqid               result, the query id (every statement handler)
conn._duck_conn, ._schema,         a login's DuckDB connection; leaving a dropped database; AUTOCOMMIT-off
  ._in_transaction                 bookkeeping after DDL commits (users, database_drops, ddl_commits)
_fs_global._fs_information_schema  fakesnow's catalog tables: stages, file formats, users, columns (FS_* below)
=================================  ==========================================================================
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple, TypeVar

import fakesnow.arrow as _arrow
import fakesnow.checks as _checks
import fakesnow.copy_into as _copy_into
import fakesnow.cursor as _cursor
import fakesnow.server as _server
import fakesnow.transforms as _transforms
import fakesnow.transforms.file_format as _file_format
import fakesnow.transforms.stage as _stage
from duckdb import DuckDBPyConnection
from fakesnow import info_schema, macros
from fakesnow.conn import FakeSnowflakeConnection
from fakesnow.copy_into import LoadHistoryRecord, stage_url_from_var
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import GLOBAL_DATABASE_NAME, FakeSnow
from fakesnow.params import MutableParams, pop_qmark_param
from fakesnow.transforms import show
from fakesnow.transforms.file_format import lookup_file_format
from fakesnow.transforms.options import parse_options
from fakesnow.transforms.stage import (
    TableStages,
    internal_dir,
    internal_file_name,
    internal_files_sql,
    is_internal,
    is_table_stage,
    not_found_error,
    parts_from_var,
    stage_lookup_sql,
)
from sqlglot import exp

logger = logging.getLogger("snowseg_twin")

WRITTEN_FOR = "0.12.1"

# fakesnow's own catalog tables the twin reads or cleans up
FS_STAGES = "_fs_global._fs_information_schema._fs_stages"
FS_FILE_FORMATS = "_fs_global._fs_information_schema._fs_file_formats"
FS_USERS = "_fs_global._fs_information_schema._fs_users"
FS_COLUMNS_EXT = "_fs_global._fs_information_schema._fs_columns_ext"

F = TypeVar("F", bound=Callable[..., Any])


class FakesnowIncompatible(RuntimeError):
    """The installed fakesnow lacks a touchpoint the twin was written against."""

    def __init__(self, touchpoint: str, installed: str, written_for: str = WRITTEN_FOR) -> None:
        self.touchpoint = touchpoint
        self.installed = installed
        self.written_for = written_for
        super().__init__(
            f"the local twin needs fakesnow's {touchpoint}, which fakesnow {installed} does not have; the twin's "
            f"extensions were written against fakesnow=={written_for} (pin it, or adapt "
            "devstack/snowseg_twin/extensions/_fakesnow_compat.py and run tests/twin/)"
        )


# Module globals the twin replaces or wraps: name -> (module, attribute). Read through current().
_PATCHABLE: dict[str, tuple[ModuleType, str]] = {
    "cursor.copy_into": (_cursor, "copy_into"),
    "server.parse_one": (_server, "parse_one"),
    "server.login_request": (_server, "login_request"),
    "server.query_request": (_server, "query_request"),
    "server.to_ipc": (_server, "to_ipc"),
    "arrow.timestamp_to_sf_struct": (_arrow, "timestamp_to_sf_struct"),
    "transforms.put_stage": (_transforms, "put_stage"),
    "checks._relevant_tables": (_checks, "_relevant_tables"),
}
# FakeSnowflakeCursor methods the twin wraps
_CURSOR_METHODS = ("execute", "_execute", "_transform")


class _Member(NamedTuple):
    cls: type
    name: str


# Instance attributes set in __init__ that the twin reads or writes
_MEMBERS = (
    _Member(FakeSnowflakeCursor, "_duck_conn"),
    _Member(FakeSnowflakeCursor, "_conn"),
    _Member(FakeSnowflakeCursor, "_sfqid"),
    _Member(FakeSnowflakeConnection, "_duck_conn"),
    _Member(FakeSnowflakeConnection, "_schema"),
    _Member(FakeSnowflakeConnection, "_in_transaction"),
)
_MODULE_ATTRS = (
    (_copy_into, ("_from_source", "_extract_table", "copy_into", "stage_url_from_var", "LoadHistoryRecord")),
    (_stage, ("LOCAL_BUCKET_PATH", "TableStages", "internal_dir", "internal_file_name", "internal_files_sql",
              "is_internal", "is_table_stage", "not_found_error", "parts_from_var", "stage_lookup_sql")),
    (_file_format, ("CSV_DEFAULT_OPTIONS", "lookup_file_format")),
    (_server, ("sessions", "shared_fs", "routes", "app")),
    (info_schema, ("fs_global_creation_sql", "per_db_creation_sql")),
    (macros, ("creation_sql",)),
    (show, ("fs_global_creation_sql",)),
)  # fmt: skip


def installed_version() -> str:
    try:
        return importlib.metadata.version("fakesnow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def touchpoints() -> list[str]:
    """Every fakesnow name this module relies on, as 'module.attribute' (or 'Class.member')."""
    names = [f"{module.__name__}.{attr}" for module, attr in _PATCHABLE.values()]
    names += [f"fakesnow.cursor.FakeSnowflakeCursor.{m}" for m in _CURSOR_METHODS]
    names += [f"{m.cls.__module__}.{m.cls.__name__}.{m.name}" for m in _MEMBERS]
    names += [f"{module.__name__}.{attr}" for module, attrs in _MODULE_ATTRS for attr in attrs]
    return names


def missing() -> list[str]:
    """The touchpoints the installed fakesnow lacks (empty when all resolve)."""
    gone = [f"{module.__name__}.{attr}" for module, attr in _PATCHABLE.values() if not hasattr(module, attr)]
    gone += [f"fakesnow.cursor.FakeSnowflakeCursor.{m}" for m in _CURSOR_METHODS if not hasattr(FakeSnowflakeCursor, m)]
    for m in _MEMBERS:  # instance attributes: set by the class's own code as self.<name>
        if f"self.{m.name}" not in inspect.getsource(m.cls):
            gone.append(f"{m.cls.__module__}.{m.cls.__name__}.{m.name}")
    gone += [f"{module.__name__}.{attr}" for module, attrs in _MODULE_ATTRS for attr in attrs
             if not hasattr(module, attr)]  # fmt: skip
    return gone


def check() -> None:
    """Fail loudly if the installed fakesnow lacks a touchpoint; warn if its version is not the one pinned.

    Raises
    ------
    FakesnowIncompatible
        naming the first missing touchpoint, the installed version and the version written for.
    """
    version = installed_version()
    if gone := missing():
        raise FakesnowIncompatible(", ".join(gone), version)
    if version != WRITTEN_FOR:
        logger.warning("fakesnow %s is installed; the twin was written against %s", version, WRITTEN_FOR)


# --- module globals the twin replaces -------------------------------------------------------------------------


def current(name: str) -> Any:
    """The present value of a patchable fakesnow global (it may already be wrapped)."""
    module, attr = _PATCHABLE[name]
    return getattr(module, attr)


def replace(name: str, value: Any) -> None:
    """Set a patchable fakesnow global (see the table above)."""
    module, attr = _PATCHABLE[name]
    setattr(module, attr, value)


def wrap(name: str, wrapper: Callable[[F], F], marker: str) -> F:
    """Wrap a patchable fakesnow global once: unless it carries marker already. Returns the global's value."""
    fn = current(name)
    if not getattr(fn, marker, False):
        fn = wrapper(fn)
        replace(name, fn)
    return fn


def wrap_cursor_method(name: str, wrapper: Callable[[F], F], marker: str) -> None:
    """Wrap FakeSnowflakeCursor.<name> (execute, _execute or _transform) once: unless it carries marker."""
    if name not in _CURSOR_METHODS:
        raise ValueError(f"wrap_cursor_method: {name!r} is not one of {_CURSOR_METHODS}")
    method = getattr(FakeSnowflakeCursor, name)
    if not getattr(method, marker, False):
        setattr(FakeSnowflakeCursor, name, wrapper(method))


def cursor_method_wrapped(name: str, marker: str) -> bool:
    return bool(getattr(getattr(FakeSnowflakeCursor, name), marker, False))


def replace_route(path: str, endpoint: Callable[..., Any], *, in_route_list: bool = True) -> None:
    """Serve path with endpoint in fakesnow's app (and its module route list, which server.py builds from)."""
    from starlette.routing import Route

    lists = (_server.routes, _server.app.router.routes) if in_route_list else (_server.app.router.routes,)
    for routes in lists:
        for i, route in enumerate(routes):
            if getattr(route, "path", None) == path and getattr(route, "endpoint", None) is not endpoint:
                routes[i] = Route(path, endpoint, methods=["POST"])


def add_route(path: str, endpoint: Callable[..., Any], *, methods: list[str]) -> None:
    """Serve a new path in fakesnow's app and its module route list (once)."""
    from starlette.routing import Route

    for routes in (_server.routes, _server.app.router.routes):
        if not any(getattr(r, "path", None) == path for r in routes):
            routes.append(Route(path, endpoint, methods=methods))


def server_routes() -> list[Any]:
    return list(_server.routes)


async def query_request(request: Any) -> Any:
    """fakesnow's query route as it is now (wrapped by query_responses once installed)."""
    return await _server.query_request(request)


def local_bucket_path() -> str:
    """Where fakesnow keeps internal stages' files (moved under the twin's home by server.py)."""
    return str(_stage.LOCAL_BUCKET_PATH)


def set_local_bucket_path(path: str) -> None:
    _stage.LOCAL_BUCKET_PATH = path


def csv_defaults() -> dict[str, Any]:
    """fakesnow's CSV file-format defaults (a copy)."""
    return dict(_file_format.CSV_DEFAULT_OPTIONS)


def set_csv_default(option: str, value: str) -> None:
    """Change fakesnow's CSV file-format default (what CREATE FILE FORMAT stores and DESCRIBE shows)."""
    _file_format.CSV_DEFAULT_OPTIONS[option] = value


# --- the server's shared instance and sessions ---------------------------------------------------------------


def shared_fs() -> Any:
    return _server.shared_fs


def set_shared_fs(fs: FakeSnow) -> None:
    _server.shared_fs = fs


def session(token: str) -> FakeSnowflakeConnection | None:
    """The connection of a logged-in session, by its token."""
    return _server.sessions.get(token)


def end_session(token: str) -> None:
    _server.sessions.pop(token, None)


# --- COPY parsing shared with fakesnow's own COPY ------------------------------------------------------------


def from_source(copy: exp.Copy) -> str:
    """A COPY's FROM as fakesnow reads it (eg: '@DB.SCH.STAGE/path')."""
    return _copy_into._from_source(copy)


def extract_table(target: exp.Expr) -> exp.Table:
    """A COPY's target table as fakesnow reads it."""
    return _copy_into._extract_table(target)


def fakesnow_copy_into(*args: Any, **kwargs: Any) -> Any:
    """fakesnow's own COPY INTO (the twin's copy_csv falls back to it)."""
    return _copy_into.copy_into(*args, **kwargs)


# --- private members of fakesnow's cursor and connection -----------------------------------------------------


def duck_conn(cursor_or_conn: FakeSnowflakeCursor | FakeSnowflakeConnection) -> DuckDBPyConnection:
    """The DuckDB connection of a fakesnow cursor or connection."""
    return cursor_or_conn._duck_conn


def connection(cursor: FakeSnowflakeCursor) -> FakeSnowflakeConnection:
    """The fakesnow connection a cursor belongs to."""
    return cursor._conn


def query_id(cursor: FakeSnowflakeCursor) -> str | None:
    """The query id fakesnow gave the cursor's last statement."""
    return cursor._sfqid


def execute_parsed(
    cursor: FakeSnowflakeCursor, transformed: exp.Expr, params: MutableParams | None = None
) -> None:
    """Run an already-transformed (DuckDB) expression as the cursor's statement: its rows become the result."""
    cursor._execute(transformed, params)


def leave_schema(conn: FakeSnowflakeConnection) -> None:
    """The session has no current schema (its database was dropped)."""
    conn._schema = None


def forget_transaction(conn: FakeSnowflakeConnection) -> None:
    """fakesnow's AUTOCOMMIT-off bookkeeping: the next DML statement begins a new transaction."""
    conn._in_transaction = False


def new_connection(duck: DuckDBPyConnection, database: str | None, schema: str | None) -> FakeSnowflakeConnection:
    """A fakesnow session on an existing DuckDB cursor that creates nothing."""
    return FakeSnowflakeConnection(duck, {}, database, schema, create_database=False, create_schema=False)


__all__ = [
    "FS_COLUMNS_EXT",
    "FS_FILE_FORMATS",
    "FS_STAGES",
    "FS_USERS",
    "GLOBAL_DATABASE_NAME",
    "WRITTEN_FOR",
    "FakeSnow",
    "FakeSnowflakeConnection",
    "FakeSnowflakeCursor",
    "FakesnowIncompatible",
    "LoadHistoryRecord",
    "MutableParams",
    "TableStages",
    "check",
    "connection",
    "csv_defaults",
    "current",
    "cursor_method_wrapped",
    "duck_conn",
    "end_session",
    "execute_parsed",
    "extract_table",
    "fakesnow_copy_into",
    "forget_transaction",
    "from_source",
    "info_schema",
    "installed_version",
    "internal_dir",
    "internal_file_name",
    "internal_files_sql",
    "is_internal",
    "is_table_stage",
    "leave_schema",
    "local_bucket_path",
    "lookup_file_format",
    "macros",
    "missing",
    "new_connection",
    "not_found_error",
    "parse_options",
    "parts_from_var",
    "pop_qmark_param",
    "query_id",
    "query_request",
    "replace",
    "replace_route",
    "server_routes",
    "session",
    "set_csv_default",
    "set_local_bucket_path",
    "set_shared_fs",
    "shared_fs",
    "show",
    "stage_lookup_sql",
    "stage_url_from_var",
    "touchpoints",
    "wrap",
    "wrap_cursor_method",
]
