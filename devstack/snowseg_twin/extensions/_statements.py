"""Statements fakesnow can't parse or handles differently, run by the twin's modules before fakesnow sees them.

Each handler takes (cursor, command, execute, params, args, kwargs), runs the statement itself (through
cursor._execute with the SQL of its result, or through execute, fakesnow's own) and returns True; or
returns False to leave the statement to the next handler and finally to fakesnow. Handlers are
registered by extensions.install() in the order they are tried. After-hooks (register_after) are called with the
cursor once a statement has run without error, whoever ran it (eg: query_ids records its query id).

Before-hooks (register_before) see every statement first, before any handler or fakesnow: they may refuse it by
raising (eg: access_control's privilege checks), and may return a callable that is run once the statement has
succeeded (eg: recording the new object's owner); a statement that fails runs none.

install() wraps FakeSnowflakeCursor.execute and fakesnow's server parse_one once (idempotent).

Where each statement is recognised (the handlers in the order extensions.install() registers them; most match the
statement's text with their module's regexes, as sqlglot parses these forms as a Command or not at all):

=========================  ===========================================================================================
module                     statements
=========================  ===========================================================================================
s3_stages                  CREATE STAGE with an s3:// URL, LIST of an external stage
stage_list                 LIST / LS of an internal stage (path, PATTERN)
pipes.statements           CREATE / SHOW / DESC / DROP / ALTER PIPE, SELECT SYSTEM$PIPE_STATUS(..)
remove                     REMOVE / RM
file_formats               ALTER FILE FORMAT
session_context            USE ROLE
session_params             ALTER SESSION SET / UNSET
warehouses                 CREATE / DROP / SHOW / USE WAREHOUSE
integrations               CREATE / SHOW / DESC / DROP STORAGE INTEGRATION
users                      CREATE / ALTER / DESC / DROP USER
stage_drops                DROP STAGE, DROP FILE FORMAT
database_drops             DROP DATABASE
roles                      CREATE / DROP ROLE, GRANT / REVOKE (roles, privileges, future grants), SHOW GRANTS / ROLES
=========================  ===========================================================================================

Before-hooks: session_params.record (the query history's session fields), access_control.before (privileges, by
sqlglot or, for the forms above, access_control.plans' own regexes), ddl_commits.commit_before_ddl (DDL commits an
open transaction). After-hook: query_ids.record. COPY INTO <table> reaches copy_csv through fakesnow's own COPY
(cursor.copy_into); VALIDATE, COPY_HISTORY, LAST_QUERY_ID and the session's context functions are rewritten in the
parsed tree (FakeSnowflakeCursor._transform wrappers of validate, copy_history, query_ids, session_context), and
COPY ... VALIDATION_MODE by validation_mode's _execute wrapper. tests/twin/test_fakesnow_compat.py checks this table
against the registered handlers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import snowflake.connector.errors
from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from sqlglot import exp

Handler = Callable[[FakeSnowflakeCursor, str, Callable[..., Any], Any, tuple, dict], bool]

HANDLERS: list[Handler] = []

AfterHook = Callable[[FakeSnowflakeCursor], None]

AFTER: list[AfterHook] = []

BeforeHook = Callable[[FakeSnowflakeCursor, str, Any], "Callable[[], None] | None"]

BEFORE: list[BeforeHook] = []


def register_before(hook: BeforeHook) -> None:
    if hook not in BEFORE:
        BEFORE.append(hook)


def register(handler: Handler) -> None:
    if handler not in HANDLERS:
        HANDLERS.append(handler)


def register_after(hook: AfterHook) -> None:
    if hook not in AFTER:
        AFTER.append(hook)


def _after(cursor: FakeSnowflakeCursor) -> None:
    for hook in list(AFTER):
        hook(cursor)


def _succeeded(cursor: FakeSnowflakeCursor, done: list[Callable[[], None]]) -> None:
    for on_success in done:
        on_success()
    _after(cursor)


def wrap_execute(execute: Callable[..., FakeSnowflakeCursor]) -> Callable[..., FakeSnowflakeCursor]:
    @functools.wraps(execute)
    def wrapped(
        self: FakeSnowflakeCursor,
        command: str,
        params: Sequence[Any] | dict[Any, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> FakeSnowflakeCursor:
        done: list[Callable[[], None]] = []
        if isinstance(command, str):
            for before in list(BEFORE):
                if (on_success := before(self, command, params if params is not None else kwargs.get("binding_params"))):
                    done.append(on_success)
            for handler in list(HANDLERS):
                try:
                    handled = handler(self, command, execute, params, args, kwargs)
                except NotImplementedError as e:
                    # raise as fakesnow reports unsupported features
                    issues = "https://github.com/tekumara/fakesnow/issues/new"
                    msg = f"{e} not implemented. Please raise an issue via {issues}"
                    raise snowflake.connector.errors.ProgrammingError(msg=msg, errno=9999, sqlstate="99999") from e
                if handled:
                    _succeeded(self, done)
                    return self
        result = execute(self, command, params, *args, **kwargs)
        _succeeded(self, done)
        return result

    wrapped.__snowseg_statements__ = True  # type: ignore[attr-defined]
    return wrapped


# Statements sqlglot can't parse at all (eg: DESC PIPE): fakesnow's server parses each statement before
# executing it, so these are passed on as a Command for the handlers to run.
UNPARSABLE: list[re.Pattern[str]] = []


def wrap_server_parse(parse_one: Callable[[str], Any]) -> Callable[[str], Any]:
    @functools.wraps(parse_one)
    def wrapped(command: str) -> Any:  # noqa: ANN401
        try:
            return parse_one(command)
        except snowflake.connector.errors.ProgrammingError:
            if any(p.match(command) for p in UNPARSABLE):
                verb, _, rest = command.strip().partition(" ")
                return exp.Command(this=verb.upper(), expression=exp.Literal.string(rest))
            raise

    wrapped.__snowseg_statements__ = True  # type: ignore[attr-defined]
    return wrapped


def install() -> None:
    """Wrap FakeSnowflakeCursor.execute and fakesnow's server parse_one (idempotent)."""
    compat.wrap("server.parse_one", wrap_server_parse, "__snowseg_statements__")
    compat.wrap_cursor_method("execute", wrap_execute, "__snowseg_statements__")


def installed() -> bool:
    return compat.cursor_method_wrapped("execute", "__snowseg_statements__")
