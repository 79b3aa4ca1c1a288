"""Helpers for the twin's table functions: `SELECT ... FROM TABLE(<fn>(...))` answered from twin metadata.

sqlglot parses TABLE(<fn>(...)) as a TableFromRows node; each table-function module replaces that node,
after fakesnow's transforms ran, by a subquery computing its rows, so the rest of the SELECT (columns,
WHERE, ORDER BY) runs in DuckDB as written. Rows are inlined as typed VALUES so the statement can be
described again later (fakesnow's server DESCRIBEs the last SQL to build the result's row type).
The same typed VALUES (literal, values_sql) build the results of statements the twin answers itself
(pipes, s3_stages' LIST, copy_csv's COPY result).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from typing import Any

import snowflake.connector.errors
import sqlglot
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from sqlglot import exp

# (cursor, the TABLE(...) call's function expression) -> duckdb SQL of the rows, or None if not ours
Rewriter = Callable[[FakeSnowflakeCursor, exp.Expr], str | None]


def function_name(fn: exp.Expr) -> tuple[list[str], exp.Anonymous] | None:
    """(qualifier parts, call) of a TABLE(...) function such as DB.INFORMATION_SCHEMA.COPY_HISTORY(...)."""
    qualifiers: list[str] = []
    while isinstance(fn, exp.Dot):
        left = fn.this
        qualifiers = [p.name for p in (left.parts if isinstance(left, exp.Column) else _dot_parts(left))]
        fn = fn.expression
    if isinstance(fn, exp.Anonymous):
        return qualifiers, fn
    return None


def _dot_parts(e: exp.Expr) -> list[exp.Expr]:
    if isinstance(e, exp.Dot):
        return [*_dot_parts(e.this), *_dot_parts(e.expression)]
    return [e]


def kwargs_of(call: exp.Anonymous) -> tuple[list[exp.Expr], dict[str, exp.Expr]]:
    positional, named = [], {}
    for arg in call.expressions:
        if isinstance(arg, exp.Kwarg):
            named[arg.this.name.upper()] = arg.expression
        else:
            positional.append(arg)
    return positional, named


def rewrite_table_functions(cursor: FakeSnowflakeCursor, expression: exp.Expr, rewriter: Rewriter) -> exp.Expr:
    for node in list(expression.find_all(exp.TableFromRows)):
        sql = rewriter(cursor, node.this)
        if sql is None:
            continue
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier("_fs_table_function"))
        node.replace(exp.Subquery(this=sqlglot.parse_one(sql, read="duckdb"), alias=alias))
    return expression


def wrap_transform(rewriter: Rewriter, marker: str) -> Callable[[Callable[..., exp.Expr]], Callable[..., exp.Expr]]:
    """Wrap FakeSnowflakeCursor._transform to rewrite the table function calls rewriter recognises."""

    def wrap(transform: Callable[..., exp.Expr]) -> Callable[..., exp.Expr]:
        @functools.wraps(transform)
        def wrapped(self: FakeSnowflakeCursor, expression: exp.Expr, *args: Any, **kwargs: Any) -> exp.Expr:
            transformed = transform(self, expression, *args, **kwargs)
            if transformed.find(exp.TableFromRows) is None:
                return transformed
            return rewrite_table_functions(self, transformed, rewriter)

        setattr(wrapped, marker, True)
        return wrapped

    return wrap


def literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        return f"CAST('{value.isoformat()}' AS TIMESTAMPTZ)"
    return exp.Literal.string(str(value)).sql(dialect="duckdb")


def values_sql(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]) -> str:
    """A SELECT giving rows with the columns' names and DuckDB types (possibly no rows)."""
    names = ", ".join(f'"{n}"' for n, _ in columns)
    select = ", ".join(f'CAST("{n}" AS {t}) AS "{n}"' for n, t in columns)
    if not rows:
        nulls = ", ".join(f'NULL AS "{n}"' for n, _ in columns)
        return f"SELECT {select} FROM (SELECT {nulls}) WHERE false"
    values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"SELECT {select} FROM (VALUES {values}) AS t({names})"


def table_exists(duck_conn: DuckDBPyConnection, catalog: str, schema: str, name: str) -> bool:
    rows = duck_conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = ? "
        "AND ((table_catalog = ? AND table_schema = ?) OR table_catalog = 'temp') LIMIT 1",
        [name, catalog, schema],
    ).fetchall()
    return bool(rows)


def table_not_found(catalog: str, schema: str, name: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\nTable '{catalog}.{schema}.{name}' does not exist or not authorized.",
        errno=2003,
        sqlstate="42S02",
    )


def no_current_database() -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg="Cannot perform SELECT. This session does not have a current database. Call 'USE DATABASE', "
        "or use a qualified name.",
        errno=90105,
        sqlstate="22000",
    )


def table_parts(parts: list[str], database: str | None, schema: str | None) -> tuple[str, str, str]:
    if len(parts) == 1:
        catalog, sch, name = database, schema, parts[0]
    elif len(parts) == 2:
        catalog, sch, name = database, parts[0], parts[1]
    else:
        catalog, sch, name = parts[-3], parts[-2], parts[-1]
    if not catalog or not sch:
        raise no_current_database()
    return catalog, sch, name
