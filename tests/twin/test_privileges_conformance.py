"""Conformance of the twin's roles, grants, ownership and privilege checks with Snowflake (issue 12, "strict twin").

These tests start their own twin server with env SNOWSEG_TWIN_PRIVILEGES=enforce (the session's twin and the
in-process conformance server run without enforcement). Each test builds its own world as the provisioned admin
user SNOWSEG_ADMIN: a database with a schema S (owned by SYSADMIN), a role R granted to SYSADMIN, a user U granted R
with USAGE on the warehouse SNOWSEG_WH, then gives R the grants a case names and runs a statement as U.

What Snowflake does, as these tests state it (each test quotes the rule it follows and where it is written):
- a role has the privileges granted to it, to the roles granted to it, and OWNERSHIP of what it created;
- an object the role has no privilege on is "does not exist or not authorized" (002003); a known object without the
  privilege needed is "Insufficient privileges to operate on <type> '<NAME>'" (003001);
- CREATE ... IF NOT EXISTS is checked even when the object exists;
- a table stage can only be used by the table's owner; named internal stages need READ / WRITE, external ones USAGE;
- a login or USE ROLE of a role the user was not granted fails.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector import DictCursor
from snowflake.connector.errors import DatabaseError, ProgrammingError

from snowseg_twin.extensions.access_control import ENV
from snowseg_twin.keys import DEV_KEY_PASSPHRASE, admin_key_path, key_path
from snowseg_twin.process import TwinProcess, admin_connection, connection

PRIVILEGES_URL = "https://docs.snowflake.com/en/user-guide/security-access-control-privileges"


def _message(error: Exception) -> str:
    """The error's message as Snowflake words it, without the connector's "<errno> (<sqlstate>): " prefix."""
    return re.sub(r"^\d{6} \(\w{5}\): (?:(?:None|[0-9a-f-]{36}): )?", "", error.raw_msg or "")


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8].upper()}"


def _key(path: Path) -> object:
    return serialization.load_pem_private_key(path.read_bytes(), DEV_KEY_PASSPHRASE.encode())


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinProcess]:
    t = TwinProcess(tmp_path_factory.mktemp("privileges") / "twin", env={ENV: "enforce"}).start()
    yield t
    t.stop()


def _base(twin: TwinProcess) -> dict:
    return dict(account="twin", host="127.0.0.1", port=twin.port, protocol="http", login_timeout=10,
                network_timeout=60, session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False})  # fmt: skip


def _admin(twin: TwinProcess, role: str = "SYSADMIN") -> snowflake.connector.SnowflakeConnection:
    return snowflake.connector.connect(user="snowseg_admin", private_key=_key(admin_key_path(twin.home)), role=role,
                                       warehouse="SNOWSEG_WH", **_base(twin))  # fmt: skip


def _run(conn: snowflake.connector.SnowflakeConnection, *statements: str) -> list[dict]:
    rows: list[dict] = []
    with conn.cursor(DictCursor) as cur:
        for sql in statements:
            cur.execute(sql)
            rows = cur.fetchall()
    return rows


@dataclass
class World:
    twin: TwinProcess
    db: str
    role: str
    user: str

    @property
    def schema(self) -> str:
        return f"{self.db}.S"

    def admin(self, role: str = "SYSADMIN") -> snowflake.connector.SnowflakeConnection:
        return _admin(self.twin, role)

    def connect(self, **kwargs: object) -> snowflake.connector.SnowflakeConnection:
        args = {"user": self.user, "password": "x", "role": self.role, "warehouse": "SNOWSEG_WH", **_base(self.twin),
                **kwargs}  # fmt: skip
        return snowflake.connector.connect(**{k: v for k, v in args.items() if v is not None})

    def grant(self, *statements: str) -> None:
        """Run statements as SECURITYADMIN (MANAGE GRANTS), {db}, {s} and {r} filled in."""
        with self.admin("SECURITYADMIN") as conn:
            _run(conn, *(s.format(db=self.db, s=self.schema, r=self.role) for s in statements))

    def refused(self, sql: str, conn: snowflake.connector.SnowflakeConnection | None = None) -> ProgrammingError:
        own = conn is None
        conn = conn or self.connect()
        try:
            with pytest.raises(ProgrammingError) as e:
                _run(conn, sql.format(db=self.db, s=self.schema, r=self.role))
        finally:
            if own:
                conn.close()
        return e.value


@pytest.fixture()
def world(twin: TwinProcess) -> World:
    db, role, user = _name("DB"), _name("R"), _name("U")
    with _admin(twin, "SYSADMIN") as conn:
        _run(conn, f"create database {db}", f"create schema {db}.S",
             f"create table {db}.S.T (a int)", f"insert into {db}.S.T values (1)")  # fmt: skip
    with _admin(twin, "SECURITYADMIN") as conn:
        _run(conn, f"create role {role}", f"grant role {role} to role SYSADMIN",
             f"create user {user} password = 'x' default_role = {role}", f"grant role {role} to user {user}",
             f"grant usage on warehouse SNOWSEG_WH to role {role}")  # fmt: skip
    return World(twin, db, role, user)


USAGE = ("grant usage on database {db} to role {r}", "grant usage on schema {s} to role {r}")


def _insufficient(kind: str, name: str) -> tuple[int, str]:
    return 3001, f"SQL access control error:\nInsufficient privileges to operate on {kind} '{name}'"


def _missing(label: str, name: str) -> tuple[int, str]:
    return 2003, f"SQL compilation error:\n{label} '{name}' does not exist or not authorized."


# --- login and USE ROLE ----------------------------------------------------------------------------------------------


def test_login_with_a_role_the_user_was_not_granted_fails(world: World) -> None:
    """Snowflake refuses a login whose role is not granted to the user: 390189 "Role 'X' specified in the connect
    string is not granted to this user. Contact your local system administrator, or attempt to login with another
    role, e.g. PUBLIC." (the connector's error, as public issue threads quote it, eg:
    https://github.com/snowflakedb/snowflake-connector-python: "Failed to connect to DB ... Role 'TEST_ROLE'
    specified in the connect string is not granted to this user"). A user Snowflake does not know fails with 390100
    "Incorrect username or password was specified." (the twin refuses unknown users only when enforcing)."""
    with pytest.raises(DatabaseError) as e:
        world.connect(role="SYSADMIN")
    assert e.value.errno == 390189
    assert ("Role 'SYSADMIN' specified in the connect string is not granted to this user. Contact your local system "
            "administrator, or attempt to login with another role, e.g. PUBLIC.") in str(e.value)  # fmt: skip
    with pytest.raises(DatabaseError) as e:
        world.connect(user=_name("NOBODY"))
    assert e.value.errno == 390100
    with world.connect(role="PUBLIC") as conn:  # "every role and user has PUBLIC"
        assert _run(conn, "select current_role() as r") == [{"R": "PUBLIC"}]


def test_use_role_needs_a_granted_role(world: World) -> None:
    """USE ROLE: "The role must have been granted to the user" (https://docs.snowflake.com/en/sql-reference/sql/use-role);
    Snowflake's error, as quoted in public notes: 003013 (42501) "SQL access control error:\\nRequested role 'X' is not
    assigned to the executing user.  Specify another role to activate." A role inherited through the hierarchy may
    be used: "ACCOUNTADMIN ... encapsulates the SYSADMIN and SECURITYADMIN system-defined roles"
    (https://docs.snowflake.com/en/user-guide/security-access-control-overview)."""
    with world.connect() as conn:
        e = world.refused("use role SYSADMIN", conn)
        assert (e.errno, e.sqlstate, _message(e)) == (
            3013, "42501", "SQL access control error:\nRequested role 'SYSADMIN' is not assigned to the executing "
            "user.  Specify another role to activate.")  # fmt: skip
        e = world.refused("use role NO_SUCH_ROLE_X", conn)
        assert (e.errno, _message(e)) == _missing("Role", "NO_SUCH_ROLE_X")
        assert _run(conn, "use role public", "select current_role() as r") == [{"R": "PUBLIC"}]
    with world.admin("ACCOUNTADMIN") as conn:
        assert _run(conn, "use role useradmin", "select current_role() as r") == [{"R": "USERADMIN"}]


# --- refused statements, table-driven --------------------------------------------------------------------------------


class Case(NamedTuple):
    grants: tuple[str, ...]  # run as SECURITYADMIN before the statement ({db}, {s}, {r})
    statement: str  # run as the user with role R
    expected: tuple[int, str]  # errno, message; names filled with the world's
    rule: str  # the documented rule it follows


def _fill(text: str, world: World) -> str:
    return text.replace("{db}", world.db).replace("{s}", world.schema).replace("{r}", world.role)


CASES = [
    pytest.param(Case((), "select * from {s}.T", (2003, "Object '{s}.T' does not exist or not authorized."),
                      "SELECT: Enables executing a SELECT statement on a table. Operating on a table also requires "
                      "the USAGE privilege on the parent database and schema."),
                 id="select-without-any-privilege-is-002003"),
    pytest.param(Case(("grant select on table {s}.T to role {r}",), "select * from {s}.T",
                      (2003, "Object '{s}.T' does not exist or not authorized."),
                      "Operating on a table also requires the USAGE privilege on the parent database and schema."),
                 id="select-without-schema-usage-is-002003"),
    pytest.param(Case((*USAGE, "grant select on table {s}.T to role {r}"), "insert into {s}.T values (2)",
                      (3001, "Insufficient privileges to operate on table '{s}.T'"),
                      "INSERT: Enables executing an INSERT command on a table."),
                 id="insert-without-insert-is-003001"),
    pytest.param(Case((*USAGE, "grant select, insert on table {s}.T to role {r}"), "truncate table {s}.T",
                      (3001, "Insufficient privileges to operate on table '{s}.T'"),
                      "TRUNCATE: Enables executing a TRUNCATE TABLE command on a table."),
                 id="truncate-without-truncate-is-003001"),
    pytest.param(Case((*USAGE, "grant select, insert on table {s}.T to role {r}"),
                      "update {s}.T set a = 3", (3001, "Insufficient privileges to operate on table '{s}.T'"),
                      "UPDATE: Enables executing an UPDATE command on a table."),
                 id="update-without-update-is-003001"),
    pytest.param(Case(USAGE, "create table if not exists {s}.T2 (a int)",
                      (3001, "Insufficient privileges to operate on schema 'S'"),
                      "CREATE TABLE: Enables creating a new table in a schema (checked with IF NOT EXISTS too)."),
                 id="create-table-without-create-table-is-003001"),
    pytest.param(Case(USAGE, "create table if not exists {s}.T (a int)",
                      (3001, "Insufficient privileges to operate on schema 'S'"),
                      "Snowflake checks the CREATE privilege even when the object exists (design.md 2b)."),
                 id="create-table-if-not-exists-on-an-existing-table-is-checked"),
    pytest.param(Case((), "create schema if not exists {db}.S2",
                      (2003, "Database '{db}' does not exist or not authorized."),
                      "Operating on a schema also requires the USAGE privilege on the parent database."),
                 id="create-schema-without-database-usage-is-002003"),
    pytest.param(Case(("grant usage on database {db} to role {r}",), "create schema if not exists {db}.S",
                      (3001, "Insufficient privileges to operate on database '{db}'"),
                      "CREATE SCHEMA: Enables creating a new schema in a database."),
                 id="create-schema-if-not-exists-without-create-schema-is-003001"),
    pytest.param(Case((), "use database {db}", (3001, "Insufficient privileges to operate on database '{db}'"),
                      "To make a database the active database in a user session, the USAGE privilege on the "
                      "database is required."),
                 id="use-database-without-usage-is-003001"),
    pytest.param(Case((*USAGE, "grant create table on schema {s} to role {r}"), "create view {s}.V as select 1 a",
                      (3001, "Insufficient privileges to operate on schema 'S'"),
                      "CREATE VIEW: Enables creating a new view in a schema."),
                 id="create-view-without-create-view-is-003001"),
    pytest.param(Case((*USAGE, "grant select on table {s}.T to role {r}"), "drop table {s}.T",
                      (3001, "Insufficient privileges to operate on table '{s}.T'"),
                      "OWNERSHIP: Grants ability to delete, alter, and grant or revoke access to an object."),
                 id="drop-table-needs-ownership"),
    pytest.param(Case(USAGE, "drop database {db}", (3001, "Insufficient privileges to operate on database '{db}'"),
                      "OWNERSHIP: Grants ability to delete, alter, and grant or revoke access to an object (a "
                      "database too: https://docs.snowflake.com/en/sql-reference/sql/drop-database)."),
                 id="drop-database-needs-ownership"),
    pytest.param(Case((*USAGE, "grant create stage on schema {s} to role {r}"),
                      "create stage {s}.LANDING url = 's3://snowseg-landing/sales/' storage_integration = SNOWSEG_S3_INT_X",
                      (2003, "Integration 'SNOWSEG_S3_INT_X' does not exist or not authorized."),
                      "USAGE (integration): Enables referencing the storage integration when creating a stage."),
                 id="create-stage-with-an-unknown-integration"),
]


@pytest.mark.parametrize("case", CASES)
def test_statement_without_the_privilege_is_refused(world: World, case: Case) -> None:
    """Each case quotes its rule from Snowflake's "Access control privileges" page (PRIVILEGES_URL) in `rule`."""
    if case.grants:
        world.grant(*case.grants)
    e = world.refused(case.statement)
    errno, message = case.expected
    prefix = "SQL access control error:\n" if errno == 3001 else "SQL compilation error:\n"
    assert (e.errno, _message(e)) == (errno, prefix + _fill(message, world)), case.rule
    assert e.sqlstate == {3001: "42501", 2003: "42S02" if message.startswith("Object") else "02000"}[errno]


def test_create_database_if_not_exists_needs_create_database_on_the_account(world: World) -> None:
    """CREATE DATABASE needs the CREATE DATABASE privilege on the account ("CREATE DATABASE | Account | Only the
    SYSADMIN role, or a higher role, has this privilege by default",
    https://docs.snowflake.com/en/sql-reference/sql/create-database), also when the database exists and IF NOT EXISTS
    is given (design.md 2b; Snowflake checks the privilege before it looks for the object)."""
    world.grant(*USAGE, "grant ownership on database {db} to role {r} copy current grants")
    e = world.refused("create database if not exists {db}")
    assert (e.errno, e.sqlstate, _message(e)) == (3001, "42501", *_insufficient("account", "TWIN")[1:])
    world.grant("grant create database on account to role {r}")
    with world.connect() as conn:  # (fakesnow's own status text says "successfully created" here)
        _run(conn, f"create database if not exists {world.db}")
        grants = _run(conn, f"show grants on database {world.db}")
    assert ("OWNERSHIP", world.role) in {(g["privilege"], g["grantee_name"]) for g in grants}  # ownership unchanged


# --- ownership, grants and revokes, future grants --------------------------------------------------------------------


def test_the_creating_role_owns_the_object_and_has_every_privilege_on_it(world: World) -> None:
    """"OWNERSHIP is a special privilege on an object that is automatically granted to the role that created the
    object" and grants "full control over the table" (PRIVILEGES_URL); SHOW GRANTS ON shows it as the OWNERSHIP row.
    Dropping the object drops its grants: a table created again under the same name has none but its new owner's."""
    world.grant(*USAGE, "grant create table on schema {s} to role {r}")
    with world.connect() as conn:
        _run(conn, f"create table {world.schema}.MINE (a int)", f"insert into {world.schema}.MINE values (7)")
        assert _run(conn, f"select a from {world.schema}.MINE") == [{"A": 7}]
        grants = _run(conn, f"show grants on table {world.schema}.MINE")
    assert [(g["privilege"], g["granted_on"], g["name"], g["grantee_name"], g["grant_option"], g["granted_by"])
            for g in grants] == [("OWNERSHIP", "TABLE", f"{world.schema}.MINE", world.role, "true", world.role)]  # fmt: skip
    with world.admin("SYSADMIN") as conn:  # R is granted to SYSADMIN: SYSADMIN may drop what R owns
        _run(conn, f"grant select on table {world.schema}.MINE to role PUBLIC", f"drop table {world.schema}.MINE",
             f"create table {world.schema}.MINE (a int)")  # fmt: skip
        grants = _run(conn, f"show grants on table {world.schema}.MINE")
    assert [(g["privilege"], g["grantee_name"]) for g in grants] == [("OWNERSHIP", "SYSADMIN")]
    e = world.refused("select * from {s}.MINE")
    assert (e.errno, _message(e)) == _missing("Object", f"{world.schema}.MINE")


def test_grant_and_revoke(world: World) -> None:
    """GRANT <privileges> ... TO ROLE gives the role the privilege; REVOKE takes it back
    (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege, .../revoke-privilege). "Only a role with the
    OWNERSHIP privilege on the object, the privilege WITH GRANT OPTION, or the global MANAGE GRANTS privilege can
    grant it"; otherwise "Grant not executed: Insufficient privileges." (the twin raises it as an error; Snowflake may
    return it as the statement's status, the stricter reading)."""
    world.grant(*USAGE, "grant select on table {s}.T to role {r}")
    with world.connect() as conn:
        assert _run(conn, f"select a from {world.schema}.T") == [{"A": 1}]
        e = world.refused(f"grant select on table {{s}}.T to role PUBLIC", conn)
    assert (e.errno, e.sqlstate, _message(e)) == (3102, "42501", "Grant not executed: Insufficient privileges.")
    world.grant("revoke select on table {s}.T from role {r}")
    e = world.refused("select * from {s}.T")
    assert (e.errno, _message(e)) == _missing("Object", f"{world.schema}.T")
    world.grant("grant select on table {s}.T to role {r} with grant option")
    with world.connect() as conn:
        _run(conn, f"grant select on table {world.schema}.T to role PUBLIC")
        granted = _run(conn, f"show grants to role {world.role}")
    assert {(g["privilege"], g["granted_on"], g["name"], g["grant_option"]) for g in granted} >= {
        ("SELECT", "TABLE", f"{world.schema}.T", "true"), ("USAGE", "SCHEMA", world.schema, "false"),
        ("USAGE", "WAREHOUSE", "SNOWSEG_WH", "false"),
    }  # fmt: skip


def test_role_hierarchy_gives_the_parent_the_childs_privileges(world: World) -> None:
    """"Granting a role to another role creates a parent-child relationship between the roles (also referred to as a
    role hierarchy)"; the parent inherits the child's privileges
    (https://docs.snowflake.com/en/user-guide/security-access-control-overview). CREATE ROLE needs the CREATE ROLE
    privilege on the account (USERADMIN's): "Only the user administrator (i.e. users with the USERADMIN role) or higher,
    or another role with the CREATE ROLE privilege on the account, can create roles"
    (https://docs.snowflake.com/en/sql-reference/sql/create-role)."""
    child = _name("CHILD")
    with world.admin("SYSADMIN") as conn:
        e = world.refused(f"create role {child}", conn)
    assert (e.errno, _message(e)) == _insufficient("account", "TWIN")
    world.grant(f"create role {child}", *(g.replace("{r}", child) for g in USAGE),
                f"grant select on table {{s}}.T to role {child}", f"grant role {child} to role {{r}}")
    with world.connect() as conn:
        assert _run(conn, f"select a from {world.schema}.T") == [{"A": 1}]
    world.grant(f"revoke role {child} from role {{r}}")
    e = world.refused("select * from {s}.T")
    assert e.errno == 2003


def test_future_grants_apply_to_objects_created_later(world: World) -> None:
    """"GRANT ... ON FUTURE <object_type_plural> IN { DATABASE | SCHEMA }": privileges on objects of that type
    created later; "When future grants on the same object type are defined at both the database and schema level,
    the schema-level grants take precedence over the database-level grants, and the database-level grants are
    ignored." (https://docs.snowflake.com/en/sql-reference/sql/grant-ownership, usage notes; same rule in
    GRANT <privileges>). Defining future grants needs MANAGE GRANTS (SECURITYADMIN), as admin_setup.sql does."""
    world.grant(*USAGE, "grant select on future tables in schema {s} to role {r}",
                "grant insert on future tables in database {db} to role {r}")
    with world.admin("SYSADMIN") as conn:
        _run(conn, f"create table {world.schema}.LATER (a int)", f"insert into {world.schema}.LATER values (5)")
    with world.connect() as conn:
        assert _run(conn, f"select a from {world.schema}.LATER") == [{"A": 5}]
        e = world.refused("insert into {s}.LATER values (6)", conn)  # the database-level grant is ignored
        assert (e.errno, _message(e)) == _insufficient("table", f"{world.schema}.LATER")
        e = world.refused(f"grant select on future tables in schema {{s}} to role {world.role}", conn)
        assert (e.errno, _message(e)) == (3102, "Grant not executed: Insufficient privileges.")
    with world.admin("SECURITYADMIN") as conn:
        future = _run(conn, f"show future grants in schema {world.schema}")
    assert [(g["privilege"], g["grant_on"], g["grantee_name"]) for g in future] == [("SELECT", "TABLE", world.role)]


def test_grant_ownership_with_copy_current_grants(world: World) -> None:
    """GRANT OWNERSHIP (https://docs.snowflake.com/en/sql-reference/sql/grant-ownership): "A GRANT OWNERSHIP statement
    fails if existing outbound privileges on the object are neither revoked nor copied." COPY "Transfers ownership
    of an object along with a copy of any existing outbound privileges on the object. After the transfer, the new
    owner is identified in the system as the grantor of the copied outbound privileges"; REVOKE removes them."""
    world.grant(*USAGE, "grant select on table {s}.T to role PUBLIC")
    e = world.refused("grant ownership on table {s}.T to role {r}", world.admin("SECURITYADMIN"))
    assert e.errno == 3111 and "Dependent grant of privilege 'SELECT'" in _message(e)
    world.grant("grant ownership on table {s}.T to role {r} copy current grants")
    with world.connect() as conn:
        grants = _run(conn, f"show grants on table {world.schema}.T")
        assert [(g["privilege"], g["grantee_name"], g["granted_by"]) for g in grants] == [
            ("OWNERSHIP", world.role, world.role), ("SELECT", "PUBLIC", world.role)]
        _run(conn, f"insert into {world.schema}.T values (2)")  # the new owner has every privilege
        _run(conn, f"grant ownership on table {world.schema}.T to role SYSADMIN revoke current grants")
        e = world.refused("select * from {s}.T", conn)
    assert (e.errno, _message(e)) == _missing("Object", f"{world.schema}.T")


# --- stages, COPY, pipes ---------------------------------------------------------------------------------------------


def _staged_file(tmp_path: Path) -> str:
    path = tmp_path / "rows.csv"
    path.write_text("a\n1\n2\n")
    return path.as_posix()


def test_table_stage_is_only_for_the_table_owner(world: World, tmp_path: Path) -> None:
    """"To stage files to a table stage, list the files, query them on the stage, or drop them, you must be the
    table owner (have the role with the OWNERSHIP privilege on the table)."
    https://docs.snowflake.com/en/user-guide/data-load-local-file-system-create-stage ("A table stage has no
    grantable privileges of its own.") The twin reads "query them" as COPY from the table stage too (stricter)."""
    world.grant(*USAGE, "grant select, insert, update, delete, truncate on table {s}.T to role {r}")
    src = _staged_file(tmp_path)
    with world.connect() as conn:
        for sql in (f"put file://{src} @{world.schema}.%T", f"list @{world.schema}.%T", f"remove @{world.schema}.%T",
                    f"copy into {world.schema}.T from @{world.schema}.%T"):  # fmt: skip
            e = world.refused(sql, conn)
            assert (e.errno, _message(e)) == _insufficient("table", f"{world.schema}.T"), sql
    world.grant("grant ownership on table {s}.T to role {r} copy current grants")
    with world.connect() as conn:
        assert _run(conn, f"put file://{src} @{world.schema}.%T")[0]["status"] == "UPLOADED"
        assert len(_run(conn, f"list @{world.schema}.%T")) == 1
        _run(conn, f"remove @{world.schema}.%T")


class StageCase(NamedTuple):
    granted: str  # privileges R has on the named internal stage ST
    statement: str  # {src}: a local file, {st}: the stage
    allowed: bool


STAGE_CASES = [
    pytest.param(StageCase("READ", "put file://{src} @{st}", False), id="put-needs-write"),
    pytest.param(StageCase("READ, WRITE", "put file://{src} @{st}", True), id="put-with-write"),
    pytest.param(StageCase("READ", "list @{st}", True), id="list-with-read"),
    pytest.param(StageCase("READ", "remove @{st}", False), id="remove-needs-write"),
    pytest.param(StageCase("READ, WRITE", "remove @{st}", True), id="remove-with-write"),
]


@pytest.mark.parametrize("case", STAGE_CASES)
def test_named_internal_stage_needs_read_and_write(world: World, tmp_path: Path, case: StageCase) -> None:
    """Stage privileges (PRIVILEGES_URL): "READ: Enables performing any operations that require reading from an
    internal stage (GET, LIST, COPY INTO <table>, etc.)"; "WRITE: Enables performing any operations that require
    writing to an internal stage (PUT, REMOVE, COPY INTO <location>, etc.)"."""
    with world.admin("SYSADMIN") as conn:
        _run(conn, f"create stage {world.schema}.ST")
    world.grant(*USAGE, f"grant {case.granted} on stage {{s}}.ST to role {{r}}")
    sql = case.statement.format(src=_staged_file(tmp_path), st=f"{world.schema}.ST")
    if case.allowed:
        with world.connect() as conn:
            _run(conn, sql)
        return
    e = world.refused(sql)
    assert (e.errno, _message(e)) == _insufficient("stage", f"{world.schema}.ST")


class CopyCase(NamedTuple):
    missing: str  # the grant left out
    expected: tuple[int, str, str] | None  # errno, the object's type (as 003001 names it) and name; None: it loads


COPY_GRANTS = {"insert": "grant insert on table {s}.T to role {r}", "read": "grant read on stage {s}.ST to role {r}",
               "format": "grant usage on file format {s}.FF to role {r}"}  # fmt: skip
COPY_CASES = [
    pytest.param(CopyCase("", None), id="insert-read-and-format-usage-load"),
    pytest.param(CopyCase("insert", (3001, "table", "{s}.T")), id="without-insert-is-003001"),
    # no privilege at all on the stage or format: for R they do not exist (002003)
    pytest.param(CopyCase("read", (2003, "Stage", "{s}.ST")), id="without-read-on-the-stage-is-002003"),
    pytest.param(CopyCase("format", (2003, "File format", "{s}.FF")), id="without-usage-on-the-file-format-is-002003"),
]


@pytest.mark.parametrize("case", COPY_CASES)
def test_copy_into_needs_insert_stage_read_and_file_format_usage(world: World, tmp_path: Path, case: CopyCase) -> None:
    """COPY INTO <table> (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, with PRIVILEGES_URL):
    INSERT on the table ("INSERT: Enables executing an INSERT command on a table"), READ on a named internal stage
    ("READ: ... (GET, LIST, COPY INTO <table>, etc.)") or USAGE on an external one ("USAGE: Enables using an external
    stage object in a SQL statement"), and USAGE on a named file format ("USAGE: Enables using a file format in a SQL
    statement"). The stored copy of the COPY page's own access-control table could not be read; these are the
    privileges page's rules."""
    src = _staged_file(tmp_path)
    with world.admin("SYSADMIN") as conn:
        _run(conn, f"create stage {world.schema}.ST", f"create file format {world.schema}.FF type = csv skip_header = 1",
             f"put file://{src} @{world.schema}.ST")  # fmt: skip
    world.grant(*USAGE, "grant select on table {s}.T to role {r}",
                *(g for k, g in COPY_GRANTS.items() if k != case.missing))
    sql = f"copy into {world.schema}.T from @{world.schema}.ST file_format = (format_name = '{world.schema}.FF')"
    if case.expected is None:
        with world.connect() as conn:
            assert _run(conn, sql)[0]["status"] == "LOADED"
        return
    e = world.refused(sql)
    errno, kind, name = case.expected
    make = _insufficient if errno == 3001 else _missing
    assert (e.errno, _message(e)) == make(kind, _fill(name, world))


def test_pipe_status_needs_monitor_and_refresh_needs_operate(world: World, tmp_path: Path) -> None:
    """SYSTEM$PIPE_STATUS "Returns results only for the pipe owner (i.e. the role with the OWNERSHIP privilege on
    the pipe) or a role with the MONITOR privilege on the pipe."
    (https://docs.snowflake.com/en/sql-reference/functions/system_pipe_status; the twin does not accept OPERATE for
    it, the stricter reading). Pipe privileges (PRIVILEGES_URL): "OPERATE: Enables viewing details for the pipe
    (using DESCRIBE PIPE or SHOW PIPES), pausing or resuming the pipe, and refreshing the pipe." CREATE PIPE needs
    CREATE PIPE on the schema and what its COPY needs."""
    with world.admin("SYSADMIN") as conn:
        _run(conn, f"create stage {world.schema}.ST", f"create file format {world.schema}.FF type = csv")
    world.grant(*USAGE, "grant create pipe on schema {s} to role {r}", "grant insert on table {s}.T to role {r}",
                "grant usage on file format {s}.FF to role {r}")
    create = (f"create pipe {world.schema}.P as copy into {world.schema}.T from @{world.schema}.ST "
              f"file_format = (format_name = '{world.schema}.FF')")  # fmt: skip
    e = world.refused(create)  # no privilege at all on the stage: it does not exist for R
    assert (e.errno, _message(e)) == _missing("Stage", f"{world.schema}.ST")
    with world.admin("SYSADMIN") as conn:
        _run(conn, create)
    status = f"select system$pipe_status('{world.schema}.P')"
    e = world.refused(status)
    assert (e.errno, _message(e)) == _missing("Pipe", f"{world.schema}.P")
    world.grant("grant operate on pipe {s}.P to role {r}", "grant read on stage {s}.ST to role {r}")
    with world.connect() as conn:
        _run(conn, f"alter pipe {world.schema}.P set pipe_execution_paused = true",
             f"alter pipe {world.schema}.P refresh")  # fmt: skip
        e = world.refused(status, conn)
        assert (e.errno, _message(e)) == _insufficient("pipe", f"{world.schema}.P")
    world.grant("revoke operate on pipe {s}.P from role {r}", "grant monitor on pipe {s}.P to role {r}")
    with world.connect() as conn:
        assert '"executionState":"PAUSED"' in next(iter(_run(conn, status)[0].values()))
        e = world.refused(f"alter pipe {world.schema}.P refresh", conn)
    assert (e.errno, _message(e)) == _insufficient("pipe", f"{world.schema}.P")


REFRESH_CASES = [
    pytest.param(CopyCase("", None), id="operate-read-format-usage-and-insert-refresh"),
    pytest.param(CopyCase("operate", (3001, "pipe", "{s}.P")), id="without-operate-is-003001"),
    pytest.param(CopyCase("insert", (3001, "table", "{s}.T")), id="without-insert-on-the-table-is-003001"),
    pytest.param(CopyCase("read", (2003, "Stage", "{s}.ST")), id="without-read-on-the-stage-is-002003"),
    pytest.param(CopyCase("format", (2003, "File format", "{s}.FF")), id="without-usage-on-the-format-is-002003"),
]


@pytest.mark.parametrize("case", REFRESH_CASES)
def test_refresh_needs_operate_and_what_the_pipes_copy_needs(world: World, tmp_path: Path, case: CopyCase) -> None:
    """ALTER PIPE ... REFRESH ("Manage Snowpipe", https://docs.snowflake.com/en/user-guide/data-load-snowpipe-manage,
    its table of privileges): "Refresh a pipe: OPERATE or OWNERSHIP on the pipe, USAGE on an external stage or READ
    on an internal stage, USAGE on a named file format, and INSERT on the target table." OWNERSHIP is not needed, so
    the service role refreshes with the OPERATE it has; without any one of these the statement is refused."""
    src = _staged_file(tmp_path)
    with world.admin("SYSADMIN") as conn:
        _run(conn, f"create stage {world.schema}.ST", f"create file format {world.schema}.FF type = csv skip_header = 1",
             f"create pipe {world.schema}.P as copy into {world.schema}.T from @{world.schema}.ST "
             f"file_format = (format_name = '{world.schema}.FF')",
             f"put file://{src} @{world.schema}.ST")  # fmt: skip
    grants = {**COPY_GRANTS, "operate": "grant operate on pipe {s}.P to role {r}"}
    world.grant(*USAGE, "grant monitor on pipe {s}.P to role {r}", "grant select on table {s}.T to role {r}",
                *(g for k, g in grants.items() if k != case.missing))
    sql = f"alter pipe {world.schema}.P refresh prefix = 'rows.csv'"
    if case.expected is None:
        with world.connect() as conn:
            ((sent,),) = [(r["File"],) for r in _run(conn, sql) if r["Status"] == "SENT"]
        assert sent.startswith("rows.csv")  # as PUT staged it (compressed: rows.csv.gz)
        return
    e = world.refused(sql)
    errno, kind, name = case.expected
    make = _insufficient if errno == 3001 else _missing
    assert (e.errno, _message(e)) == make(kind, _fill(name, world))


# --- warehouses, integrations ----------------------------------------------------------------------------------------


def test_queries_need_a_warehouse_the_role_may_use(world: World) -> None:
    """"USAGE: Enables using a virtual warehouse and, as a result, executing queries on the warehouse"
    (PRIVILEGES_URL). A query without one fails with 000606 (57P03) "No active warehouse selected in the current
    session.  Select an active warehouse with the 'use warehouse' command."; SHOW, DESCRIBE and other metadata
    commands, and SELECTs of context functions, need no running warehouse
    (https://docs.snowflake.com/en/user-guide/warehouses-overview). A login naming a warehouse the role may not use
    leaves the session without one, and USE WAREHOUSE of it fails with 002043."""
    world.grant(*USAGE, "grant select on table {s}.T to role {r}", "revoke usage on warehouse SNOWSEG_WH from role {r}")
    with world.connect() as conn:
        assert _run(conn, "select current_warehouse() as w") == [{"W": None}]
        assert [t["name"] for t in _run(conn, f"show tables in schema {world.schema}")] == ["T"]
        for sql in (f"select a from {world.schema}.T", f"select count(*) from {world.schema}.T"):
            e = world.refused(sql, conn)
            assert (e.errno, e.sqlstate, _message(e)) == (
                606, "57P03", "No active warehouse selected in the current session.  Select an active warehouse with "
                "the 'use warehouse' command.\n")  # fmt: skip
        e = world.refused("use warehouse SNOWSEG_WH", conn)
        assert e.errno == 2043
    world.grant("grant usage on warehouse SNOWSEG_WH to role {r}")
    with world.connect() as conn:
        assert _run(conn, f"select a from {world.schema}.T") == [{"A": 1}]


def test_integration_needs_usage(world: World) -> None:
    """Integration privileges (PRIVILEGES_URL): "USAGE: Enables referencing the storage integration when creating a
    stage"; SHOW INTEGRATIONS lists those the role has a privilege on, DESCRIBE INTEGRATION needs USAGE. CREATE
    INTEGRATION is a global privilege that "Must be granted by the ACCOUNTADMIN role"."""
    with world.connect() as conn:
        assert _run(conn, "show integrations") == []
        e = world.refused("describe integration SNOWSEG_S3_INT", conn)
        assert (e.errno, _message(e)) == _missing("Integration", "SNOWSEG_S3_INT")
    with world.admin("SECURITYADMIN") as conn:
        e = world.refused(f"grant create integration on account to role {world.role}", conn)
    assert (e.errno, _message(e)) == (3102, "Grant not executed: Insufficient privileges.")
    with world.admin("ACCOUNTADMIN") as conn:
        _run(conn, f"grant usage on integration SNOWSEG_S3_INT to role {world.role}")
    with world.connect() as conn:
        assert [r["name"] for r in _run(conn, "show integrations")] == ["SNOWSEG_S3_INT"]
        assert _run(conn, "describe integration SNOWSEG_S3_INT")


# --- the provisioned account -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("create user {u} type = service", id="create-user"),
        pytest.param("create storage integration {u} type = external_stage storage_provider = 'S3' enabled = true "
                     "storage_aws_role_arn = 'arn:aws:iam::123456789012:role/r' storage_allowed_locations = "
                     "('s3://b/')", id="create-integration"),
    ],
)  # fmt: skip
def test_sysadmin_cannot_create_users_or_integrations(twin: TwinProcess, sql: str) -> None:
    """"Only user administrators (i.e. users with the USERADMIN role or higher), or another role with the CREATE USER
    privilege on the account, can create users" (https://docs.snowflake.com/en/sql-reference/sql/create-user); "Only
    account administrators (users with the ACCOUNTADMIN role) or a role with the global CREATE INTEGRATION privilege
    can execute this SQL command" (.../create-storage-integration). The first admin_setup.sql created its service
    user as SYSADMIN: this is what refuses it."""
    with _admin(twin, "SYSADMIN") as conn, pytest.raises(ProgrammingError) as e:
        _run(conn, sql.format(u=_name("X")))
    assert (e.value.errno, _message(e.value)) == _insufficient("account", "TWIN")


