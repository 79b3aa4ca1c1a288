"""The twin's account catalog: warehouses, storage integrations, users' keys, roles and grants, kept in _fs_global.

Shared by warehouses, integrations, users, roles and access_control: the catalog tables (created on first use,
next to the stages, so they persist with them), the objects an admin's one-time setup leaves in a new twin
account, identifier normalisation, ``LIKE`` patterns and the ``NAME = value`` property lists of account DDL.

The provisioned objects are those ``include/sql/admin/admin_setup.sql`` creates that the pipeline's connection
relies on: the warehouses COMPUTE_WH (every new Snowflake account has it) and SNOWSEG_WH, and the storage
integration named by env SNOWSEG_STORAGE_INTEGRATION (default SNOWSEG_S3_INT), allowing every location. They are
added once, when the catalog is created, as ``snowseg_twin up`` creates the landing bucket; dropping them sticks.

Roles and grants (``_twin_roles``, ``_twin_role_grants``, ``_twin_grants``, ``_twin_future_grants``; read and
changed through _grants) start as in a new Snowflake account: the system roles ACCOUNTADMIN, SECURITYADMIN,
USERADMIN, SYSADMIN and PUBLIC with their hierarchy and account privileges, plus what admin_setup.sql steps 1, 2
and 5 grant: the role SNOWSEG_ROLE (owned by SECURITYADMIN, granted to SYSADMIN) with USAGE on SNOWSEG_WH and on
the storage integration. The warehouses are owned by SYSADMIN, the integration by ACCOUNTADMIN. When the server
knows the twin's public keys (set_provisioned_keys, at start), the users are provisioned with them too: SNOWSEG
(TYPE = SERVICE, DEFAULT_ROLE = SNOWSEG_ROLE, DEFAULT_WAREHOUSE = SNOWSEG_WH, granted SNOWSEG_ROLE), the pipeline's
login, and SNOWSEG_ADMIN (TYPE = SERVICE, DEFAULT_ROLE = SYSADMIN, granted SYSADMIN and ACCOUNTADMIN), the admin's.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from typing import Any

from duckdb import DuckDBPyConnection

from snowseg_twin.extensions import _fakesnow_compat as compat

WAREHOUSES = "_fs_global._fs_information_schema._twin_warehouses"
INTEGRATIONS = "_fs_global._fs_information_schema._twin_integrations"
USERS = "_fs_global._fs_information_schema._twin_users"
ROLES = "_fs_global._fs_information_schema._twin_roles"
ROLE_GRANTS = "_fs_global._fs_information_schema._twin_role_grants"
GRANTS = "_fs_global._fs_information_schema._twin_grants"
FUTURE_GRANTS = "_fs_global._fs_information_schema._twin_future_grants"
FS_USERS = compat.FS_USERS  # fakesnow's own, read by SHOW USERS

PROVISIONED_WAREHOUSES = ("COMPUTE_WH", "SNOWSEG_WH")
DEFAULT_INTEGRATION = "SNOWSEG_S3_INT"
SERVICE_ROLE = "SNOWSEG_ROLE"
SERVICE_WAREHOUSE = "SNOWSEG_WH"
SERVICE_USER = "SNOWSEG"
ADMIN_USER = "SNOWSEG_ADMIN"

# The system roles of a new account: role -> the roles granted to it (it inherits their privileges), and the
# account privileges each holds. https://docs.snowflake.com/en/user-guide/security-access-control-overview
SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC")
SYSTEM_HIERARCHY = {"ACCOUNTADMIN": ("SECURITYADMIN", "SYSADMIN"), "SECURITYADMIN": ("USERADMIN",)}
SYSTEM_ACCOUNT_PRIVILEGES = {
    "SYSADMIN": ("CREATE DATABASE", "CREATE WAREHOUSE"),
    "USERADMIN": ("CREATE USER", "CREATE ROLE"),
    "SECURITYADMIN": ("MANAGE GRANTS",),
    # "Must be granted by the ACCOUNTADMIN role" (access control privileges: global privileges)
    "ACCOUNTADMIN": ("CREATE INTEGRATION", "CREATE SHARE", "IMPORT SHARE", "EXECUTE TASK", "MONITOR EXECUTION",
                     "MONITOR USAGE", "CREATE ACCOUNT"),
}  # fmt: skip

_provisioned_keys: dict[str, str] = {}

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


_TABLES = ("_twin_warehouses", "_twin_integrations", "_twin_users", "_twin_roles", "_twin_role_grants", "_twin_grants",
           "_twin_future_grants")  # fmt: skip


def set_provisioned_keys(service_public_key: str, admin_public_key: str) -> None:
    """The public keys the provisioned users SNOWSEG and SNOWSEG_ADMIN log in with (set by the server at start)."""
    _provisioned_keys.update({SERVICE_USER: service_public_key, ADMIN_USER: admin_public_key})


def catalog(duck_conn: DuckDBPyConnection) -> DuckDBPyConnection:
    """A connection of its own on the catalog (account objects never join a session's transaction)."""
    conn = duck_conn.cursor()
    if duck_conn in _ready:  # checked once per connection: duckdb_tables() scans every attached database
        return conn
    found = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = '_fs_global' "
        f"AND table_name IN ({', '.join(repr(t) for t in _TABLES)})"
    ).fetchall()[0][0]
    if found < len(_TABLES):
        with _lock:
            _ensure_tables(conn)
    _ready.add(duck_conn)
    return conn


