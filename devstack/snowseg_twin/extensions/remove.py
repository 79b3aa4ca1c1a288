"""REMOVE / RM: delete files from fakesnow's internal stages.

Emulates Snowflake's `REMOVE @stage[/path] [PATTERN = '<regex>']` (alias RM) for table stages
(@%T, @DB.SCH.%T) and named internal stages (@S, @DB.SCH.S): every staged file whose path starts
with the given path, and whose name matches PATTERN (whole-string regex) if given, is deleted. The
result has one row per removed file with columns name (as LIST shows it) and result ('removed');
no matching files gives an empty result. LIST reflects the removal.

fakesnow can't parse REMOVE (sqlglot falls back to a Command), so handle() is registered with
_statements and runs the statement before fakesnow sees it.

Differs from Snowflake: external stages raise NotImplementedError; PATTERN matches either the path
relative to the stage or the LIST name (which, for named stages, starts with the stage name).
"""

from __future__ import annotations

import os
import re
from typing import Any

import sqlglot
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor

from snowseg_twin.extensions._staged_files import internal_location, list_prefix
from snowseg_twin.extensions import _fakesnow_compat as compat

_REMOVE = re.compile(
    r"""^\s*(?:REMOVE|RM)\s+
        (?P<target>'(?:[^']|'')*'|[^\s;]+)
        (?:\s+PATTERN\s*=\s*'(?P<pattern>(?:[^'\\]|\\.|'')*)')?
        \s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_EMPTY_RESULT = "SELECT CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS result WHERE false"


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'") if s.startswith("'") else s


def remove_sql(cursor: FakeSnowflakeCursor, command: str) -> str | None:
    """Delete the files REMOVE names and return SQL giving its result, or None if not a REMOVE."""
    m = _REMOVE.match(command)
    if not m:
        return None
    target = _unquote(m["target"])
    if not target.startswith("@"):
        raise NotImplementedError(f"REMOVE from {target}")
    location = internal_location(cursor, target)
    if location is None:
        raise NotImplementedError("REMOVE from an external stage")
    files = list_prefix(location, compat.duck_conn(cursor))
    if m["pattern"] is not None:
        regex = re.compile(m["pattern"].replace("''", "'"))
        files = [f for f in files if regex.fullmatch(f.name) or regex.fullmatch(f.listed_name)]
    for f in files:
        os.remove(f.path)
    if not files:
        return _EMPTY_RESULT
    rows = ", ".join(
        f"({sqlglot.exp.Literal.string(f.listed_name).sql(dialect='duckdb')}, 'removed')" for f in files
    )
    columns = "CAST(name AS VARCHAR) AS name, CAST(result AS VARCHAR) AS result"
    return f"SELECT {columns} FROM (VALUES {rows}) AS t(name, result)"


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run command if it is a REMOVE / RM; False to let fakesnow run it."""
    sql = remove_sql(cursor, command)
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True
