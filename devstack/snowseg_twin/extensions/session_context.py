"""The session's context: CURRENT_USER(), CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_ACCOUNT() and USE ROLE.

Emulates what Snowflake sets at login and what the context functions return:
- the user is the user whose LOGIN_NAME the client sent (upper-cased, as Snowflake stores unquoted names);
- the role is the login's role (the connector's ``role``), else the user's DEFAULT_ROLE, else PUBLIC; ``USE ROLE r``
  changes it;
- the warehouse is the login's warehouse if that warehouse exists, else the user's DEFAULT_WAREHOUSE if it exists,
  else NULL: a login naming a warehouse that does not exist succeeds with no current warehouse, as in Snowflake.
  ``USE WAREHOUSE`` and ``CREATE WAREHOUSE`` change it (warehouses);
- the account is the login's account name, upper-cased.

users.login_request records the context on the session's connection (set_login); the context functions are
replaced by literals before fakesnow's transforms run (wrap_transform), so they work anywhere in a query.

When privileges are enforced (access_control, env SNOWSEG_TWIN_PRIVILEGES=enforce), the role must be one the user
was granted (directly or below a granted role, or PUBLIC): at login (users: 390189 "Role 'R' specified in the connect
string is not granted to this user. ...") and in USE ROLE (003013 "Requested role 'R' is not assigned to the
executing user.  Specify another role to activate."; a role that does not exist: 002003).

Differs from Snowflake: without enforcement the role is not checked; CURRENT_ACCOUNT() is the account name, not the
locator; secondary roles are never active. A session without a login context (fakesnow.patch() in-process) keeps
DuckDB's own functions.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlglot
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from sqlglot import exp

from snowseg_twin.extensions._account_catalog import NAME, ident
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

_ATTR = "_snowseg_session"
_lock = threading.Lock()

_USE_ROLE = re.compile(rf"^\s*USE\s+ROLE\s+(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Session:
    user: str | None
    role: str | None
    warehouse: str | None
    account: str | None


def get(conn: Any) -> Session | None:  # noqa: ANN401
    """The session's context, or None for a session that did not log in through the twin's login route."""
    return conn.__dict__.get(_ATTR)


def set_login(conn: Any, session: Session) -> None:  # noqa: ANN401
    with _lock:
        setattr(conn, _ATTR, session)


def update(conn: Any, **changes: str | None) -> None:  # noqa: ANN401
    """Change the session's role or warehouse (USE ROLE / USE WAREHOUSE / CREATE WAREHOUSE / DROP WAREHOUSE)."""
    with _lock:
        current = conn.__dict__.get(_ATTR) or Session(None, None, None, None)
        setattr(conn, _ATTR, replace(current, **changes))


_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.CurrentUser: "user",
    exp.CurrentRole: "role",
    exp.CurrentWarehouse: "warehouse",
    exp.CurrentAccount: "account",
}


def replace_context_functions(session: Session, expression: exp.Expr) -> exp.Expr:
    """expression with each context function replaced by its value in session (NULL when unset)."""
    kinds = tuple(_FUNCTIONS)
    if not any(True for _ in expression.find_all(*kinds)):
        return expression

    def value(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, kinds):
            return node
        v = getattr(session, _FUNCTIONS[type(node)])
        lit = exp.cast(sqlglot.parse_one(literal(v), read="duckdb") if v is not None else exp.Null(), "VARCHAR")
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            # a projection keeps Snowflake's column name, eg: CURRENT_ROLE()
            return exp.alias_(lit, f"{node.sql(dialect='snowflake').upper()}", quoted=True)
        return lit

    return expression.transform(value, copy=False)


def wrap_transform(transform: Callable[..., exp.Expr]) -> Callable[..., exp.Expr]:
    @functools.wraps(transform)
    def wrapped(self: FakeSnowflakeCursor, expression: exp.Expr, *args: Any, **kwargs: Any) -> exp.Expr:
        session = get(compat.connection(self))
        if session is not None:
            expression = replace_context_functions(session, expression)
        return transform(self, expression, *args, **kwargs)

    wrapped.__snowseg_session_context__ = True  # type: ignore[attr-defined]
    return wrapped


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """USE ROLE r: the session's role becomes r; False for any other statement."""
    m = _USE_ROLE.match(command)
    if not m:
        return False
    update(compat.connection(cursor), role=ident(m["name"]))
    status = f"SELECT {literal('Statement executed successfully.')} AS status"
    compat.execute_parsed(cursor, sqlglot.parse_one(status, read="duckdb"))
    return True


def install() -> None:
    """Wrap FakeSnowflakeCursor._transform once (idempotent)."""
    compat.wrap_cursor_method("_transform", wrap_transform, "__snowseg_session_context__")
