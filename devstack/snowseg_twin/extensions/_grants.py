"""Reading and changing the twin's roles and grants catalog (tables in _account_catalog).

Shared by roles (GRANT / REVOKE / CREATE ROLE / SHOW GRANTS ...), access_control (the privilege checks and the
ownership of new objects) and the SHOW commands that list only what a role may see. Every function takes a
catalog connection (``_account_catalog.catalog(duck_conn)``), so account objects never join a session's
transaction.

Names are stored as Snowflake shows them in SHOW GRANTS: ``DB``, ``DB.SCHEMA``, ``DB.SCHEMA.OBJECT`` for
database objects, the plain name for account objects, and '' for the account itself; object types as in the
``granted_on`` column (ACCOUNT, DATABASE, SCHEMA, TABLE, VIEW, STAGE, FILE_FORMAT, PIPE, WAREHOUSE, INTEGRATION,
ROLE, USER). OWNERSHIP is a grant row like any other (grant_option true, granted_by the owner), as SHOW GRANTS
shows it: https://docs.snowflake.com/en/sql-reference/sql/show-grants
"""

from __future__ import annotations

from typing import Any

from snowseg_twin.extensions._account_catalog import FUTURE_GRANTS, GRANTS, ROLE_GRANTS, ROLES

# schema object types a database's or schema's future grants and DROP cascade apply to
SCHEMA_OBJECTS = ("TABLE", "VIEW", "STAGE", "FILE_FORMAT", "PIPE")

Meta = Any  # a DuckDB connection on the catalog


def role_exists(meta: Meta, name: str) -> bool:
    return bool(meta.execute(f"SELECT 1 FROM {ROLES} WHERE name = ?", [name]).fetchall())


def inherited(meta: Meta, role: str) -> set[str]:
    """role, every role granted to it (directly or through other roles), and PUBLIC: whose privileges it has."""
    found, todo = {role, "PUBLIC"}, [role]
    while todo:
        rows = meta.execute(
            f"SELECT role FROM {ROLE_GRANTS} WHERE granted_to = 'ROLE' AND grantee_name = ?", [todo.pop()]
        ).fetchall()
        for (child,) in rows:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def user_roles(meta: Meta, user: str) -> set[str]:
    """The roles a user may activate: those granted to the user, the roles below them, and PUBLIC."""
    direct = [r for (r,) in meta.execute(
        f"SELECT role FROM {ROLE_GRANTS} WHERE granted_to = 'USER' AND grantee_name = ?", [user]
    ).fetchall()]  # fmt: skip
    usable = {"PUBLIC"}
    for role in direct:
        usable |= inherited(meta, role)
    return usable


def held(meta: Meta, roles: set[str], on: str, name: str) -> set[str]:
    """The privileges any of roles holds on the object (OWNERSHIP included)."""
    if not roles:
        return set()
    marks = ", ".join("?" * len(roles))
    rows = meta.execute(
        f"SELECT DISTINCT privilege FROM {GRANTS} WHERE granted_on = ? AND name = ? AND grantee_name IN ({marks})",
        [on, name, *sorted(roles)],
    ).fetchall()
    return {p for (p,) in rows}


def grantable(meta: Meta, roles: set[str], on: str, name: str) -> set[str]:
    """The privileges any of roles holds WITH GRANT OPTION on the object."""
    marks = ", ".join("?" * len(roles))
    rows = meta.execute(
        f"SELECT DISTINCT privilege FROM {GRANTS} WHERE granted_on = ? AND name = ? AND grant_option "
        f"AND grantee_name IN ({marks})",
        [on, name, *sorted(roles)],
    ).fetchall()
    return {p for (p,) in rows}


def owner(meta: Meta, on: str, name: str) -> str | None:
    rows = meta.execute(
        f"SELECT grantee_name FROM {GRANTS} WHERE privilege = 'OWNERSHIP' AND granted_on = ? AND name = ?", [on, name]
    ).fetchall()
    return rows[0][0] if rows else None


