"""LIST / LS of an internal stage, with a path and PATTERN.

Emulates Snowflake's `LIST @stage[/path] [PATTERN = '<regex>']` for table stages (@%T, @DB.SCH.%T) and named
internal stages (@S, @DB.SCH.S): "path" is a case-sensitive prefix of the files' paths within the stage
("LIST @my_stage/path1/" lists the files under path1), PATTERN a regular expression matched against the whole
name. The result has Snowflake's columns name (the path within the stage, prefixed with the stage's name for a
named stage), size, md5 and last_modified ("Fri, 27 Nov 2026 17:00:00 GMT").
https://docs.snowflake.com/en/sql-reference/sql/list

fakesnow's own LIST knows neither a path nor PATTERN; external S3 stages are s3_stages' (registered first).

Differs from Snowflake: md5 is the hex MD5 of the file as staged (Snowflake shows the MD5 of the encrypted
file for internal stages).
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime
from typing import Any

import sqlglot

from snowseg_twin.extensions._staged_files import internal_location, list_prefix
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

_LIST = re.compile(
    r"""^\s*(?:LIST|LS)\s+
        (?P<target>'(?:[^']|'')*'|@[^\s;]+)
        (?:\s+PATTERN\s*=\s*'(?P<pattern>(?:[^'\\]|\\.|'')*)')?
        \s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_COLUMNS = ("CAST(name AS VARCHAR) AS name, CAST(size AS BIGINT) AS size, CAST(md5 AS VARCHAR) AS md5, "
            "CAST(last_modified AS VARCHAR) AS last_modified")  # fmt: skip


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_sql(cursor: Any, command: str) -> str | None:  # noqa: ANN401
    """SQL giving LIST's result for an internal stage, or None if the statement is not such a LIST."""
    m = _LIST.match(command)
    if not m:
        return None
    target = m["target"]
    if target.startswith("'"):
        target = target[1:-1].replace("''", "'")
    if not target.startswith("@") or target.startswith("@~"):
        return None
    location = internal_location(cursor, target)
    if location is None:
        return None
    files = list_prefix(location, compat.duck_conn(cursor))
    if m["pattern"] is not None:
        regex = re.compile(m["pattern"].replace("''", "'"))
        files = [f for f in files if regex.fullmatch(f.listed_name) or regex.fullmatch(f.name)]
    if not files:
        nulls = "NULL AS name, NULL AS size, NULL AS md5, NULL AS last_modified"
        return f"SELECT {_COLUMNS} FROM (SELECT {nulls}) WHERE false"
    rows = []
    for f in files:
        st = os.stat(f.path)
        modified = datetime.fromtimestamp(st.st_mtime, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        rows.append("(" + ", ".join(literal(v) for v in (f.listed_name, st.st_size, _md5(f.path), modified)) + ")")
    return f"SELECT {_COLUMNS} FROM (VALUES {', '.join(rows)}) AS t(name, size, md5, last_modified)"


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run command if it is a LIST of an internal stage; False to let fakesnow (or another handler) run it."""
    sql = list_sql(cursor, command)
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True