def test_new_account_has_the_service_role_users_and_admin_setup_grants(twin: TwinProcess) -> None:
    """What include/sql/admin/admin_setup.sql steps 1, 2 and 5 grant: SNOWSEG_ROLE under SYSADMIN, USAGE on the
    warehouse SNOWSEG_WH and on the storage integration; the pipeline's user SNOWSEG logs in by key pair with role
    SNOWSEG_ROLE, the admin user SNOWSEG_ADMIN with SYSADMIN (and may use ACCOUNTADMIN)."""
    conn_extra = connection(twin.port, twin.home)["extra"]
    with snowflake.connector.connect(user="snowseg", private_key=_key(key_path(twin.home)),
                                     role=conn_extra["role"], warehouse=conn_extra["warehouse"],
                                     **_base(twin)) as conn:  # fmt: skip
        assert _run(conn, "select current_user() as u, current_role() as r, current_warehouse() as w") == [
            {"U": "SNOWSEG", "R": "SNOWSEG_ROLE", "W": "SNOWSEG_WH"}]
        grants = {(g["privilege"], g["granted_on"], g["name"]) for g in _run(conn, "show grants to role SNOWSEG_ROLE")}
    assert grants == {("USAGE", "WAREHOUSE", "SNOWSEG_WH"), ("USAGE", "INTEGRATION", "SNOWSEG_S3_INT")}
    admin = admin_connection(twin.port, twin.home)
    assert (admin["login"], admin["extra"]["role"], admin["extra"]["private_key_file"]) == (
        "snowseg_admin", "SYSADMIN", str(admin_key_path(twin.home)))
    with _admin(twin, "ACCOUNTADMIN") as conn:
        of = {(g["granted_to"], g["grantee_name"]) for g in _run(conn, "show grants of role SNOWSEG_ROLE")}
    assert of == {("ROLE", "SYSADMIN"), ("USER", "SNOWSEG")}


