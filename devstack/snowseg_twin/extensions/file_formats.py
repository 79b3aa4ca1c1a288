"""ALTER FILE FORMAT ... SET / UNSET: change a named file format's options in place.

Emulates Snowflake's `ALTER FILE FORMAT [IF EXISTS] <name> SET <formatTypeOptions> [COMMENT = '...']` and
`ALTER FILE FORMAT [IF EXISTS] <name> UNSET <option> [, ...]` (https://docs.snowflake.com/en/sql-reference/sql/alter-file-format):
the options given replace the stored ones, UNSET restores an option's default, the format keeps its identity, so
objects that reference it (a pipe's COPY) keep working. The TYPE cannot be changed by ALTER ("To change the type,
use CREATE OR REPLACE FILE FORMAT"): SET TYPE = ... fails with the twin's 001003 compilation error. A missing format
fails with 002003 "SQL compilation error:\\nFile format 'DB.SCH.F' does not exist or not authorized." unless IF EXISTS.
Result: "Statement executed successfully.".

Options are parsed by sqlglot's Snowflake dialect as in CREATE FILE FORMAT (fakesnow's parse_options), and kept in
fakesnow's file-format catalog, which COPY and DESCRIBE read.

CREATE FILE FORMAT records Snowflake's default ESCAPE_UNENCLOSED_FIELD = '\\' (backslash) for a CSV format that
doesn't set it (fakesnow's own default is NONE, the only value its DuckDB reader could honour; the twin's COPY engine
honours both): install_defaults().

Differs from Snowflake: RENAME TO and SET TAG are not supported (NotImplementedError).
"""

from __future__ import annotations

import json
import re
from typing import Any

import snowflake.connector.errors
import sqlglot
from snowseg_twin.extensions._fakesnow_compat import parse_options

from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions.stage_drops import FILE_FORMATS, _NAME, _parts
from snowseg_twin.extensions import _fakesnow_compat as compat

_ALTER = re.compile(
    rf"^\s*ALTER\s+FILE\s+FORMAT\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s+"
    rf"(?:(?P<set>SET)\s+(?P<options>.+?)|(?P<unset>UNSET)\s+(?P<unset_options>[\w\s,]+?)|(?P<other>RENAME|SET\s+TAG).*?)"
    rf"\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
UNPARSABLE = [_ALTER]


def install_defaults() -> None:
    """Make fakesnow's CSV defaults (what CREATE FILE FORMAT stores and DESCRIBE shows, what UNSET restores)
    Snowflake's: ESCAPE_UNENCLOSED_FIELD = '\\' ("Default: backslash",
    https://docs.snowflake.com/en/sql-reference/sql/create-file-format)."""
    compat.set_csv_default("ESCAPE_UNENCLOSED_FIELD", "\\")


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run ALTER FILE FORMAT; False for any other statement."""
    m = _ALTER.match(command)
    if not m:
        return False
    if m["other"]:
        raise NotImplementedError(f"ALTER FILE FORMAT ... {m['other'].upper()}")
    conn = compat.connection(cursor)
    catalog, schema, name = _parts(m["name"], conn.database, conn.schema)
    with compat.duck_conn(cursor).cursor() as own:  # DDL commits at once, apart from a session's transaction
        found = own.execute(f"SELECT options FROM {FILE_FORMATS} WHERE database_name = ? AND schema_name = ? AND "
                            "name = ?", [catalog, schema, name]).fetchall()
        if not found:
            if m["ie"]:
                return _result(cursor, "Statement executed successfully.")
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nFile format '{catalog}.{schema}.{name}' does not exist or not authorized.",
                errno=2003, sqlstate="02000",
            )
        options = json.loads(found[0][0])
        if m["set"]:
            changes = parse_options(sqlglot.parse_one(f"CREATE FILE FORMAT x {m['options']}", read="snowflake")
                                    .args.get("properties") or [])
            if "TYPE" in changes and str(changes["TYPE"]).upper() != str(options.get("TYPE", "CSV")).upper():
                raise snowflake.connector.errors.ProgrammingError(
                    msg="SQL compilation error:\nInvalid file format: the type of a file format cannot be changed by "
                        "ALTER FILE FORMAT; use CREATE OR REPLACE FILE FORMAT.", errno=1003, sqlstate="42000")
            comment = changes.pop("COMMENT", None)
            options.update({k: v for k, v in changes.items() if k != "TYPE"})
            update, values = "options = ?", [json.dumps(options)]
            if comment is not None:
                update, values = update + ", comment = ?", [*values, str(comment)]
        else:
            defaults = compat.csv_defaults() if str(options.get("TYPE", "CSV")).upper() == "CSV" else {}
            for option in (o.strip().upper() for o in m["unset_options"].split(",") if o.strip()):
                options.pop(option, None)
                if option in defaults:
                    options[option] = defaults[option]
            update, values = "options = ?", [json.dumps(options)]
        own.execute(f"UPDATE {FILE_FORMATS} SET {update} WHERE database_name = ? AND schema_name = ? AND name = ?",
                    [*values, catalog, schema, name])
    return _result(cursor, "Statement executed successfully.")


def _result(cursor: Any, status: str) -> bool:  # noqa: ANN401
    compat.execute_parsed(cursor, sqlglot.parse_one(f"SELECT {literal(status)} AS status", read="duckdb"))
    return True
