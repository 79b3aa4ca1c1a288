"""Roles and grants: CREATE / DROP ROLE, GRANT / REVOKE (roles, privileges, ownership), SHOW GRANTS, SHOW ROLES.

Emulates Snowflake's role-based access control statements over the twin's grants catalog (_grants):
- `CREATE [OR REPLACE] ROLE [IF NOT EXISTS] r [COMMENT = '..']` (owned by the current role), `DROP ROLE [IF EXISTS]
  r` (what r owned is owned by the dropping role; every grant to or of r goes).
- `GRANT ROLE r TO { ROLE p | USER u }` / `REVOKE ROLE r FROM { ROLE p | USER u }`: p inherits r's privileges;
  a user may activate r (USE ROLE, the login's role). A grant that would make a cycle is refused.
- `GRANT { <privilege> [, ...] | ALL [PRIVILEGES] } ON { ACCOUNT | <type> <name> | ALL <types> IN { SCHEMA s |
  DATABASE d } | FUTURE <types> IN { SCHEMA s | DATABASE d } } TO [ROLE] r [WITH GRANT OPTION]` and `REVOKE
  [GRANT OPTION FOR] ... FROM [ROLE] r [CASCADE | RESTRICT]`, for DATABASE, SCHEMA, TABLE, VIEW, STAGE, FILE FORMAT,
  PIPE, WAREHOUSE, INTEGRATION and USER. Future grants are given to the objects created later (access_control).
- `GRANT OWNERSHIP ON { <type> <name> | ALL <types> IN ... | FUTURE <types> IN ... } TO ROLE r [{ COPY | REVOKE }
  CURRENT GRANTS]`: fails when the object has other grants and neither option is given, as Snowflake's does.
- `SHOW GRANTS TO ROLE r | TO USER u | OF ROLE r | ON ACCOUNT | ON <type> <name>`, `SHOW FUTURE GRANTS IN { SCHEMA
  s | DATABASE d }`, `SHOW ROLES [LIKE '..']`, with Snowflake's columns.

Who may (only checked when access_control enforces; https://docs.snowflake.com/en/sql-reference/sql/grant-privilege,
.../grant-ownership, .../grant-role, .../create-role): CREATE ROLE needs CREATE ROLE on the account (USERADMIN and
SECURITYADMIN have it); granting or revoking a privilege needs the object's OWNERSHIP, the privilege WITH GRANT
OPTION, or MANAGE GRANTS (SECURITYADMIN); account privileges need MANAGE GRANTS, and those the docs say "Must be
granted by the ACCOUNTADMIN role" need ACCOUNTADMIN; future grants need MANAGE GRANTS; granting or revoking a role
needs its OWNERSHIP or MANAGE GRANTS; GRANT OWNERSHIP needs the object's OWNERSHIP or MANAGE GRANTS, and COPY
CURRENT GRANTS needs MANAGE GRANTS or the new owner among the active roles. A refused grant is 003102 (42501)
"Grant not executed: Insufficient privileges." (a revoke: "Revoke not executed: ...").

Differs from Snowflake: Snowflake answers some refused GRANTs with that text as the statement's status instead of
an error; the twin always raises it (stricter). Grants to users, database roles and shares, and privileges on other
object types, raise NotImplementedError. An unknown privilege for the object type, a role cycle and dependent
grants without COPY/REVOKE CURRENT GRANTS are refused with the twin's own message (codes 003xxx as Snowflake's
access-control errors, not verified). SHOW ROLES lists every role; SHOW GRANTS shows '' as the account's name.
"""

from __future__ import annotations

import re
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions import _grants, access_control, session_context
from snowseg_twin.extensions._account_catalog import NAME, catalog, ident, like_clause, like_matches
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions import _fakesnow_compat as compat

_OBJ = r'(?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+)){0,2}'
_TYPES = r"DATABASE|SCHEMA|(?:EXTERNAL\s+|TRANSIENT\s+)?TABLE|VIEW|STAGE|FILE\s+FORMAT|PIPE|WAREHOUSE|(?:STORAGE\s+)?INTEGRATION|USER|ROLE"
_PLURALS = r"SCHEMAS|TABLES|VIEWS|STAGES|FILE\s+FORMATS|PIPES"

