"""The twin's account catalog: warehouses, storage integrations and users' keys, kept in _fs_global.

Shared by warehouses, integrations and users: the catalog tables (created on first use, next to the stages, so
they persist with them), the objects an admin's one-time setup leaves in a new twin account, identifier
normalisation, ``LIKE`` patterns and the ``NAME = value`` property lists of account DDL.

The provisioned objects are those ``include/sql/admin/admin_setup.sql`` creates that the pipeline's connection
relies on: the warehouses COMPUTE_WH (every new Snowflake account has it) and SNOWSEG_WH, and the storage
integration named by env SNOWSEG_STORAGE_INTEGRATION (default SNOWSEG_S3_INT), allowing every location. They are
added once, when the catalog is created, as ``snowseg_twin up`` creates the landing bucket; dropping them sticks.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from duckdb import DuckDBPyConnection

WAREHOUSES = "_fs_global._fs_information_schema._twin_warehouses"
INTEGRATIONS = "_fs_global._fs_information_schema._twin_integrations"
USERS = "_fs_global._fs_information_schema._twin_users"
FS_USERS = "_fs_global._fs_information_schema._fs_users"  # fakesnow's own, read by SHOW USERS

PROVISIONED_WAREHOUSES = ("COMPUTE_WH", "SNOWSEG_WH")
DEFAULT_INTEGRATION = "SNOWSEG_S3_INT"

NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_LIKE = r"(?:\s+LIKE\s+'(?P<like>(?:[^']|'')*)')?"
_PROPERTY = re.compile(
    r"""(?P<key>[A-Za-z_]\w*)\s*=\s*
        (?P<value>'(?:[^']|'')*'|\((?:[^()']|'(?:[^']|'')*')*\)|[^\s()=,]+)""",
    re.VERBOSE | re.DOTALL,
)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")

_lock = threading.Lock()


def like_clause() -> str:
    """The optional ``LIKE '<pattern>'`` of a SHOW command, as a regex fragment with the group ``like``."""
    return _LIKE


def ident(name: str) -> str:
    """A Snowflake identifier as stored: unquoted names upper-cased, quoted names as written.

    Examples
    --------
    >>> ident("snowseg_wh"), ident('"Mixed"')
    ('SNOWSEG_WH', 'Mixed')
    """
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.upper()


def like_matches(pattern: str | None, name: str) -> bool:
    """Whether name matches a SHOW command's ``LIKE`` pattern (case-insensitive, ``%`` and ``_``).

    Examples
    --------
    >>> like_matches("snowseg%", "SNOWSEG_WH"), like_matches("X", "SNOWSEG_WH"), like_matches(None, "A")
    (True, False, True)
    """
    if pattern is None:
        return True
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.replace("''", "'"))
    return re.fullmatch(regex, name, re.IGNORECASE | re.DOTALL) is not None


def _value(raw: str) -> Any:  # noqa: ANN401
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    if raw.startswith("("):
        return [v.replace("''", "'") for v in _QUOTED.findall(raw)]
    if raw.upper() in {"TRUE", "FALSE"}:
        return raw.upper() == "TRUE"
    return raw


def properties(text: str, statement: str) -> dict[str, Any]:
    """The ``NAME = value`` pairs of account DDL: strings unquoted, ``(..)`` lists as lists, TRUE/FALSE as bools.

    Raises NotImplementedError naming anything else in text (the twin does not guess at syntax it does not know).

    Examples
    --------
    >>> properties("type = service rsa_public_key = 'MII..' comment = 'it''s'", "CREATE USER")
    {'TYPE': 'service', 'RSA_PUBLIC_KEY': 'MII..', 'COMMENT': "it's"}
    >>> properties("storage_allowed_locations = ('s3://a/', 's3://b/') enabled = true", "CREATE STORAGE INTEGRATION")
    {'STORAGE_ALLOWED_LOCATIONS': ['s3://a/', 's3://b/'], 'ENABLED': True}
    """
    text = re.sub(r"^\s*WITH\b", "", text, flags=re.IGNORECASE)
    found: dict[str, Any] = {}
    rest = []
    pos = 0
    for m in _PROPERTY.finditer(text):
        rest.append(text[pos : m.start()])
        found[m["key"].upper()] = _value(m["value"])
        pos = m.end()
    rest.append(text[pos:])
    leftover = re.sub(r"[\s,;]+", " ", "".join(rest)).strip()
    if leftover:
        raise NotImplementedError(f"{statement} with {leftover!r}")
    return found


def check_known(props: dict[str, Any], known: set[str], statement: str) -> None:
    """Raise NotImplementedError naming the properties the twin does not know for this statement."""
    unknown = sorted(set(props) - known)
    if unknown:
        raise NotImplementedError(f"{statement} with {', '.join(unknown)}")


def catalog(duck_conn: DuckDBPyConnection) -> DuckDBPyConnection:
    """A connection of its own on the catalog (account objects never join a session's transaction)."""
    conn = duck_conn.cursor()
    found = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = '_fs_global' "
        "AND table_name IN ('_twin_warehouses', '_twin_integrations', '_twin_users')"
    ).fetchall()[0][0]
    if found < 3:
        with _lock:
            _ensure_tables(conn)
    return conn


def _table_exists(conn: DuckDBPyConnection, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = '_fs_global' AND table_name = ?", [name]
        ).fetchall()
    )


def _ensure_tables(conn: DuckDBPyConnection) -> None:
    if not _table_exists(conn, "_twin_warehouses"):
        conn.execute(
            f"""
            CREATE TABLE {WAREHOUSES} (
                name VARCHAR, size VARCHAR, auto_suspend BIGINT, auto_resume BOOLEAN, suspended BOOLEAN,
                comment VARCHAR, created_on TIMESTAMPTZ
            )
            """
        )
        for name in PROVISIONED_WAREHOUSES:
            conn.execute(
                f"INSERT INTO {WAREHOUSES} VALUES (?, 'X-Small', 60, TRUE, TRUE, "
                "'provisioned by the twin, as admin_setup.sql leaves it', now())",
                [name],
            )
    if not _table_exists(conn, "_twin_integrations"):
        conn.execute(
            f"""
            CREATE TABLE {INTEGRATIONS} (
                name VARCHAR, enabled BOOLEAN, provider VARCHAR, aws_role_arn VARCHAR, allowed_locations VARCHAR[],
                blocked_locations VARCHAR[], comment VARCHAR, iam_user_arn VARCHAR, external_id VARCHAR,
                created_on TIMESTAMPTZ
            )
            """
        )
        name = ident(os.environ.get("SNOWSEG_STORAGE_INTEGRATION") or DEFAULT_INTEGRATION)
        from snowseg_twin.extensions.integrations import external_id, iam_user_arn

        conn.execute(
            f"INSERT INTO {INTEGRATIONS} VALUES (?, TRUE, 'S3', 'arn:aws:iam::123456789012:role/snowseg-twin', "
            "['*'], [], 'provisioned by the twin, as admin_setup.sql leaves it', ?, ?, now())",
            [name, iam_user_arn(), external_id(name)],
        )
    if not _table_exists(conn, "_twin_users"):
        conn.execute(
            f"""
            CREATE TABLE {USERS} (
                name VARCHAR, type VARCHAR, rsa_public_key VARCHAR, rsa_public_key_2 VARCHAR
            )
            """
        )
