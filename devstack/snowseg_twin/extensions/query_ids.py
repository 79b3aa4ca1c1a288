"""LAST_QUERY_ID([<num>]): the query id of an earlier statement in the session.

Emulates Snowflake's context function: LAST_QUERY_ID() / LAST_QUERY_ID(-1) is the query id of the
most recent statement the session ran, LAST_QUERY_ID(-2) the one before, and LAST_QUERY_ID(n) for
n > 0 the n-th statement of the session. The ids are the ones the client sees as `cursor.sfqid`,
so `SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))` and VALIDATE(t, JOB_ID => '<id>') work.

The session's statements are recorded by record(), registered as an after-hook with _statements
(after a statement succeeds, its final sfqid is appended to the connection's list); LAST_QUERY_ID(...)
calls are replaced by string literals before fakesnow's transforms run (so RESULT_SCAN sees a literal).

Differs from Snowflake: a statement that failed has no query id in fakesnow and isn't counted; a
position with no statement gives NULL; the argument must be an integer literal.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from sqlglot import exp
from snowseg_twin.extensions import _fakesnow_compat as compat

_ATTR = "_snowseg_query_ids"
_lock = threading.Lock()


def session_query_ids(cursor: FakeSnowflakeCursor) -> list[str]:
    """The query ids of the statements the cursor's session has run, oldest first."""
    conn = compat.connection(cursor)
    with _lock:
        ids = conn.__dict__.get(_ATTR)
        if ids is None:
            ids = []
            setattr(conn, _ATTR, ids)
        return ids


def last_query_id(cursor: FakeSnowflakeCursor, num: int = -1) -> str | None:
    ids = session_query_ids(cursor)
    if num > 0:
        return ids[num - 1] if num <= len(ids) else None
    if num < 0:
        return ids[num] if -num <= len(ids) else None
    return None


def _position(call: exp.Anonymous) -> int:
    if not call.expressions:
        return -1
    arg = call.expressions[0]
    negative = isinstance(arg, exp.Neg)
    if negative:
        arg = arg.this
    if not (isinstance(arg, exp.Literal) and not arg.is_string and arg.this.lstrip("+").isdigit()):
        raise NotImplementedError(f"LAST_QUERY_ID({call.expressions[0].sql(dialect='snowflake')})")
    value = int(arg.this)
    return -value if negative else value


def replace_last_query_id(cursor: FakeSnowflakeCursor, expression: exp.Expr) -> exp.Expr:
    """expression with every LAST_QUERY_ID(...) call replaced by the id it returns."""

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "LAST_QUERY_ID":
            qid = last_query_id(cursor, _position(node))
            return exp.Literal.string(qid) if qid is not None else exp.cast(exp.Null(), exp.DataType.build("VARCHAR"))
        return node

    if not any(str(n.this).upper() == "LAST_QUERY_ID" for n in expression.find_all(exp.Anonymous)):
        return expression
    return expression.transform(replace, copy=False)


def record(cursor: FakeSnowflakeCursor) -> None:
    """Append the query id of the statement the cursor just ran to its session's list (a _statements after-hook)."""
    if compat.query_id(cursor):
        ids = session_query_ids(cursor)
        with _lock:
            ids.append(compat.query_id(cursor))


def wrap_transform(transform: Callable[..., exp.Expr]) -> Callable[..., exp.Expr]:
    @functools.wraps(transform)
    def wrapped(self: FakeSnowflakeCursor, expression: exp.Expr, *args: Any, **kwargs: Any) -> exp.Expr:
        return transform(self, replace_last_query_id(self, expression), *args, **kwargs)

    wrapped.__snowseg_query_ids__ = True  # type: ignore[attr-defined]
    return wrapped
