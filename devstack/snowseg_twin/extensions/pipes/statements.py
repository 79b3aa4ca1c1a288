"""The pipe statements: CREATE / SHOW / DESC / DROP / ALTER PIPE and SELECT SYSTEM$PIPE_STATUS(..), run by
handle() (registered with _statements)."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import snowflake.connector.errors
import sqlglot
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions._load_history import loaded_before
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions.pipes.catalog import (
    PIPES,
    Pipe,
    all_pipes,
    delete_pipe,
    find,
    lookup,
    not_found,
    open_catalog,
    remember_root,
    resolve_name,
    utc_now,
)
from snowseg_twin.extensions.pipes.channel import notification_channel
from snowseg_twin.extensions.pipes.dependencies import dependencies
from snowseg_twin.extensions.pipes.loader import enqueue, kick
from snowseg_twin.extensions.pipes.locations import accepts, location
from snowseg_twin.extensions.pipes.status import status

_NAME = r"(?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+)){0,2}"
_CREATE = re.compile(
    rf"""^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?PIPE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})
        (?P<props>.*?)\s+AS\s+(?P<copy>COPY\s+INTO\b.*?)\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SHOW = re.compile(
    rf"""^\s*SHOW\s+PIPES(?:\s+LIKE\s+'(?P<like>(?:[^']|'')*)')?
        (?:\s+IN\s+(?:(?P<account>ACCOUNT)|DATABASE\s+(?P<db>{_NAME})|(?:SCHEMA\s+)?(?P<schema>{_NAME})))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
DESC_PIPE = _DESC = re.compile(rf"^\s*DESC(?:RIBE)?\s+PIPE\s+(?P<name>{_NAME})\s*;?\s*$", re.IGNORECASE)
_DROP = re.compile(rf"^\s*DROP\s+PIPE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s*;?\s*$", re.IGNORECASE)
_ALTER = re.compile(
    rf"^\s*ALTER\s+PIPE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s+(?P<action>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_STATUS = re.compile(
    r"""^\s*SELECT\s+(?P<fn>SYSTEM\$PIPE_STATUS)\s*\(\s*'(?P<arg>(?:[^']|'')*)'\s*\)
        (?:\s+(?:AS\s+)?(?P<alias>\w+|"[^"]+"))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_OPTION = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|\S+)", re.DOTALL)