def grant(meta: Meta, privilege: str, on: str, name: str, grantee: str, *, grant_option: bool, by: str) -> None:
    """Grant privilege (not OWNERSHIP) on the object to a role; granting it again may add the grant option."""
    rows = meta.execute(
        f"SELECT grant_option FROM {GRANTS} WHERE privilege = ? AND granted_on = ? AND name = ? AND grantee_name = ?",
        [privilege, on, name, grantee],
    ).fetchall()
    if rows:
        if grant_option and not rows[0][0]:
            meta.execute(
                f"UPDATE {GRANTS} SET grant_option = TRUE WHERE privilege = ? AND granted_on = ? AND name = ? "
                "AND grantee_name = ?",
                [privilege, on, name, grantee],
            )
        return
    meta.execute(f"INSERT INTO {GRANTS} VALUES (?, ?, ?, ?, ?, ?, now())", [privilege, on, name, grantee,
                                                                               grant_option, by])  # fmt: skip


def revoke(meta: Meta, privilege: str, on: str, name: str, grantee: str, *, grant_option_only: bool = False) -> None:
    if grant_option_only:
        meta.execute(
            f"UPDATE {GRANTS} SET grant_option = FALSE WHERE privilege = ? AND granted_on = ? AND name = ? "
            "AND grantee_name = ?",
            [privilege, on, name, grantee],
        )
        return
    meta.execute(
        f"DELETE FROM {GRANTS} WHERE privilege = ? AND granted_on = ? AND name = ? AND grantee_name = ?",
        [privilege, on, name, grantee],
    )


def set_owner(meta: Meta, on: str, name: str, role: str) -> None:
    """Make role the object's owner (the one OWNERSHIP grant), as creating or GRANT OWNERSHIP does."""
    meta.execute(f"DELETE FROM {GRANTS} WHERE privilege = 'OWNERSHIP' AND granted_on = ? AND name = ?", [on, name])
    meta.execute(f"INSERT INTO {GRANTS} VALUES ('OWNERSHIP', ?, ?, ?, TRUE, ?, now())", [on, name, role, role])


def object_grants(meta: Meta, on: str, name: str) -> list[tuple]:
    """(privilege, grantee, grant_option, granted_by, created_on) of every grant on the object, OWNERSHIP first."""
    return meta.execute(
        f"SELECT privilege, grantee_name, grant_option, granted_by, created_on FROM {GRANTS} "
        "WHERE granted_on = ? AND name = ? ORDER BY privilege <> 'OWNERSHIP', privilege, grantee_name",
        [on, name],
    ).fetchall()


def forget(meta: Meta, on: str, name: str, *, keep_grants: bool = False) -> None:
    """An object was dropped (or replaced): its grants go; a dropped database or schema takes its contents' too."""
    if keep_grants:
        meta.execute(f"DELETE FROM {GRANTS} WHERE privilege = 'OWNERSHIP' AND granted_on = ? AND name = ?", [on, name])
        return
    meta.execute(f"DELETE FROM {GRANTS} WHERE granted_on = ? AND name = ?", [on, name])
    if on in ("DATABASE", "SCHEMA"):
        inside = [*SCHEMA_OBJECTS, "SCHEMA"] if on == "DATABASE" else list(SCHEMA_OBJECTS)
        marks = ", ".join("?" * len(inside))
        meta.execute(f"DELETE FROM {GRANTS} WHERE granted_on IN ({marks}) AND starts_with(name, ?)",
                     [*inside, f"{name}."])  # fmt: skip
        meta.execute(f"DELETE FROM {FUTURE_GRANTS} WHERE scope_name = ? OR starts_with(scope_name, ?)",
                     [name, f"{name}."])  # fmt: skip


def rename(meta: Meta, on: str, old: str, new: str) -> None:
    meta.execute(f"UPDATE {GRANTS} SET name = ? WHERE granted_on = ? AND name = ?", [new, on, old])


