"""The session's privileges: whether checks are on, Snowflake's access errors, what the current role holds
(Access), and whether an object exists."""

from __future__ import annotations

import os
from typing import Any

import snowflake.connector.errors

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import _grants, session_context
from snowseg_twin.extensions._account_catalog import INTEGRATIONS, WAREHOUSES, catalog

ENV = "SNOWSEG_TWIN_PRIVILEGES"
_state = {"enforce": False}

STAGES = compat.FS_STAGES
FILE_FORMATS = compat.FS_FILE_FORMATS

# granted_on type -> (its name in 002003 messages, in 003001 messages)
LABELS = {
    "ACCOUNT": ("Account", "account"), "DATABASE": ("Database", "database"), "SCHEMA": ("Schema", "schema"),
    "TABLE": ("Object", "table"), "VIEW": ("Object", "view"), "STAGE": ("Stage", "stage"),
    "FILE_FORMAT": ("File format", "file format"), "PIPE": ("Pipe", "pipe"), "WAREHOUSE": ("Warehouse", "warehouse"),
    "INTEGRATION": ("Integration", "integration"), "ROLE": ("Role", "role"), "USER": ("User", "user"),
}  # fmt: skip

ANY = frozenset({"*"})  # any privilege at all will do (DESCRIBE)


def configure(value: str | None = None) -> bool:
    """Turn enforcement on when value (default: env SNOWSEG_TWIN_PRIVILEGES) is 'enforce'; return whether it is."""
    value = os.environ.get(ENV, "") if value is None else value
    if value.strip().lower() not in ("", "off", "enforce"):
        raise ValueError(f"{ENV}={value!r}: use 'enforce' (privilege checks on) or leave it unset (off)")
    _state["enforce"] = value.strip().lower() == "enforce"
    return _state["enforce"]


def enforcing() -> bool:
    return _state["enforce"]


# --- errors -----------------------------------------------------------------------------------------------------------


def not_authorized(on: str, name: str) -> snowflake.connector.errors.ProgrammingError:
    """002003: the object does not exist for this role (it may exist, but the role may not see it)."""
    label = LABELS[on][0]
    sqlstate = "42S02" if label == "Object" else "02000"
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\n{label} '{name}' does not exist or not authorized.", errno=2003,
        sqlstate=sqlstate,
    )


def insufficient(on: str, name: str) -> snowflake.connector.errors.ProgrammingError:
    """003001: the role sees the object but lacks the privilege the statement needs."""
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL access control error:\nInsufficient privileges to operate on {LABELS[on][1]} '{name}'", errno=3001,
        sqlstate="42501",
    )


def no_warehouse() -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg="No active warehouse selected in the current session.  Select an active warehouse with the 'use "
        "warehouse' command.\n",
        errno=606,
        sqlstate="57P03",
    )


def role_not_assigned(role: str) -> snowflake.connector.errors.ProgrammingError:
    """USE ROLE of a role the user was not granted: 003013 (42501)."""
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL access control error:\nRequested role '{role}' is not assigned to the executing user.  Specify "
        "another role to activate.",
        errno=3013,
        sqlstate="42501",
    )


# --- the session's privileges -----------------------------------------------------------------------------------------