SHOW_COLUMNS = [
    ("created_on", "TIMESTAMPTZ"),
    ("name", "VARCHAR"),
    ("database_name", "VARCHAR"),
    ("schema_name", "VARCHAR"),
    ("definition", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("notification_channel", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("integration", "VARCHAR"),
    ("pattern", "VARCHAR"),
    ("error_integration", "VARCHAR"),
    ("owner_role_type", "VARCHAR"),
    ("invalid_reason", "VARCHAR"),
    ("kind", "VARCHAR"),
]



def _status_sql(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def _show_row(p: Pipe, owner: str | None = "SYSADMIN") -> list[object]:
    return [
        p.created_on, p.name, p.catalog, p.schema, p.definition, owner or "", p.notification_channel, p.comment,
        None, p.pattern, None, "ROLE", None, "STAGE",
    ]  # fmt: skip


def _options(text: str) -> dict[str, str]:
    return {k.upper(): (v[1:-1].replace("''", "'") if v.startswith("'") else v) for k, v in _OPTION.findall(text)}



def create_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
    copy_text = m["copy"].strip()
    copy = sqlglot.parse_one(copy_text, read="snowflake")
    if not isinstance(copy, exp.Copy) or not compat.from_source(copy).startswith("@"):
        raise NotImplementedError("CREATE PIPE whose COPY doesn't read from a stage")
    props = _options(m["props"])
    auto_ingest = props.get("AUTO_INGEST", "FALSE").upper() == "TRUE"
    pattern = None
    for param in copy.args.get("params") or []:
        if param.this.name.upper() == "PATTERN":
            pattern = param.args["expression"].name
    existing = find(catalog, schema, name)
    if existing is not None and not m["replace"]:
        if m["ine"]:
            return _status_sql(f"{name} already exists, statement succeeded.")
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nObject '{name}' already exists.", errno=2002, sqlstate="42710"
        )
    depends = dependencies(copy, catalog, schema, compat.duck_conn(cursor))
    channel = notification_channel() if auto_ingest else None
    with open_catalog() as meta:
        if existing is not None:
            delete_pipe(meta, existing)
        meta.execute(
            f"INSERT INTO {PIPES} (pipe_id, created_on, database_name, schema_name, name, definition, owner, "
            "notification_channel, comment, pattern, auto_ingest, paused, file_format, file_format_created, "
            "stage_name, stage_created) VALUES (?, ?, ?, ?, ?, ?, 'SYSADMIN', ?, ?, ?, ?, FALSE, ?, ?, ?, ?)",
            [str(uuid.uuid4()), utc_now(), catalog, schema, name, copy_text, channel, props.get("COMMENT", ""), pattern,
             auto_ingest, depends.get("file_format"), depends.get("file_format_created"), depends.get("stage_name"),
             depends.get("stage_created")],
        )  # fmt: skip
    return _status_sql(f"Pipe {name} successfully created.")



def show_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    pipes = all_pipes()
    if m["db"]:
        db = resolve_name(f"{m['db']}.X.Y", None, None)[0]
        pipes = [p for p in pipes if p.catalog == db]
    elif m["schema"]:
        catalog, schema, _ = resolve_name(f"{m['schema']}.X", conn.database, conn.schema)
        pipes = [p for p in pipes if (p.catalog, p.schema) == (catalog, schema)]
    elif not m["account"] and conn.database:
        pipes = [p for p in pipes if p.catalog == conn.database]
    if m["like"] is not None:
        regex = re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in m["like"].replace("''", "'")),
            re.IGNORECASE | re.DOTALL,
        )
        pipes = [p for p in pipes if regex.fullmatch(p.name)]
    from snowseg_twin.extensions import access_control

    pipes = [p for p in pipes if access_control.visible(cursor, "PIPE", p.fqname)]
    return values_sql(SHOW_COLUMNS, [_show_row(p, access_control.owner_of(cursor, "PIPE", p.fqname)) for p in pipes])


#: "copies a set of data files staged within the previous 7 days to the Snowpipe ingest queue"
REFRESH_DAYS = 7


def refresh_since(modified_after: str | None, now: datetime.datetime) -> datetime.datetime:
    """The oldest LAST_MODIFIED that ALTER PIPE ... REFRESH queues: 7 days ago, or MODIFIED_AFTER if later.

    Snowflake: REFRESH "copies a set of data files staged within the previous 7 days to the Snowpipe ingest queue"
    (https://docs.snowflake.com/en/user-guide/data-load-snowpipe-manage); MODIFIED_AFTER is the "Timestamp (in
    ISO-8601 format) of the oldest data files to copy into the Snowpipe ingest queue based on the LAST_MODIFIED date"
    (ALTER PIPE). An earlier MODIFIED_AFTER does not reach past the 7 days (the stricter reading); a timestamp
    without a zone is UTC.

    >>> now = datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)
    >>> refresh_since(None, now).isoformat(), refresh_since("2026-12-07T12:00:00", now).isoformat()
    ('2026-12-01T00:00:00+00:00', '2026-12-07T12:00:00+00:00')
    >>> refresh_since("2026-11-01T00:00:00Z", now).isoformat()
    '2026-12-01T00:00:00+00:00'
    """
    floor = now - datetime.timedelta(days=REFRESH_DAYS)
    if not modified_after:
        return floor
    try:
        t = datetime.datetime.fromisoformat(modified_after.strip().replace("Z", "+00:00"))
    except ValueError:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nInvalid value '{modified_after}' for MODIFIED_AFTER: an ISO-8601 timestamp",
            errno=1003, sqlstate="42000",
        ) from None
    t = t.astimezone(datetime.UTC) if t.tzinfo else t.replace(tzinfo=datetime.UTC)
    return max(floor, t)