def copy_grants(meta: Meta, on: str, source: list[tuple], name: str) -> None:
    """Give the object name the non-ownership grants in source (rows of object_grants), as COPY GRANTS does."""
    for privilege, grantee, grant_option, granted_by, _ in source:
        if privilege != "OWNERSHIP":
            grant(meta, privilege, on, name, grantee, grant_option=grant_option, by=granted_by)


def transfer_ownership(meta: Meta, on: str, name: str, role: str, *, current_grants: str | None) -> None:
    """GRANT OWNERSHIP: the new owner; current_grants 'COPY' keeps the other grants (now granted by the new
    owner), 'REVOKE' drops them, None leaves them as they are."""
    set_owner(meta, on, name, role)
    if current_grants == "REVOKE":
        meta.execute(f"DELETE FROM {GRANTS} WHERE granted_on = ? AND name = ? AND privilege <> 'OWNERSHIP'",
                     [on, name])  # fmt: skip
    elif current_grants == "COPY":
        meta.execute(f"UPDATE {GRANTS} SET granted_by = ? WHERE granted_on = ? AND name = ? AND privilege <> 'OWNERSHIP'",
                     [role, on, name])  # fmt: skip


def future_grant(meta: Meta, privilege: str, grant_on: str, scope_kind: str, scope: str, grantee: str, *,
                 grant_option: bool) -> None:  # fmt: skip
    meta.execute(
        f"DELETE FROM {FUTURE_GRANTS} WHERE privilege = ? AND grant_on = ? AND scope_kind = ? AND scope_name = ? "
        "AND grantee_name = ?",
        [privilege, grant_on, scope_kind, scope, grantee],
    )
    meta.execute(f"INSERT INTO {FUTURE_GRANTS} VALUES (?, ?, ?, ?, ?, ?, now())",
                 [privilege, grant_on, scope_kind, scope, grantee, grant_option])  # fmt: skip


def revoke_future(meta: Meta, privilege: str, grant_on: str, scope_kind: str, scope: str, grantee: str) -> None:
    meta.execute(
        f"DELETE FROM {FUTURE_GRANTS} WHERE privilege = ? AND grant_on = ? AND scope_kind = ? AND scope_name = ? "
        "AND grantee_name = ?",
        [privilege, grant_on, scope_kind, scope, grantee],
    )


def apply_future_grants(meta: Meta, on: str, name: str, owner_role: str) -> None:
    """Give a new object the future grants of its schema for its type, else those of its database.

    "When future grants are defined at both the database and schema level, the schema level grants take precedence
    over the database level grants, and the database level grants are ignored."
    https://docs.snowflake.com/en/user-guide/security-access-control-considerations
    """
    parts = name.split(".")
    scopes = [("SCHEMA", ".".join(parts[:2])), ("DATABASE", parts[0])] if on != "SCHEMA" else [("DATABASE", parts[0])]
    for scope_kind, scope in scopes:
        rows = meta.execute(
            f"SELECT privilege, grantee_name, grant_option FROM {FUTURE_GRANTS} WHERE grant_on = ? AND scope_kind = ? "
            "AND scope_name = ?",
            [on, scope_kind, scope],
        ).fetchall()
        if rows:
            for privilege, grantee, grant_option in rows:
                if privilege == "OWNERSHIP":
                    set_owner(meta, on, name, grantee)
                else:
                    grant(meta, privilege, on, name, grantee, grant_option=grant_option, by=owner_role)
            return


def future_grants(meta: Meta, scope_kind: str, scope: str) -> list[tuple]:
    return meta.execute(
        f"SELECT created_on, privilege, grant_on, scope_name, grantee_name, grant_option FROM {FUTURE_GRANTS} "
        "WHERE scope_kind = ? AND scope_name = ? ORDER BY grant_on, privilege, grantee_name",
        [scope_kind, scope],
    ).fetchall()