def test_the_pipelines_statement_forms_run_as_snowseg_role_after_admin_setup(twin: TwinProcess, tmp_path: Path) -> None:
    """No false refusals: after admin_setup.sql step 3's grants (USAGE and CREATE SCHEMA on the database, USAGE and
    CREATE TABLE / VIEW / FILE FORMAT / STAGE / PIPE on the schemas, future grants), the forms the DAGs send
    (include/sql) run as SNOWSEG_ROLE, which owns what it creates. The database is created by SYSADMIN, as there."""
    db = _name("SNOWSEG")
    with _admin(twin, "SYSADMIN") as conn:
        _run(conn, f"create database if not exists {db}", f"create schema if not exists {db}.RAW",
             f"create schema if not exists {db}.AUDIT",
             f"grant usage, create schema on database {db} to role SNOWSEG_ROLE",
             f"grant usage on schema {db}.RAW to role SNOWSEG_ROLE", f"grant usage on schema {db}.AUDIT to role SNOWSEG_ROLE",
             f"grant create table, create view, create file format, create stage, create pipe on schema {db}.RAW "
             "to role SNOWSEG_ROLE", f"grant create table on schema {db}.AUDIT to role SNOWSEG_ROLE")  # fmt: skip
    with _admin(twin, "SECURITYADMIN") as conn:
        _run(conn, f"grant select, insert, update, delete, truncate on future tables in schema {db}.AUDIT to role "
                   "SNOWSEG_ROLE")  # fmt: skip
    src = tmp_path / "sales.csv"
    src.write_text("ID,AMOUNT\n1,2.5\n2,3.5\n")
    raw, audit = f"{db}.RAW", f"{db}.AUDIT"
    statements = [
        f"create database if not exists {db}",  # fails: no CREATE DATABASE (below)
        f"create schema if not exists {db}.RAW",  # CREATE SCHEMA on the database (step 3)
        f"create table if not exists {raw}.SALES (ID number, AMOUNT float, _FILE varchar, _ROW number, _BATCH_ID varchar)",
        f"create table if not exists {audit}.LOAD_AUDIT (BATCH_ID varchar, ROWS_LOADED number)",
        f"create or replace file format {raw}.CSV type = csv skip_header = 1 field_optionally_enclosed_by = '\"'",
        f"create stage if not exists {raw}.SNOWSEG_BULK",
        f"create temporary stage {raw}.PROBE file_format = (format_name = '{raw}.CSV')",
        f"drop stage if exists {raw}.PROBE",
        f"create transient table {raw}.PROBE_T (ok boolean)",
        f"create view {raw}.PROBE_V as select ok from {raw}.PROBE_T",
        f"drop view if exists {raw}.PROBE_V", f"drop table if exists {raw}.PROBE_T",
        f"put file://{src.as_posix()} @{raw}.%SALES auto_compress = true overwrite = true",
        f"list @{raw}.%SALES",
        # a table stage loads in the standard form only (tests/twin/test_strict_conformance.py)
        f"copy into {raw}.SALES (ID, AMOUNT) from @{raw}.%SALES file_format = (format_name = '{raw}.CSV') "
        "on_error = abort_statement",
        f"put file://{src.as_posix()} @{raw}.SNOWSEG_BULK/b2 auto_compress = true",
        f"copy into {raw}.SALES (ID, AMOUNT, _FILE, _ROW, _BATCH_ID) from (select $1, $2, metadata$filename, "
        f"metadata$file_row_number, 'B1' from @{raw}.SNOWSEG_BULK/b2) file_format = (format_name = '{raw}.CSV')",
        f"remove @{raw}.SNOWSEG_BULK/b2",
        "begin", f"insert into {audit}.LOAD_AUDIT (BATCH_ID, ROWS_LOADED) values ('B1', 2)", "commit",
        f"update {audit}.LOAD_AUDIT set ROWS_LOADED = 2 where BATCH_ID = 'B1'",
        f"delete from {audit}.LOAD_AUDIT where BATCH_ID = 'X'",
        f"with source as (select * from {raw}.SALES), final as (select ID, AMOUNT from source "
        "qualify row_number() over (partition by ID order by _ROW desc) = 1) select * from final",
        f"create or replace view {raw}.SALES_PUBLISHED as select s.* from {raw}.SALES as s "
        f"inner join {audit}.LOAD_AUDIT as a on a.BATCH_ID = s._BATCH_ID",
        f"select * from {raw}.SALES_PUBLISHED",
        f"select TABLE_NAME, COLUMN_NAME from {db}.INFORMATION_SCHEMA.COLUMNS where TABLE_SCHEMA = 'RAW'",
        f"alter table {raw}.SALES add column if not exists NOTE varchar",
        f"create stage if not exists {raw}.LANDING url = 's3://snowseg-landing/sales/' storage_integration = SNOWSEG_S3_INT",
        f"create pipe if not exists {raw}.SALES_PIPE auto_ingest = false as copy into {raw}.SALES (ID, AMOUNT) "
        f"from (select $1, $2 from @{raw}.SNOWSEG_BULK) file_format = (format_name = '{raw}.CSV') on_error = skip_file",
        f"select system$pipe_status('{raw}.SALES_PIPE')", f"describe pipe {raw}.SALES_PIPE",
        f"show pipes in schema {raw}", f"show stages like 'LANDING' in schema {raw}", f"show schemas in database {db}",
        "use warehouse SNOWSEG_WH", "describe integration SNOWSEG_S3_INT",
        "select current_user() as user_name, current_role() as role_name, current_warehouse() as warehouse_name",
    ]
    with snowflake.connector.connect(user="snowseg", private_key=_key(key_path(twin.home)), role="SNOWSEG_ROLE",
                                     warehouse="SNOWSEG_WH", **_base(twin)) as conn:  # fmt: skip
        e = _refused_by(conn, statements[0])
        assert (e.errno, _message(e)) == _insufficient("account", "TWIN")
        for sql in statements[1:]:
            try:
                _run(conn, sql)
            except ProgrammingError as error:
                pytest.fail(f"{sql!r} refused: {error}")
        owned = {(g["privilege"], g["granted_on"], g["name"]) for g in _run(conn, "show grants to role SNOWSEG_ROLE")}
    assert {("OWNERSHIP", "TABLE", f"{raw}.SALES"), ("OWNERSHIP", "STAGE", f"{raw}.SNOWSEG_BULK"),
            ("OWNERSHIP", "FILE_FORMAT", f"{raw}.CSV"), ("OWNERSHIP", "PIPE", f"{raw}.SALES_PIPE"),
            ("OWNERSHIP", "VIEW", f"{raw}.SALES_PUBLISHED"), ("SELECT", "TABLE", f"{audit}.LOAD_AUDIT")} <= owned


def _refused_by(conn: snowflake.connector.SnowflakeConnection, sql: str) -> ProgrammingError:
    with pytest.raises(ProgrammingError) as e:
        _run(conn, sql)
    return e.value