def alter_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
    pipe = find(catalog, schema, name)
    if pipe is None:
        if m["ie"]:
            return _status_sql("Statement executed successfully.")
        raise not_found(f"{catalog}.{schema}.{name}")
    action = m["action"].strip()
    if re.match(r"REFRESH\b", action, re.IGNORECASE):
        opts = _options(action[len("REFRESH") :])
        unknown = set(opts) - {"PREFIX", "MODIFIED_AFTER"}
        if unknown:
            raise NotImplementedError(f"ALTER PIPE REFRESH {', '.join(sorted(unknown))}")
        duck = compat.duck_conn(cursor)
        loc = location(pipe, duck)
        since = refresh_since(opts.get("MODIFIED_AFTER"), utc_now())
        catalog_, schema_, table_ = pipe.table
        listed = [
            (p, s, u) for p, s, u, modified in loc.list_dated(opts.get("PREFIX", ""))
            if modified >= since and accepts(pipe, loc, u, p)
            and not loaded_before(duck, catalog_, schema_, table_, u)
        ]  # fmt: skip
        queued = enqueue(pipe, [(p, s) for p, s, _ in listed], loc=loc)
        kick(pipe.pipe_id)
        return values_sql([("File", "VARCHAR"), ("Status", "VARCHAR")], [[p, "SENT"] for p in queued])
    sm = re.match(r"SET\s+(.*)$", action, re.IGNORECASE | re.DOTALL)
    if not sm:
        raise NotImplementedError(f"ALTER PIPE {action}")
    opts = _options(sm[1])
    unknown = set(opts) - {"PIPE_EXECUTION_PAUSED", "COMMENT"}
    if unknown:
        raise NotImplementedError(f"ALTER PIPE SET {', '.join(sorted(unknown))}")
    with open_catalog() as meta:
        if "PIPE_EXECUTION_PAUSED" in opts:
            paused = opts["PIPE_EXECUTION_PAUSED"].upper() == "TRUE"
            meta.execute(f"UPDATE {PIPES} SET paused = ? WHERE pipe_id = ?", [paused, pipe.pipe_id])
        if "COMMENT" in opts:
            meta.execute(f"UPDATE {PIPES} SET comment = ? WHERE pipe_id = ?", [opts["COMMENT"], pipe.pipe_id])
    if opts.get("PIPE_EXECUTION_PAUSED", "").upper() == "FALSE":
        kick(pipe.pipe_id)
    return _status_sql("Statement executed successfully.")


def handle(cursor: Any, command: str, execute: Callable, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a pipe statement; False if command is not one."""
    sql = None
    if m := _CREATE.match(command):
        remember_root(cursor)
        sql = create_sql(cursor, m)
    elif m := _SHOW.match(command):
        remember_root(cursor)
        sql = show_sql(cursor, m)
    elif m := _DESC.match(command):
        conn = compat.connection(cursor)
        sql = values_sql(SHOW_COLUMNS, [_show_row(lookup(m["name"], conn.database, conn.schema))])
    elif m := _DROP.match(command):
        conn = compat.connection(cursor)
        catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
        pipe = find(catalog, schema, name)
        if pipe is None and not m["ie"]:
            raise not_found(f"{catalog}.{schema}.{name}")
        if pipe is not None:
            with open_catalog() as meta:
                delete_pipe(meta, pipe)
            sql = _status_sql(f"{name} successfully dropped.")
        else:
            sql = _status_sql("Drop statement executed successfully (" + name + " already dropped).")
    elif m := _ALTER.match(command):
        remember_root(cursor)
        sql = alter_sql(cursor, m)
    elif m := _STATUS.match(command):
        conn = compat.connection(cursor)
        pipe = lookup(m["arg"].replace("''", "'"), conn.database, conn.schema)
        alias = m["alias"]
        column = f"SYSTEM$PIPE_STATUS('{m['arg']}')"
        if alias:
            column = alias[1:-1] if alias.startswith('"') else alias.upper()
        value = json.dumps(status(pipe), separators=(",", ":"))
        sql = f'SELECT {literal(value)} AS "{column.replace(chr(34), chr(34) * 2)}"'
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True