def grants_to_role(meta: Meta, role: str) -> list[tuple]:
    """(created_on, privilege, granted_on, name, grant_option, granted_by): the privileges and roles a role holds."""
    rows = meta.execute(
        f"SELECT created_on, privilege, granted_on, name, grant_option, granted_by FROM {GRANTS} "
        "WHERE grantee_name = ? ORDER BY granted_on, name, privilege",
        [role],
    ).fetchall()
    roles = meta.execute(
        f"SELECT created_on, 'USAGE', 'ROLE', role, FALSE, granted_by FROM {ROLE_GRANTS} "
        "WHERE granted_to = 'ROLE' AND grantee_name = ? ORDER BY role",
        [role],
    ).fetchall()
    return [*rows, *roles]


def role_grants_of(meta: Meta, granted_to: str, grantee: str) -> list[tuple]:
    return meta.execute(
        f"SELECT created_on, role, granted_by FROM {ROLE_GRANTS} WHERE granted_to = ? AND grantee_name = ? ORDER BY role",
        [granted_to, grantee],
    ).fetchall()


def grant_role(meta: Meta, role: str, granted_to: str, grantee: str, by: str) -> None:
    if not meta.execute(
        f"SELECT 1 FROM {ROLE_GRANTS} WHERE role = ? AND granted_to = ? AND grantee_name = ?", [role, granted_to,
                                                                                                  grantee]
    ).fetchall():  # fmt: skip
        meta.execute(f"INSERT INTO {ROLE_GRANTS} VALUES (?, ?, ?, ?, now())", [role, granted_to, grantee, by])


def revoke_role(meta: Meta, role: str, granted_to: str, grantee: str) -> None:
    meta.execute(f"DELETE FROM {ROLE_GRANTS} WHERE role = ? AND granted_to = ? AND grantee_name = ?",
                 [role, granted_to, grantee])  # fmt: skip


def create_role(meta: Meta, name: str, owner_role: str, comment: str) -> None:
    meta.execute(f"INSERT INTO {ROLES} VALUES (?, ?, ?, now())", [name, owner_role, comment])
    set_owner(meta, "ROLE", name, owner_role)


def drop_role(meta: Meta, name: str, dropped_by: str) -> None:
    """Drop a role: its grants go, and what it owned is owned by the role that dropped it.

    "Ownership of any objects owned by the dropped role is transferred to the role that executes the DROP ROLE
    command." https://docs.snowflake.com/en/sql-reference/sql/drop-role
    """
    meta.execute(f"DELETE FROM {ROLES} WHERE name = ?", [name])
    meta.execute(f"DELETE FROM {ROLE_GRANTS} WHERE role = ? OR (granted_to = 'ROLE' AND grantee_name = ?)",
                 [name, name])  # fmt: skip
    meta.execute(
        f"UPDATE {GRANTS} SET grantee_name = ?, granted_by = ? WHERE privilege = 'OWNERSHIP' AND grantee_name = ?",
        [dropped_by, dropped_by, name],
    )
    meta.execute(f"DELETE FROM {GRANTS} WHERE grantee_name = ? OR (granted_on = 'ROLE' AND name = ?)", [name, name])
    meta.execute(f"DELETE FROM {FUTURE_GRANTS} WHERE grantee_name = ?", [name])


def roles(meta: Meta) -> list[tuple]:
    """(created_on, name, comment, owner) of every role."""
    return meta.execute(f"SELECT created_on, name, comment, owner FROM {ROLES} ORDER BY name").fetchall()


def forget_user(meta: Meta, name: str) -> None:
    meta.execute(f"DELETE FROM {ROLE_GRANTS} WHERE granted_to = 'USER' AND grantee_name = ?", [name])
    meta.execute(f"DELETE FROM {GRANTS} WHERE granted_on = 'USER' AND name = ?", [name])