_CREATE = re.compile(
    rf"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?ROLE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{NAME})"
    r"(?:\s+COMMENT\s*=\s*'(?P<comment>(?:[^']|'')*)')?\s*;?\s*$",
    re.IGNORECASE,
)
_DROP = re.compile(rf"^\s*DROP\s+ROLE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)
_ROLE_GRANT = re.compile(
    rf"^\s*(?P<verb>GRANT|REVOKE)\s+ROLE\s+(?P<role>{NAME})\s+(?:TO|FROM)\s+(?P<kind>ROLE|USER)\s+(?P<grantee>{NAME})"
    r"\s*;?\s*$",
    re.IGNORECASE,
)
_PRIVILEGE_GRANT = re.compile(
    rf"""^\s*(?P<verb>GRANT|REVOKE)\s+(?P<option_for>GRANT\s+OPTION\s+FOR\s+)?(?P<privileges>.+?)\s+ON\s+
        (?:(?P<account>ACCOUNT)
          |(?P<scope>ALL|FUTURE)\s+(?P<plural>{_PLURALS})\s+IN\s+(?P<in_kind>SCHEMA|DATABASE)\s+(?P<in_name>{_OBJ})
          |(?P<type>{_TYPES})\s+(?P<name>{_OBJ}))
        \s+(?:TO|FROM)\s+(?:ROLE\s+)?(?P<grantee>{NAME})
        (?P<with_option>\s+WITH\s+GRANT\s+OPTION)?
        (?:\s+(?P<current>COPY|REVOKE)\s+CURRENT\s+GRANTS)?
        (?:\s+(?:CASCADE|RESTRICT))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SHOW_GRANTS = re.compile(
    rf"""^\s*SHOW\s+GRANTS\s+(?:(?P<to>TO|OF)\s+(?P<kind>ROLE|USER)\s+(?P<who>{NAME})
        |ON\s+(?:(?P<account>ACCOUNT)|(?P<type>{_TYPES})\s+(?P<name>{_OBJ})))\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SHOW_FUTURE = re.compile(
    rf"^\s*SHOW\s+FUTURE\s+GRANTS\s+IN\s+(?P<kind>SCHEMA|DATABASE)\s+(?P<name>{_OBJ})\s*;?\s*$", re.IGNORECASE
)
_SHOW_ROLES = re.compile(rf"^\s*SHOW\s+ROLES{like_clause()}\s*;?\s*$", re.IGNORECASE)
UNPARSABLE = [_CREATE, _DROP, _ROLE_GRANT, _PRIVILEGE_GRANT, _SHOW_GRANTS, _SHOW_FUTURE, _SHOW_ROLES]

# the privileges each object type has (ALL [PRIVILEGES] is every one of them):
# https://docs.snowflake.com/en/user-guide/security-access-control-privileges
PRIVILEGES = {
    "ACCOUNT": ("CREATE DATABASE", "CREATE WAREHOUSE", "CREATE INTEGRATION", "CREATE ROLE", "CREATE USER",
                "MANAGE GRANTS", "CREATE SHARE", "IMPORT SHARE", "EXECUTE TASK", "MONITOR EXECUTION", "MONITOR USAGE",
                "CREATE ACCOUNT", "CREATE NETWORK POLICY", "APPLY TAG"),
    "DATABASE": ("USAGE", "MONITOR", "MODIFY", "CREATE SCHEMA"),
    "SCHEMA": ("USAGE", "MONITOR", "MODIFY", "CREATE TABLE", "CREATE EXTERNAL TABLE", "CREATE VIEW",
               "CREATE MATERIALIZED VIEW", "CREATE STAGE", "CREATE FILE FORMAT", "CREATE SEQUENCE", "CREATE FUNCTION",
               "CREATE PIPE", "CREATE STREAM", "CREATE TASK", "CREATE PROCEDURE", "CREATE TAG"),
    "TABLE": ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"),
    "VIEW": ("SELECT", "REFERENCES"),
    "STAGE": ("READ", "WRITE", "USAGE"),
    "FILE_FORMAT": ("USAGE",),
    "PIPE": ("MONITOR", "OPERATE"),
    "WAREHOUSE": ("USAGE", "OPERATE", "MONITOR", "MODIFY"),
    "INTEGRATION": ("USAGE", "USE_ANY_ROLE"),
    "USER": ("MONITOR",),
    "ROLE": (),
}  # fmt: skip
# global privileges whose Notes say "Must be granted by the ACCOUNTADMIN role"
ACCOUNTADMIN_ONLY = {"CREATE ACCOUNT", "CREATE INTEGRATION", "CREATE SHARE", "EXECUTE TASK", "IMPORT SHARE",
                     "MONITOR EXECUTION", "MONITOR USAGE"}  # fmt: skip

SHOW_GRANTS_COLUMNS = [("created_on", "TIMESTAMPTZ"), ("privilege", "VARCHAR"), ("granted_on", "VARCHAR"),
                       ("name", "VARCHAR"), ("granted_to", "VARCHAR"), ("grantee_name", "VARCHAR"),
                       ("grant_option", "VARCHAR"), ("granted_by", "VARCHAR")]  # fmt: skip
SHOW_ROLE_GRANTS_COLUMNS = [("created_on", "TIMESTAMPTZ"), ("role", "VARCHAR"), ("granted_to", "VARCHAR"),
                            ("grantee_name", "VARCHAR"), ("granted_by", "VARCHAR")]  # fmt: skip
SHOW_FUTURE_COLUMNS = [("created_on", "TIMESTAMPTZ"), ("privilege", "VARCHAR"), ("grant_on", "VARCHAR"),
                       ("name", "VARCHAR"), ("grant_to", "VARCHAR"), ("grantee_name", "VARCHAR"),
                       ("grant_option", "VARCHAR")]  # fmt: skip
SHOW_ROLES_COLUMNS = [("created_on", "TIMESTAMPTZ"), ("name", "VARCHAR"), ("is_default", "VARCHAR"),
                      ("is_current", "VARCHAR"), ("is_inherited", "VARCHAR"), ("assigned_to_users", "BIGINT"),
                      ("granted_to_roles", "BIGINT"), ("granted_roles", "BIGINT"), ("owner", "VARCHAR"),
                      ("comment", "VARCHAR")]  # fmt: skip


def _error(msg: str, errno: int, sqlstate: str = "42501") -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=msg, errno=errno, sqlstate=sqlstate)


def not_executed(verb: str) -> snowflake.connector.errors.ProgrammingError:
    return _error(f"{verb.capitalize()} not executed: Insufficient privileges.", 3102)


def _status(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def granted_on(type_text: str) -> str:
    """The granted_on type of a statement's object type: FILE FORMAT -> FILE_FORMAT, STORAGE INTEGRATION -> INTEGRATION."""
    words = re.sub(r"\s+", " ", type_text.upper()).replace("STORAGE ", "").replace("TRANSIENT ", "")
    if words.startswith("EXTERNAL "):
        raise NotImplementedError(f"grants ON {words}")
    return {"FILE FORMAT": "FILE_FORMAT", "FILE FORMATS": "FILE_FORMAT"}.get(words, words.removesuffix("S"))


class _Ctx:
    """The statement's session: its role (None without a login context) and the names it resolves against."""

    def __init__(self, cursor: Any):  # noqa: ANN401
        self.cursor = cursor
        self.session = session_context.get(compat.connection(cursor))
        self.role = (self.session.role if self.session else None) or "ACCOUNTADMIN"
        self.enforce = access_control.enforcing() and self.session is not None
        self.access = access_control.Access(cursor, self.session) if self.session else None
        self.names = access_control.Names(compat.connection(cursor))

    def meta(self) -> Any:  # noqa: ANN401
        return catalog(compat.duck_conn(self.cursor))

    def roles(self) -> set[str]:
        return self.access.roles if self.access else {self.role}

    def manage_grants(self) -> bool:
        return not self.enforce or self.access.account("MANAGE GRANTS")

    def object_name(self, on: str, text: str) -> str:
        parts = {"DATABASE": 1, "SCHEMA": 2}.get(on, 3)
        if on in ("WAREHOUSE", "INTEGRATION", "USER", "ROLE"):
            return ident(text)
        name = self.names.dotted(text, parts)
        if name is None:
            raise _error("Cannot perform GRANT. This session does not have a current database. Call 'USE DATABASE', "
                         "or use a qualified name.", 90105, "22000")  # fmt: skip
        return name


def _require_role(ctx: _Ctx, meta: Any, role: str) -> None:  # noqa: ANN401
    if not _grants.role_exists(meta, role):
        raise access_control.not_authorized("ROLE", role)


def _require_object(ctx: _Ctx, on: str, name: str) -> None:
    if not access_control.exists(ctx.cursor, on, name):
        raise access_control.not_authorized(on, name)


def create_sql(ctx: _Ctx, m: re.Match) -> str:
    name = ident(m["name"])
    if ctx.enforce:
        ctx.access.require_account("CREATE ROLE")
    with ctx.meta() as meta:
        if _grants.role_exists(meta, name):
            if m["ine"]:
                return _status(f"{name} already exists, statement succeeded.")
            if not m["replace"]:
                raise _error(f"SQL compilation error:\nObject '{name}' already exists.", 2002, "42710")
            if ctx.enforce and "OWNERSHIP" not in _grants.held(meta, ctx.roles(), "ROLE", name):
                raise access_control.insufficient("ROLE", name)
            _grants.drop_role(meta, name, ctx.role)
        _grants.create_role(meta, name, ctx.role, (m["comment"] or "").replace("''", "'"))
    return _status(f"Role {name} successfully created.")


def drop_sql(ctx: _Ctx, m: re.Match) -> str:
    name = ident(m["name"])
    with ctx.meta() as meta:
        if not _grants.role_exists(meta, name):
            if m["ie"]:
                return _status(f"Drop statement executed successfully ({name} already dropped).")
            raise access_control.not_authorized("ROLE", name)
        if name in ("ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC"):
            raise _error(f"SQL access control error:\nCannot drop system role '{name}'.", 3001)  # the twin's words
        if ctx.enforce and "OWNERSHIP" not in _grants.held(meta, ctx.roles(), "ROLE", name):
            raise access_control.insufficient("ROLE", name)
        _grants.drop_role(meta, name, ctx.role)
    return _status(f"{name} successfully dropped.")


def role_grant_sql(ctx: _Ctx, m: re.Match) -> str:
    role, kind, grantee, verb = ident(m["role"]), m["kind"].upper(), ident(m["grantee"]), m["verb"].upper()
    with ctx.meta() as meta:
        _require_role(ctx, meta, role)
        if kind == "ROLE":
            _require_role(ctx, meta, grantee)
        else:
            _require_object(ctx, "USER", grantee)
        if ctx.enforce and not ctx.manage_grants() and "OWNERSHIP" not in _grants.held(meta, ctx.roles(), "ROLE", role):
            raise not_executed(verb)
        if verb == "REVOKE":
            _grants.revoke_role(meta, role, kind, grantee)
            return _status("Statement executed successfully.")
        if kind == "ROLE" and (grantee == role or grantee in _grants.inherited(meta, role) - {"PUBLIC"}):
            raise _error(f"SQL compilation error:\nGranting role '{role}' to role '{grantee}' would create a cycle.",
                         3004)  # fmt: skip  (the twin's words)
        _grants.grant_role(meta, role, kind, grantee, ctx.role)
    return _status("Statement executed successfully.")


def _privileges(text: str, on: str) -> list[str]:
    words = [re.sub(r"\s+", " ", p.strip().upper()) for p in text.split(",")]
    if words in (["ALL"], ["ALL PRIVILEGES"]):
        return list(PRIVILEGES[on])
    for p in words:
        if p != "OWNERSHIP" and p not in PRIVILEGES[on]:
            raise _error(f"SQL compilation error:\nInvalid privilege {p} for {on.replace('_', ' ')}.", 3011, "42601")
    return words


def _targets(ctx: _Ctx, m: re.Match, on: str) -> list[str]:
    """The existing objects a GRANT ... ON ALL <types> IN ... covers."""
    scope = ctx.object_name(m["in_kind"].upper(), m["in_name"])
    duck = compat.duck_conn(ctx.cursor)
    db, _, schema = scope.partition(".")
    with duck.cursor() as c:
        if on in ("TABLE", "VIEW"):
            source, column = ("duckdb_tables()", "table_name") if on == "TABLE" else ("duckdb_views()", "view_name")
            sql = f"SELECT database_name, schema_name, {column} FROM {source} WHERE database_name = ? AND NOT internal"
        elif on == "SCHEMA":
            sql = ("SELECT database_name, schema_name, NULL FROM duckdb_schemas() WHERE database_name = ? "
                   "AND schema_name NOT IN ('main', 'information_schema', 'pg_catalog', '_fs_information_schema')")
        elif on in ("STAGE", "FILE_FORMAT"):
            table = access_control.STAGES if on == "STAGE" else access_control.FILE_FORMATS
            sql = f"SELECT database_name, schema_name, name FROM {table} WHERE database_name = ?"
        else:
            raise NotImplementedError(f"GRANT ... ON ALL {on}S")  # "bulk grants on pipes ... are not allowed"
        rows = c.execute(sql, [db]).fetchall()
    names = [".".join(p for p in row if p is not None) for row in rows if not schema or row[1] == schema]
    if on == "TABLE" and schema:
        names = [n for n in names if access_control.relation_kind(ctx.cursor, n) == "TABLE"]
    return sorted(names)


def _may_grant(ctx: _Ctx, meta: Any, on: str, name: str, privilege: str) -> bool:  # noqa: ANN401
    if ctx.manage_grants():
        return True
    roles = ctx.roles()
    return "OWNERSHIP" in _grants.held(meta, roles, on, name) or privilege in _grants.grantable(meta, roles, on, name)


def privilege_grant_sql(ctx: _Ctx, m: re.Match) -> str:  # noqa: C901, PLR0912
    verb = m["verb"].upper()
    grantee = ident(m["grantee"])
    if m["account"]:
        on, scope = "ACCOUNT", None
    elif m["scope"]:
        on, scope = granted_on(m["plural"]), m["scope"].upper()
    else:
        on, scope = granted_on(m["type"]), None
    privileges = _privileges(m["privileges"], on)
    ownership = privileges == ["OWNERSHIP"]
    if "OWNERSHIP" in privileges and not ownership:
        raise _error("SQL compilation error:\nOWNERSHIP cannot be granted with other privileges.", 3011, "42601")
    if ownership and verb == "REVOKE":
        # "OWNERSHIP is a special type of privilege that can only be granted from one role to another role; it cannot
        # be revoked." https://docs.snowflake.com/en/sql-reference/sql/grant-ownership
        raise _error("SQL compilation error:\nOWNERSHIP cannot be revoked; transfer it with GRANT OWNERSHIP.", 3011,
                     "42601")  # fmt: skip
    with ctx.meta() as meta:
        _require_role(ctx, meta, grantee)
        if scope == "FUTURE":
            name = ctx.object_name(m["in_kind"].upper(), m["in_name"])
            _require_object(ctx, m["in_kind"].upper(), name)
            if ctx.enforce and not ctx.manage_grants():
                raise not_executed(verb)
            for privilege in privileges:
                if verb == "GRANT":
                    _grants.future_grant(meta, privilege, on, m["in_kind"].upper(), name, grantee,
                                         grant_option=bool(m["with_option"]))  # fmt: skip
                else:
                    _grants.revoke_future(meta, privilege, on, m["in_kind"].upper(), name, grantee)
            return _status("Statement executed successfully.")
        if on == "ACCOUNT":
            names = [""]
            if ctx.enforce and (not ctx.manage_grants() or (set(privileges) & ACCOUNTADMIN_ONLY
                                                             and "ACCOUNTADMIN" not in ctx.roles())):  # fmt: skip
                raise not_executed(verb)
        elif scope == "ALL":
            names = _targets(ctx, m, on)
        else:
            names = [ctx.object_name(on, m["name"])]
            if on in ("TABLE", "VIEW"):
                kind = access_control.relation_kind(ctx.cursor, names[0])
                if kind not in ("TABLE", "VIEW"):
                    raise access_control.not_authorized(on, names[0])
                on = kind
            else:
                _require_object(ctx, on, names[0])
        for name in names:
            for privilege in privileges:
                if ctx.enforce and on != "ACCOUNT" and not _may_grant(ctx, meta, on, name, privilege):
                    if not _grants.held(meta, ctx.roles(), on, name) and on not in ("ROLE",):
                        raise access_control.not_authorized(on, name)
                    raise not_executed(verb)
        if ownership:
            return _ownership(ctx, meta, on, names, grantee, m["current"])
        for name in names:
            for privilege in privileges:
                if verb == "GRANT":
                    _grants.grant(meta, privilege, on, name, grantee, grant_option=bool(m["with_option"]),
                                  by=ctx.role)  # fmt: skip
                else:
                    _grants.revoke(meta, privilege, on, name, grantee, grant_option_only=bool(m["option_for"]))
    return _status("Statement executed successfully.")


def _ownership(ctx: _Ctx, meta: Any, on: str, names: list[str], role: str, current: str | None) -> str:  # noqa: ANN401
    current = current.upper() if current else None
    if current == "COPY" and ctx.enforce and not ctx.manage_grants() and role not in ctx.roles():
        # "The COPY parameter requires at least one of the following: An active role has the MANAGE GRANTS privilege
        # on the account. An active role is the new owner (or a higher) role."
        raise not_executed("GRANT")
    for name in names:
        others = [g for g in _grants.object_grants(meta, on, name) if g[0] != "OWNERSHIP"]
        if others and current is None and on != "ROLE":
            # "A GRANT OWNERSHIP statement fails if existing outbound privileges on the object are neither revoked
            # nor copied." https://docs.snowflake.com/en/sql-reference/sql/grant-ownership
            privilege, grantee = others[0][0], others[0][1]
            raise _error(
                f"SQL access control error:\nDependent grant of privilege '{privilege}' on securable '{name}' to "
                f"role '{grantee}' exists. Use COPY CURRENT GRANTS or REVOKE CURRENT GRANTS to transfer ownership.",
                3111,
            )  # the twin's words
        if on == "PIPE":
            from snowseg_twin.extensions import pipes

            pipe = pipes.find(*name.split("."))
            if pipe is not None and not pipe.paused:
                # "Pipes: The pipe must be paused." (usage notes, GRANT OWNERSHIP)
                raise _error(f"SQL execution error:\nPipe '{name}' must be paused before its ownership is "
                             "transferred: ALTER PIPE ... SET PIPE_EXECUTION_PAUSED = TRUE.", 3111)  # fmt: skip
    for name in names:
        _grants.transfer_ownership(meta, on, name, role, current_grants=current)
        if on == "ROLE":
            meta.execute(f"UPDATE {_grants.ROLES} SET owner = ? WHERE name = ?", [role, name])
    return _status("Statement executed successfully.")


def _yes(flag: object) -> str:
    return "true" if flag else "false"


def show_grants_sql(ctx: _Ctx, m: re.Match) -> str:
    with ctx.meta() as meta:
        if m["to"] and m["to"].upper() == "TO" and m["kind"].upper() == "ROLE":
            role = ident(m["who"])
            _require_role(ctx, meta, role)
            if ctx.enforce and not ctx.manage_grants() and role not in ctx.roles() and "OWNERSHIP" not in \
                    _grants.held(meta, ctx.roles(), "ROLE", role):  # fmt: skip
                raise access_control.insufficient("ROLE", role)
            rows = [[created, privilege, on, name, "ROLE", role, _yes(option), by]
                    for created, privilege, on, name, option, by in _grants.grants_to_role(meta, role)]  # fmt: skip
            return values_sql(SHOW_GRANTS_COLUMNS, rows)
        if m["to"]:  # TO USER u / OF ROLE r: role grants
            who = ident(m["who"])
            if m["kind"].upper() == "USER":
                _require_object(ctx, "USER", who)
                rows = [[c, role, "USER", who, by] for c, role, by in _grants.role_grants_of(meta, "USER", who)]
            else:
                _require_role(ctx, meta, who)
                found = meta.execute(
                    f"SELECT created_on, role, granted_to, grantee_name, granted_by FROM {_grants.ROLE_GRANTS} "
                    "WHERE role = ? ORDER BY granted_to, grantee_name",
                    [who],
                ).fetchall()
                rows = [list(r) for r in found]
            return values_sql(SHOW_ROLE_GRANTS_COLUMNS, rows)
        if m["account"]:
            on, name = "ACCOUNT", ""
        else:
            on = granted_on(m["type"])
            name = ctx.object_name(on, m["name"])
            if on in ("TABLE", "VIEW"):
                on = access_control.relation_kind(ctx.cursor, name) or on
            _require_object(ctx, on, name)
            if ctx.enforce and not ctx.manage_grants() and not _grants.held(meta, ctx.roles(), on, name):
                raise access_control.not_authorized(on, name)
        rows = [[created, privilege, on, name, "ROLE", grantee, _yes(option), by]
                for privilege, grantee, option, by, created in _grants.object_grants(meta, on, name)]  # fmt: skip
    return values_sql(SHOW_GRANTS_COLUMNS, rows)


def show_future_sql(ctx: _Ctx, m: re.Match) -> str:
    kind = m["kind"].upper()
    name = ctx.object_name(kind, m["name"])
    with ctx.meta() as meta:
        rows = [[created, privilege, on, f"{scope}.<{on}>", "ROLE", grantee, _yes(option)]
                for created, privilege, on, scope, grantee, option in _grants.future_grants(meta, kind, name)]  # fmt: skip
    return values_sql(SHOW_FUTURE_COLUMNS, rows)


def show_roles_sql(ctx: _Ctx, m: re.Match) -> str:
    current = ctx.session.role if ctx.session else None
    with ctx.meta() as meta:
        rows = []
        for created, name, comment, _ in _grants.roles(meta):
            if not like_matches(m["like"], name):
                continue
            users = meta.execute(f"SELECT count(*) FROM {_grants.ROLE_GRANTS} WHERE role = ? AND granted_to = 'USER'",
                                 [name]).fetchall()[0][0]  # fmt: skip
            to_roles = meta.execute(f"SELECT count(*) FROM {_grants.ROLE_GRANTS} WHERE role = ? AND granted_to = 'ROLE'",
                                    [name]).fetchall()[0][0]  # fmt: skip
            granted = meta.execute(f"SELECT count(*) FROM {_grants.ROLE_GRANTS} WHERE granted_to = 'ROLE' AND "
                                   "grantee_name = ?", [name]).fetchall()[0][0]  # fmt: skip
            inherited = current is not None and name != current and name in ctx.roles()
            rows.append([created, name, "N", "Y" if name == current else "N", "Y" if inherited else "N", users,
                         to_roles, granted, _grants.owner(meta, "ROLE", name) or "", comment or ""])  # fmt: skip
    return values_sql(SHOW_ROLES_COLUMNS, rows)


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a role or grant statement; False if command is not one."""
    for regex, run in ((_CREATE, create_sql), (_DROP, drop_sql), (_ROLE_GRANT, role_grant_sql),
                       (_PRIVILEGE_GRANT, privilege_grant_sql), (_SHOW_GRANTS, show_grants_sql),
                       (_SHOW_FUTURE, show_future_sql), (_SHOW_ROLES, show_roles_sql)):  # fmt: skip
        if m := regex.match(command):
            sql = run(_Ctx(cursor), m)
            compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
            return True
    return False
