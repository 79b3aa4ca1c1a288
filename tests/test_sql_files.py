"""Every file under include/sql/ renders and parses with sqlglot's Snowflake dialect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from snowseg.migrations import split_statements
from snowseg.warehouse import SQL_DIR, render

# admin/ holds a script an admin runs by hand (many statements), not SQL the pipeline renders
SQL_FILES = sorted(p for p in SQL_DIR.rglob("*.sql") if p.relative_to(SQL_DIR).parts[0] != "admin")
# sample values for placeholders, by name (identifiers, literals, fragments)
FILL = {
    "columns": '    "A" varchar, "B" number(10, 2)',
    "positions": "$1, $2",
    "numeric": "        cast(A as float) as A",
    "encoded": "        iff(B = 'x', 1, 0) as B__X",
    "entity": "ID",
    "stage_path": "@DB.RAW.%T/abc/",
    "file_url": "'file:///tmp/a.csv'",
    "file_format": "'DB.RAW.FF'",
    "on_error": "ABORT_STATEMENT",
    "load_path": "'small_file'",
    "batch_id": "'b1'",
    "parallel": "4",
    "delimiter": "','",
    "quote": "'\"'",
    "date_format": "'MM/DD/YYYY'",
    "time_format": "'HH24:MI'",
    "file_selection": "files = ('a.csv.gz')",
    "files": "'a.csv.gz', 'b.csv.gz'",
    "url": "'s3://bucket/sales/'",
    "storage_integration": "S3_INT",
    "prefix": "'snowpipe_0123/'",
    "stage_pattern": "'SNOWSEG_LANDING'",
    "select_columns": '"A", "B"',
    "sample": "sample (100 rows)",
    "column": "C",
    "column_type": "number(6, 0)",
    "header_columns": '    "Invoice ID" varchar, "Unit price" number(10, 2)',
    "header_names": '"Invoice ID", "Unit price"',
    "column_names": "A, B",
    "target_table": "'DB.RAW.T'",
    "service_role": "SNOWSEG_ROLE",
    "feature_query": "select 'e1' as ENTITY_ID, 1.0 as X",
    "permille": "1000",
}
# statements sqlglot keeps as a generic command: checked for their shape instead
_COMMAND_SHAPES = (
    re.compile(r"put '?file://", re.I), re.compile(r"remove @", re.I), re.compile(r"show ", re.I),
    re.compile(r"grant (ownership|[a-z, ]+) on (database|schema|table|view|stage|file format|pipe) [\w.]+ to role \w+"
               r"( copy current grants)?$", re.I),
    re.compile(r"alter file format [\w.]+ set( [a-z_]+ = ('[^']*'|\([^)]*\)|[\w]+))+$", re.I),
    # sqlglot has no ALTER PIPE: the documented REFRESH form, its one option a quoted PREFIX
    re.compile(r"alter pipe \w+\.\w+\.\w+ refresh( prefix = '[^']*')?$", re.I),
)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([a-z_]+)\}", text))


@pytest.mark.parametrize("path", SQL_FILES, ids=[str(p.relative_to(SQL_DIR)) for p in SQL_FILES])
def test_sql_file_parses_as_snowflake(path: Path):
    name = str(path.relative_to(SQL_DIR))
    fragments = {k: FILL.get(k, "X") for k in _placeholders(path.read_text())}
    sql = render(name, **fragments)
    bound = re.sub(r"%\((\w+)\)s", "'v'", sql)
    if re.fullmatch(r"describe pipe \w+\.\w+\.\w+", bound, re.I):
        return  # sqlglot has no DESCRIBE PIPE; the shape is all there is to check
    parts = split_statements(bound) if name.startswith("migrations/") else [bound]
    for part in parts:
        if pipe := re.match(r"create pipe .*?\bas\s+(copy into .*)", part, re.S | re.I):
            part = pipe.group(1)  # sqlglot has no CREATE PIPE: check the pipe's COPY
        flat = " ".join(part.split())
        if any(shape.match(flat) for shape in _COMMAND_SHAPES):
            continue
        statements = [s for s in sqlglot.parse(part, read="snowflake") if s is not None]
        assert len(statements) == 1, f"{name}: one statement per file (a migration: per statement)"
        assert not isinstance(statements[0], exp.Command), (
            f"{name}: sqlglot could not parse it beyond a generic command: {statements[0].sql()[:80]}"
        )


def test_sql_files_exist():
    assert len(SQL_FILES) >= 15