# connections whose _fs_global holds every catalog table (the tables are never dropped)
_ready: weakref.WeakSet[DuckDBPyConnection] = weakref.WeakSet()


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
    if not _table_exists(conn, "_twin_roles"):
        _create_grant_tables(conn)
        _provision_roles(conn)
        _provision_users(conn)


def _create_grant_tables(conn: DuckDBPyConnection) -> None:
    conn.execute(f"CREATE TABLE {ROLES} (name VARCHAR, owner VARCHAR, comment VARCHAR, created_on TIMESTAMPTZ)")
    conn.execute(
        f"CREATE TABLE {ROLE_GRANTS} (role VARCHAR, granted_to VARCHAR, grantee_name VARCHAR, granted_by VARCHAR, "
        "created_on TIMESTAMPTZ)"
    )
    conn.execute(
        f"CREATE TABLE {GRANTS} (privilege VARCHAR, granted_on VARCHAR, name VARCHAR, grantee_name VARCHAR, "
        "grant_option BOOLEAN, granted_by VARCHAR, created_on TIMESTAMPTZ)"
    )
    conn.execute(
        f"CREATE TABLE {FUTURE_GRANTS} (privilege VARCHAR, grant_on VARCHAR, scope_kind VARCHAR, scope_name VARCHAR, "
        "grantee_name VARCHAR, grant_option BOOLEAN, created_on TIMESTAMPTZ)"
    )


def _grant(conn: DuckDBPyConnection, privilege: str, on: str, name: str, grantee: str, by: str) -> None:
    option = privilege == "OWNERSHIP"
    conn.execute(f"INSERT INTO {GRANTS} VALUES (?, ?, ?, ?, ?, ?, now())", [privilege, on, name, grantee, option, by])


def _grant_role(conn: DuckDBPyConnection, role: str, to: str, grantee: str, by: str) -> None:
    conn.execute(f"INSERT INTO {ROLE_GRANTS} VALUES (?, ?, ?, ?, now())", [role, to, grantee, by])


def _provision_roles(conn: DuckDBPyConnection) -> None:
    for role in SYSTEM_ROLES:
        conn.execute(f"INSERT INTO {ROLES} VALUES (?, NULL, 'system role', now())", [role])
    for parent, children in SYSTEM_HIERARCHY.items():
        for child in children:
            _grant_role(conn, child, "ROLE", parent, "")
    for role, privileges in SYSTEM_ACCOUNT_PRIVILEGES.items():
        for privilege in privileges:
            _grant(conn, privilege, "ACCOUNT", "", role, "")
    # admin_setup.sql step 1: the service role, under SYSADMIN (created as SECURITYADMIN)
    conn.execute(f"INSERT INTO {ROLES} VALUES (?, 'SECURITYADMIN', 'Snowseg Airflow DAGs', now())", [SERVICE_ROLE])
    _grant(conn, "OWNERSHIP", "ROLE", SERVICE_ROLE, "SECURITYADMIN", "SECURITYADMIN")
    _grant_role(conn, SERVICE_ROLE, "ROLE", "SYSADMIN", "SECURITYADMIN")
    # step 2: the warehouses (SYSADMIN's) and USAGE on SNOWSEG_WH; step 5: the integration (ACCOUNTADMIN's)
    for warehouse in [r[0] for r in conn.execute(f"SELECT name FROM {WAREHOUSES}").fetchall()]:
        _grant(conn, "OWNERSHIP", "WAREHOUSE", warehouse, "SYSADMIN", "SYSADMIN")
    if conn.execute(f"SELECT 1 FROM {WAREHOUSES} WHERE name = ?", [SERVICE_WAREHOUSE]).fetchall():
        _grant(conn, "USAGE", "WAREHOUSE", SERVICE_WAREHOUSE, SERVICE_ROLE, "SYSADMIN")
    for integration in [r[0] for r in conn.execute(f"SELECT name FROM {INTEGRATIONS}").fetchall()]:
        _grant(conn, "OWNERSHIP", "INTEGRATION", integration, "ACCOUNTADMIN", "ACCOUNTADMIN")
        _grant(conn, "USAGE", "INTEGRATION", integration, SERVICE_ROLE, "ACCOUNTADMIN")


def _provision_users(conn: DuckDBPyConnection) -> None:
    """SNOWSEG and SNOWSEG_ADMIN with the twin's keys, unless a user of that name exists already."""
    if not _provisioned_keys:
        return
    users = {
        SERVICE_USER: (SERVICE_ROLE, [SERVICE_ROLE], "the Snowseg DAGs' login (key pair in the Airflow connection)"),
        ADMIN_USER: ("SYSADMIN", ["SYSADMIN", "ACCOUNTADMIN"], "the admin's login for setup_warehouse"),
    }
    for name, (default_role, roles, comment) in users.items():
        if conn.execute(f"SELECT 1 FROM {FS_USERS} WHERE name = ?", [name]).fetchall():
            continue
        conn.execute(
            f"INSERT INTO {FS_USERS} (name, created_on, owner, login_name, display_name, comment, default_role, "
            "default_warehouse) VALUES (?, now(), 'USERADMIN', ?, ?, ?, ?, ?)",
            [name, name, name, comment, default_role, SERVICE_WAREHOUSE],
        )
        conn.execute(f"DELETE FROM {USERS} WHERE name = ?", [name])
        conn.execute(f"INSERT INTO {USERS} VALUES (?, 'SERVICE', ?, NULL)", [name, _provisioned_keys[name]])
        _grant(conn, "OWNERSHIP", "USER", name, "USERADMIN", "USERADMIN")
        for role in roles:
            _grant_role(conn, role, "USER", name, "SECURITYADMIN")