class Access:
    """What the session's current role may do: its inherited roles and their grants, read from the catalog."""

    def __init__(self, cursor: Any, session: session_context.Session):  # noqa: ANN401
        self.cursor = cursor
        self.session = session
        self.role = session.role or "PUBLIC"
        self._roles: set[str] | None = None
        self._held: dict[tuple[str, str], set[str]] = {}  # one statement's checks ask about the same objects again

    def meta(self) -> Any:  # noqa: ANN401
        return catalog(compat.duck_conn(self.cursor))

    @property
    def roles(self) -> set[str]:
        if self._roles is None:
            with self.meta() as meta:
                self._roles = _grants.inherited(meta, self.role)
        return self._roles

    def forget_held(self) -> None:
        """Read the grants again at the next check (a statement has changed them)."""
        self._held.clear()

    def held(self, on: str, name: str) -> set[str]:
        if (on, name) not in self._held:
            with self.meta() as meta:
                self._held[on, name] = _grants.held(meta, self.roles, on, name)
        return self._held[on, name]

    def has(self, on: str, name: str, privileges: frozenset[str] | set[str]) -> bool:
        got = self.held(on, name)
        return bool(got) and ("OWNERSHIP" in got or privileges is ANY or bool(got & set(privileges)))

    def account(self, privilege: str) -> bool:
        return privilege in self.held("ACCOUNT", "")

    def account_name(self) -> str:
        return self.session.account or "TWIN"

    # -- requirements --

    def require_account(self, privilege: str) -> None:
        if not self.account(privilege):
            raise insufficient("ACCOUNT", self.account_name())

    def require_container(self, on: str, name: str, privileges: frozenset[str] | set[str], *,
                          always_insufficient: bool = False) -> None:  # fmt: skip
        """A database or schema: USAGE on the database (and schema), then privileges on it."""
        parts = name.split(".")
        if not exists(self.cursor, "DATABASE", parts[0]):
            return  # fakesnow says it does not exist
        if on == "SCHEMA" and not exists(self.cursor, "SCHEMA", name):
            if not self.has("DATABASE", parts[0], {"USAGE"}):
                raise not_authorized("SCHEMA", name)
            return
        shown = parts[-1]
        if not self.has("DATABASE", parts[0], {"USAGE"}):
            if always_insufficient and on == "DATABASE":
                raise insufficient("DATABASE", shown)
            raise not_authorized(on, name)
        if on == "SCHEMA" and not self.has("SCHEMA", name, {"USAGE"}):
            if always_insufficient:
                raise insufficient("SCHEMA", shown)
            raise not_authorized("SCHEMA", name)
        if privileges and privileges != {"USAGE"} and not self.has(on, name, privileges):
            raise insufficient(on, shown)

    def require_object(self, on: str, name: str, privileges: frozenset[str] | set[str]) -> None:
        """An object in a schema: USAGE on its database and schema, then privileges on it."""
        db, schema, _ = name.split(".", 2)
        if not exists(self.cursor, on, name):
            return  # the statement fails on the missing object as it does today
        if not self.has("DATABASE", db, {"USAGE"}) or not self.has("SCHEMA", f"{db}.{schema}", {"USAGE"}):
            raise not_authorized(on, name)
        got = self.held(on, name)
        if not got:
            raise not_authorized(on, name)
        if "OWNERSHIP" not in got and privileges is not ANY and not (got & set(privileges)):
            raise insufficient(on, name)

    def require_account_object(self, on: str, name: str, privileges: frozenset[str] | set[str], *,
                               missing_ok: bool = True) -> None:  # fmt: skip
        """A warehouse, integration, user, role or database: privileges on it (a missing one is the statement's
        business, unless it is only referenced: missing_ok=False)."""
        if not exists(self.cursor, on, name):
            if not missing_ok:
                raise not_authorized(on, name)
            return
        got = self.held(on, name)
        if not got:
            raise not_authorized(on, name)
        if "OWNERSHIP" not in got and privileges is not ANY and not (got & set(privileges)):
            raise insufficient(on, name)

    def require_warehouse(self) -> None:
        wh = self.session.warehouse
        if wh is None or not exists(self.cursor, "WAREHOUSE", wh) or not self.has("WAREHOUSE", wh, {"USAGE"}):
            raise no_warehouse()


# --- what exists -------------------------------------------------------------------------------------------------------


def exists(cursor: Any, on: str, name: str) -> bool:  # noqa: ANN401
    """Whether the object exists (tables and views: either kind)."""
    duck = compat.duck_conn(cursor)
    parts = name.split(".")
    with duck.cursor() as c:
        if on == "DATABASE":
            return bool(c.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = ?", parts).fetchall())
        if on == "SCHEMA":
            return bool(c.execute("SELECT 1 FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?",
                                  parts[:2]).fetchall())  # fmt: skip
        if on in ("TABLE", "VIEW"):
            return relation_kind(cursor, name) not in (None, "TEMPORARY")
        if on == "STAGE":
            return stage_url(cursor, name) is not None
        if on == "FILE_FORMAT":
            return bool(c.execute(f"SELECT 1 FROM {FILE_FORMATS} WHERE database_name = ? AND schema_name = ? "
                                  "AND name = ?", parts).fetchall())  # fmt: skip
        if on == "PIPE":
            from snowseg_twin.extensions import pipes

            return pipes.find(*parts) is not None
    table = {"WAREHOUSE": WAREHOUSES, "INTEGRATION": INTEGRATIONS}.get(on)
    with catalog(duck) as meta:
        if table:
            return bool(meta.execute(f"SELECT 1 FROM {table} WHERE name = ?", [name]).fetchall())
        if on == "ROLE":
            return _grants.role_exists(meta, name)
        if on == "USER":
            from snowseg_twin.extensions._account_catalog import FS_USERS

            return bool(meta.execute(f"SELECT 1 FROM {FS_USERS} WHERE name = ?", [name]).fetchall())
    return on == "ACCOUNT"


def relation_kind(cursor: Any, name: str) -> str | None:  # noqa: ANN401
    """TABLE, VIEW, TEMPORARY (a temporary table of this name shadows it) or None."""
    db, schema, table = name.split(".", 2)
    with compat.duck_conn(cursor).cursor() as c:
        if c.execute("SELECT 1 FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]).fetchall():
            return "TEMPORARY"
        if c.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
                     [db, schema, table]).fetchall():  # fmt: skip
            return "TABLE"
        if c.execute("SELECT 1 FROM duckdb_views() WHERE database_name = ? AND schema_name = ? AND view_name = ?",
                     [db, schema, table]).fetchall():  # fmt: skip
            return "VIEW"
    return None


def stage_url(cursor: Any, name: str) -> str | None:  # noqa: ANN401
    """The stage's URL ('' for an internal stage), or None if there is no such stage."""
    with compat.duck_conn(cursor).cursor() as c:
        rows = c.execute(f"SELECT coalesce(url, '') FROM {STAGES} WHERE database_name = ? AND schema_name = ? "
                         "AND name = ?", name.split(".", 2)).fetchall()  # fmt: skip
    return rows[0][0] if rows else None

