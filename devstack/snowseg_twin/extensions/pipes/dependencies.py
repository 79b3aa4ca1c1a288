"""What a pipe depends on: the named file format and stage of its COPY; a pipe stops once either is dropped
or replaced."""

from __future__ import annotations

import datetime
from typing import Any

import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions.pipes.catalog import Pipe, open_catalog

STOPPED_FILE_FORMAT_DROPPED = "STOPPED_FILE_FORMAT_DROPPED"
STOPPED_STAGE_DROPPED = "STOPPED_STAGE_DROPPED"


def _created_on(duck: DuckDBPyConnection, table: str, fqname: str) -> datetime.datetime | None:
    """created_on of the file format or stage DB.SCHEMA.NAME, or None if it does not exist."""
    catalog, schema, name = fqname.split(".", 2)
    rows = duck.execute(
        f"SELECT created_on FROM {table} WHERE database_name = ? AND schema_name = ? AND name = ?",
        [catalog, schema, name],
    ).fetchall()
    return rows[0][0] if rows else None


def format_name(copy: exp.Copy) -> str | None:
    """The FORMAT_NAME of the COPY's FILE_FORMAT, as written (None for inline options or none)."""
    for param in copy.args.get("params") or []:
        if param.this.name.upper() == "FILE_FORMAT":
            named = compat.parse_options(param.expressions).get("FORMAT_NAME")
            return None if named is None else str(named)
    return None


def dependencies(copy: exp.Copy, catalog: str, schema: str, duck: DuckDBPyConnection) -> dict[str, Any]:
    """The named file format and stage the COPY uses, with their created_on (Pipe fields); a missing one fails
    with 002003, as Snowflake's compilation of the COPY does. Table stages have no object to depend on."""
    found: dict[str, Any] = {}
    if (named := format_name(copy)) is not None:
        fq = ".".join(compat.parts_from_var(named, catalog, schema))
        created = _created_on(duck, compat.FS_FILE_FORMATS, fq)
        if created is None:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nFile format '{fq}' does not exist or not authorized.", errno=2003,
                sqlstate="02000")
        found |= {"file_format": fq, "file_format_created": created}
    var = compat.from_source(copy)[1:].split("/", 1)[0]
    if not var.split(".")[-1].startswith(("%", "~")):
        fq = ".".join(compat.parts_from_var(var, catalog, schema))
        created = _created_on(duck, compat.FS_STAGES, fq)
        if created is None:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nStage '{fq}' does not exist or not authorized.", errno=2003,
                sqlstate="02000")
        found |= {"stage_name": fq, "stage_created": created}
    return found


def stopped(pipe: Pipe) -> tuple[str, str] | None:
    """(executionState, error) if an object the pipe depends on was dropped or replaced since CREATE PIPE."""
    checks = [
        (pipe.stage_name, pipe.stage_created, compat.FS_STAGES, STOPPED_STAGE_DROPPED, "stage"),
        (pipe.file_format, pipe.file_format_created, compat.FS_FILE_FORMATS, STOPPED_FILE_FORMAT_DROPPED,
         "file format"),
    ]
    with open_catalog() as meta:
        for fq, created, table, state, label in checks:
            if fq is None:
                continue
            now = _created_on(meta, table, fq)
            if now is None or now != created:
                how = "dropped" if now is None else "replaced (dropped and created again)"
                return state, (f"The {label} {fq} that the pipe's COPY uses was {how} after the pipe was created; "
                               "recreate the pipe (CREATE OR REPLACE PIPE).")
    return None
