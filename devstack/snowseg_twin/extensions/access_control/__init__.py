"""Privilege checks on every statement, and the ownership of the objects statements create.

Emulates Snowflake's access control for the statements a pipeline sends (docs.snowflake.com, "Access control
privileges": https://docs.snowflake.com/en/user-guide/security-access-control-privileges). A statement runs with
the privileges of the session's current role and of every role below it in the hierarchy, and PUBLIC's;
OWNERSHIP of an object confers every privilege on it. Operating on an object in a schema needs USAGE on the
database and the schema. What each statement needs (checked before any handler or fakesnow runs it):

- SELECT (and the source of INSERT ... SELECT, CTAS, CREATE VIEW, UPDATE/DELETE/MERGE's other tables): SELECT on
  every table and view; ``<db>.INFORMATION_SCHEMA`` and its table functions: USAGE on the database.
- INSERT / UPDATE / DELETE / TRUNCATE: that privilege on the target; MERGE: UPDATE, DELETE and INSERT on the target
  as its WHEN clauses do.
- CREATE TABLE (not TEMPORARY) / VIEW / STAGE / FILE FORMAT / PIPE: CREATE <type> on the schema; CREATE SCHEMA: on
  the database; CREATE DATABASE / WAREHOUSE / INTEGRATION / ROLE / USER: on the account. Checked with IF NOT
  EXISTS too, whether or not the object exists. OR REPLACE of an existing object also needs its OWNERSHIP.
  CREATE STAGE ... STORAGE_INTEGRATION = i needs USAGE on i; FILE_FORMAT = (FORMAT_NAME = f) USAGE on f;
  CREATE TABLE ... CLONE t SELECT on t; CREATE PIPE also what its COPY needs.
- DROP, ALTER TABLE / VIEW / STAGE / FILE FORMAT / SCHEMA / DATABASE / WAREHOUSE / INTEGRATION / USER: OWNERSHIP;
  ALTER TABLE ... RENAME TO also CREATE TABLE on the target schema; ALTER WAREHOUSE: MODIFY or OPERATE.
- COPY INTO <table>: INSERT on the table; READ on a named internal stage, USAGE on an external one, OWNERSHIP of
  the table for its table stage (@%t); USAGE on a named file format.
- PUT / REMOVE: WRITE on a named internal stage (REMOVE on an external stage: USAGE); LIST / GET: READ (LIST on an
  external stage: USAGE); a table stage (@%t): OWNERSHIP of the table.
- SYSTEM$PIPE_STATUS: MONITOR on the pipe; DESC PIPE: MONITOR or OPERATE; SET PIPE_EXECUTION_PAUSED: OPERATE;
  ALTER PIPE ... REFRESH: OPERATE and what the pipe's COPY needs (USAGE / READ on its stage, USAGE on its file
  format, INSERT on its table), no warehouse.
- USE DATABASE / SCHEMA: USAGE; USE WAREHOUSE: USAGE; DESC TABLE / VIEW / STAGE / FILE FORMAT: any privilege on
  it; DESC INTEGRATION: USAGE; SHOW ... IN DATABASE / SCHEMA: USAGE on it.
- A statement that reads or writes table data (a query with a FROM, DML, COPY, CTAS) needs a current warehouse
  the role has USAGE on: 000606 "No active warehouse selected in the current session.  Select an active warehouse
  with the 'use warehouse' command." SHOW, DESCRIBE, USE, DDL, GRANT, PUT / LIST / REMOVE and SELECTs without a
  FROM (context functions, SYSTEM$PIPE_STATUS) need none.

Errors, as Snowflake words them: an object the role has no privilege on at all (or whose database or schema it
may not use) does not exist for it: 002003 (02000) "SQL compilation error:\\n<Type> '<NAME>' does not exist or not
authorized." (tables and views: "Object '<DB.SCHEMA.NAME>' ...", 42S02); a known object without the privilege
needed: 003001 (42501) "SQL access control error:\\nInsufficient privileges to operate on <type> '<NAME>'". USE
DATABASE / SCHEMA say 003001 either way; USE WAREHOUSE says 002043 "Object does not exist, or operation cannot be
performed." (warehouses).

Where it is on: only when the twin server was started with env SNOWSEG_TWIN_PRIVILEGES=enforce (configure(), at
install), and only for sessions that logged in through the twin's login route; a session without a login context
(fakesnow.patch() in-process) is never checked. Ownership is recorded either way: every object a session creates
is owned by its current role (fakesnow's databases, schemas, tables, views, stages and file formats as much as the
twin's pipes, warehouses, integrations and users), gets the future grants of its schema (or database), and a
dropped or replaced object loses its grants (CREATE OR REPLACE ... COPY GRANTS keeps them).

Differs from Snowflake: secondary roles are never active (stricter); ACCOUNTADMIN is not a superuser, as in
Snowflake, so objects from before the catalog existed (an older twin home, or created on connect) have no owner
and only the privileges granted on them; temporary tables are not checked (only their session sees them);
SHOW DATABASES / SCHEMAS / TABLES and INFORMATION_SCHEMA rows are not filtered by privileges (SHOW WAREHOUSES,
INTEGRATIONS, PIPES and ROLES are); statements the twin does not know are not checked; COUNT(*) and other
queries Snowflake answers from metadata still need a warehouse (stricter).

The package: privileges (enforcement, errors, what a role holds, what exists), plans (what each statement needs
and records); this module hooks them in before every statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import _grants, session_context
from snowseg_twin.extensions._account_catalog import catalog
from snowseg_twin.extensions.access_control.plans import Names, Plan, plan_for
from snowseg_twin.extensions.access_control.privileges import (
    ANY,
    ENV,
    FILE_FORMATS,
    LABELS,
    STAGES,
    Access,
    configure,
    enforcing,
    exists,
    insufficient,
    no_warehouse,
    not_authorized,
    relation_kind,
    role_not_assigned,
    stage_url,
)


def before(cursor: Any, command: str, params: Any) -> Callable[[], None] | None:  # noqa: ANN401
    """_statements before-hook: refuse what the session's role may not do; record ownership once it succeeded."""
    session = session_context.get(compat.connection(cursor))
    if session is None:
        return None
    a = Access(cursor, session)
    plan = plan_for(cursor, command, a)
    if plan is None:
        return None
    if enforcing():
        for check in plan.checks:
            check(a)
        if plan.warehouse:
            a.require_warehouse()
    if not plan.effects:
        return None

    def on_success() -> None:
        a.forget_held()  # the statement ran: what the checks read may have changed
        for effect in plan.effects:
            effect(a)

    return on_success


