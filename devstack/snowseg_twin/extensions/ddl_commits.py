"""A DDL statement commits the session's open transaction, then runs as a transaction of its own.

Emulates Snowflake's rule (https://docs.snowflake.com/en/sql-reference/transactions#ddl): "Each DDL statement
executes as a separate transaction. If a DDL statement is executed while a transaction is active, the DDL
statement: 1. Implicitly commits the active transaction. 2. Executes the DDL statement as a separate transaction."
So ``BEGIN; INSERT ...; CREATE TABLE ...; ROLLBACK`` keeps the insert, and a DML statement after the DDL is not in
the rolled-back transaction any more (with AUTOCOMMIT on, it commits by itself).

DuckDB's DDL is transactional, and fakesnow only commits before DDL when AUTOCOMMIT is off (and only for what
sqlglot parses as CREATE / ALTER / DROP / COMMENT). The before-hook here commits the session's DuckDB transaction
before any statement whose command is one of the DDL summary's base commands
(https://docs.snowflake.com/en/sql-reference/sql-ddl-summary: ALTER, COMMENT, CREATE, CREATE OR ALTER, DESCRIBE,
DROP, SHOW, USE) or UNDROP, whoever runs it afterwards (fakesnow or a twin handler). It runs after the privilege
checks: a statement refused for privileges commits nothing.

Differs from Snowflake: GRANT / REVOKE and other commands outside that list leave the transaction open; the twin's
reading of the list is literal (SHOW, DESCRIBE and USE commit too).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from snowseg_twin.extensions import _fakesnow_compat as compat

_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*", re.DOTALL)
_DDL = re.compile(r"\s*(?:CREATE|ALTER|DROP|UNDROP|COMMENT|DESC|DESCRIBE|SHOW|USE)\b", re.IGNORECASE)


def is_ddl(command: str) -> bool:
    """Whether the statement is DDL in Snowflake's sense (by its command word, comments before it ignored).

    Examples
    --------
    >>> [is_ddl(s) for s in ("-- make it\\ncreate table t (a int)", "show tables", "commit", "insert into t values (1)")]
    [True, True, False, False]
    """
    return _DDL.match(_LEADING_COMMENTS.sub("", command)) is not None


def commit_before_ddl(cursor: Any, command: str, _params: Any) -> Callable[[], None] | None:
    """Before-hook (_statements.register_before): commit the session's open transaction before a DDL statement."""
    if not is_ddl(command):
        return None
    from snowseg_twin.extensions.copy_csv import _in_transaction

    duck = compat.duck_conn(cursor)
    if _in_transaction(duck):
        duck.commit()
    compat.forget_transaction(compat.connection(cursor))  # AUTOCOMMIT off: the next DML begins anew
    return None


def install() -> None:
    """Register the hook after the privilege checks (idempotent)."""
    from snowseg_twin.extensions import _statements

    _statements.register_before(commit_before_ddl)
