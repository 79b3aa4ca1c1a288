"""Statements fakesnow can't parse or handles differently, run by the twin's modules before fakesnow sees them.

Each handler takes (cursor, command, execute, params, args, kwargs), runs the statement itself (through
cursor._execute with the SQL of its result, or through execute, fakesnow's own) and returns True; or
returns False to leave the statement to the next handler and finally to fakesnow. Handlers are
registered by install() in the order they are tried.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import snowflake.connector.errors
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

Handler = Callable[[FakeSnowflakeCursor, str, Callable[..., Any], Any, tuple, dict], bool]

HANDLERS: list[Handler] = []


def register(handler: Handler) -> None:
    if handler not in HANDLERS:
        HANDLERS.append(handler)


def wrap_execute(execute: Callable[..., FakeSnowflakeCursor]) -> Callable[..., FakeSnowflakeCursor]:
    @functools.wraps(execute)
    def wrapped(
        self: FakeSnowflakeCursor,
        command: str,
        params: Sequence[Any] | dict[Any, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> FakeSnowflakeCursor:
        if isinstance(command, str):
            for handler in list(HANDLERS):
                try:
                    if handler(self, command, execute, params, args, kwargs):
                        return self
                except NotImplementedError as e:
                    # raise as fakesnow reports unsupported features
                    issues = "https://github.com/tekumara/fakesnow/issues/new"
                    msg = f"{e} not implemented. Please raise an issue via {issues}"
                    raise snowflake.connector.errors.ProgrammingError(msg=msg, errno=9999, sqlstate="99999") from e
        return execute(self, command, params, *args, **kwargs)

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