def visible(cursor: Any, on: str, name: str) -> bool:  # noqa: ANN401
    """Whether SHOW lists the object for the session's role: any privilege on it (always, when not enforcing)."""
    session = session_context.get(compat.connection(cursor))
    if not enforcing() or session is None:
        return True
    return bool(Access(cursor, session).held(on, name))


def owner_of(cursor: Any, on: str, name: str) -> str | None:  # noqa: ANN401
    """The role that owns the object (SHOW's owner column), None when the catalog has no owner for it."""
    with catalog(compat.duck_conn(cursor)) as meta:
        return _grants.owner(meta, on, name)


def install() -> None:
    """Read SNOWSEG_TWIN_PRIVILEGES and hook the checks in before every statement (idempotent)."""
    from snowseg_twin.extensions import _statements

    configure()
    _statements.register_before(before)


__all__ = [
    "ANY",
    "ENV",
    "FILE_FORMATS",
    "LABELS",
    "STAGES",
    "Access",
    "Names",
    "Plan",
    "before",
    "configure",
    "enforcing",
    "exists",
    "insufficient",
    "install",
    "no_warehouse",
    "not_authorized",
    "owner_of",
    "plan_for",
    "relation_kind",
    "role_not_assigned",
    "stage_url",
    "visible",
]
