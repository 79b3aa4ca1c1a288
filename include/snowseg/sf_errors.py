"""Snowflake's error codes that Snowseg acts on: the one owner of these numbers.

The connector's errors carry Snowflake's code as ``errno`` (an int; the message shows it zero-padded to six
digits, eg: ``002003``). Code asks :func:`is_missing` / :func:`is_privilege` / :func:`errno_of` here instead of
comparing numbers of its own. What each code means in words, for people, is :mod:`snowseg.readiness.errors`'.

Examples
--------
>>> from snowflake.connector.errors import ProgrammingError
>>> is_missing(ProgrammingError(msg="Table 'X' does not exist or not authorized.", errno=DOES_NOT_EXIST))
True
>>> is_privilege(ProgrammingError(msg="Insufficient privileges", errno=INSUFFICIENT_PRIVILEGES))
True
>>> errno_of(ValueError("not Snowflake's")), is_missing(ValueError("x"))
(None, False)
"""

from __future__ import annotations

#: No warehouse is in use in the session (a query needs one).
NO_ACTIVE_WAREHOUSE = 606
#: The object exists already, but the role cannot see it.
ALREADY_EXISTS = 2002
#: "Object ... does not exist or not authorized" (also a missing schema or database): Snowflake does not say which.
DOES_NOT_EXIST = 2003
#: "Object does not exist, or operation cannot be performed" (eg: USE WAREHOUSE of a missing one).
DOES_NOT_EXIST_OR_NO_OPERATION = 2043
#: The role lacks the privilege ("Insufficient privileges to operate on ...").
INSUFFICIENT_PRIVILEGES = 3001
#: The stage's cloud storage could not be read (storage integration, IAM role).
STAGE_STORAGE_UNREADABLE = 91003
#: Snowflake could not be reached (network, proxy, account identifier).
UNREACHABLE = 250001
#: The connection has no user, or no password.
NO_USER = 251005
NO_PASSWORD = 251006
#: Login refused: user name or password.
BAD_USER_OR_PASSWORD = 390100
#: Login refused: the user is disabled.
USER_DISABLED = 390101
#: Login refused: the key-pair JWT is invalid (the user's RSA_PUBLIC_KEY is not the connection key's).
INVALID_JWT = 390144
#: Login refused: the connection's role is not granted to the user.
ROLE_NOT_GRANTED = 390189

#: Codes that say "it does not exist, or the role may not see it".
MISSING = (DOES_NOT_EXIST, DOES_NOT_EXIST_OR_NO_OPERATION)


def errno_of(error: BaseException) -> int | None:
    """Snowflake's code of an error (the connector's ``errno``), or None for an error that carries none."""
    errno = getattr(error, "errno", None)
    return errno if isinstance(errno, int) and not isinstance(errno, bool) else None


def is_missing(error: BaseException) -> bool:
    """Whether the error says an object does not exist (or the role is not authorized to see it)."""
    return errno_of(error) in MISSING


def is_privilege(error: BaseException) -> bool:
    """Whether the error says the role lacks a privilege."""
    return errno_of(error) == INSUFFICIENT_PRIVILEGES
