"""Snowflake's errors (and the key loader's, and the network's) in plain words, with Snowflake's code and first line.

The codes are :mod:`snowseg.sf_errors`'; what they mean to the person reading a check is here.

Examples
--------
>>> from snowflake.connector.errors import ProgrammingError
>>> explain(ProgrammingError(msg="SQL access control error:\\nInsufficient privileges to operate on schema 'RAW'",
...                          errno=3001))
"the role lacks the privilege for it (Snowflake 003001: Insufficient privileges to operate on schema 'RAW')"
>>> explain(ValueError("Bad decrypt. Incorrect password?"))
'Bad decrypt. Incorrect password?'
"""

from __future__ import annotations

import re

from snowseg import sf_errors as codes
from snowseg.loading.audit import error_text

#: What a Snowflake error code means, in plain words (the message's first line follows in brackets).
PLAIN_WORDS = {
    codes.NO_ACTIVE_WAREHOUSE: "no warehouse is in use in the session",
    codes.ALREADY_EXISTS: "it already exists, but the role cannot see it",
    codes.DOES_NOT_EXIST: "it does not exist, or the role is not authorized to use it (Snowflake does not say which)",
    codes.DOES_NOT_EXIST_OR_NO_OPERATION: "it does not exist, or the role is not authorized to use it (Snowflake does "
                                          "not say which)",
    codes.INSUFFICIENT_PRIVILEGES: "the role lacks the privilege for it",
    codes.STAGE_STORAGE_UNREADABLE: "Snowflake could not read the stage's storage (check the storage integration and "
                                    "the IAM role)",
    codes.UNREACHABLE: "Snowflake could not be reached (network, proxy, or the account identifier)",
    codes.NO_USER: "the connection has no user (login)",
    codes.NO_PASSWORD: "the connection has no password",
    codes.BAD_USER_OR_PASSWORD: "Snowflake refused the user name or password",
    codes.USER_DISABLED: "the user is disabled",
    codes.INVALID_JWT: "Snowflake refused the key pair: the JWT signed with the connection's private key is invalid",
    codes.ROLE_NOT_GRANTED: "the connection's role is not granted to the user",
}


def explain(error: BaseException) -> str:
    """A Snowflake (or key-loading, or network) error in plain words, with Snowflake's code and first line.

    Parameters
    ----------
    error : BaseException
        Usually a ``snowflake.connector.errors.Error`` (``errno``, ``msg``).

    Returns
    -------
    str
    """
    errno = codes.errno_of(error)
    msg = error_text(error)
    msg = re.sub(r"^\d{6}(?: \(\w+\))?: (?:(?:None|[0-9a-f-]{36}): )?", "", msg)  # the connector's errno prefix
    msg = re.sub(r"^Failed to connect to DB: \S+?:\d+\. ", "", msg)
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.rstrip(":").lower().endswith(("compilation error", "access control error"))]
    first = lines[0] if lines else msg.strip()
    if errno is None or errno <= 0:
        return first
    plain = PLAIN_WORDS.get(errno)
    return f"{plain} (Snowflake {errno:06d}: {first})" if plain else f"Snowflake {errno:06d}: {first}"
