"""What each statement needs (Plan): privilege checks, a warehouse, and the ownership to record once it has run;
plan_for() reads the statement (sqlglot, or the regexes of _COMMANDS for what sqlglot does not parse)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import _grants
from snowseg_twin.extensions._account_catalog import ident
from snowseg_twin.extensions.access_control.privileges import (
    ANY,
    Access,
    exists,
    not_authorized,
    relation_kind,
    role_not_assigned,
    stage_url,
)


# --- statements -> needs --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a statement needs, whether it needs a warehouse, and what to record once it has succeeded."""

    checks: list[Callable[[Access], None]] = field(default_factory=list)
    warehouse: bool = False
    effects: list[Callable[[Access], None]] = field(default_factory=list)


class Names:
    """Resolves sqlglot tables and dotted names against the session's database and schema."""

    def __init__(self, conn: Any):  # noqa: ANN401
        self.database = conn.database
        self.schema = conn.schema

    @staticmethod
    def _part(p: exp.Expr | str | None) -> str | None:
        if p is None or p == "":
            return None
        if isinstance(p, exp.Identifier):
            return p.name if p.quoted else p.name.upper()
        if isinstance(p, exp.Expr):
            return p.name.upper() if p.name else None
        return ident(p)

    def table(self, t: exp.Table) -> str | None:
        name = self._part(t.this)
        db = self._part(t.args.get("catalog")) or self.database
        schema = self._part(t.args.get("db")) or self.schema
        if not (name and db and schema):
            return None
        return f"{db}.{schema}.{name}"

    def schema_of(self, t: exp.Table) -> str | None:
        """The schema named by a Table node used as a schema reference (db.schema or schema)."""
        if t.args.get("this") is not None:
            schema, db = self._part(t.this), self._part(t.args.get("db")) or self.database
        else:  # CREATE / DROP SCHEMA put the schema in db and the database in catalog
            schema, db = self._part(t.args.get("db")), self._part(t.args.get("catalog")) or self.database
        return f"{db}.{schema}" if db and schema else None

    def dotted(self, text: str, parts_wanted: int = 3) -> str | None:
        parts = [ident(p) for p in re.findall(r'"(?:[^"]|"")+"|[^."]+', text.strip())]
        defaults = [self.database, self.schema][: parts_wanted - 1]
        full = [*defaults[: parts_wanted - len(parts)], *parts] if len(parts) < parts_wanted else parts
        if len(full) != parts_wanted or any(p is None for p in full):
            return None
        return ".".join(full)  # type: ignore[arg-type]


def _cte_names(e: exp.Expr) -> set[str]:
    return {c.alias_or_name.upper() for c in e.find_all(exp.CTE)}


def _stage_ref(text: str) -> str:
    """'@db.s.st/path' (or quoted) -> 'db.s.st' (the stage part, without @ and path)."""
    text = text.strip()
    if text.startswith("'"):
        text = text[1:-1].replace("''", "'")
    return text[1:].split("/", 1)[0] if text.startswith("@") else text


def _reads(plan: Plan, names: Names, e: exp.Expr, skip: set[str] | None = None) -> None:
    """SELECT on every table and view e reads (USAGE on the database for INFORMATION_SCHEMA), READ on stages."""
    ctes = _cte_names(e)
    skip = skip or set()
    for t in e.find_all(exp.Table):
        if isinstance(t.this, exp.Var) and t.this.name.startswith("@"):
            _stage_need(plan, names, t.this.name, "READ", "USAGE")
            continue
        if not isinstance(t.this, exp.Identifier):
            continue
        if not t.args.get("db") and t.name.upper() in ctes:
            continue
        fq = names.table(t)
        if fq is None or fq in skip:
            continue
        db, schema, _ = fq.split(".", 2)
        if schema.upper() == "INFORMATION_SCHEMA":
            plan.checks.append(lambda a, db=db: a.require_container("DATABASE", db, {"USAGE"}))
            continue
        plan.checks.append(lambda a, fq=fq: _require_relation(a, fq, {"SELECT"}))
    for node in e.find_all(exp.TableFromRows):
        fn = node.this
        parts = []
        while isinstance(fn, exp.Dot):
            parts.append(fn.this)
            fn = fn.expression
        flat = re.findall(r'"(?:[^"]|"")+"|[^."]+', ".".join(p.sql(dialect="snowflake") for p in parts))
        if len(flat) >= 2 and flat[-1].upper() == "INFORMATION_SCHEMA":
            db = ident(flat[-2])
            plan.checks.append(lambda a, db=db: a.require_container("DATABASE", db, {"USAGE"}))
        elif len(flat) == 1 and flat[0].upper() == "INFORMATION_SCHEMA" and names.database:
            db = names.database
            plan.checks.append(lambda a, db=db: a.require_container("DATABASE", db, {"USAGE"}))


def _require_relation(a: Access, fq: str, privileges: set[str] | frozenset[str]) -> None:
    kind = relation_kind(a.cursor, fq)
    if kind in ("TABLE", "VIEW"):
        a.require_object(kind, fq, privileges)


def _stage_need(plan: Plan, names: Names, ref: str, internal: str, external: str) -> None:
    """internal (READ/WRITE) on a named internal stage, external (USAGE) on an external one, OWNERSHIP of the table
    for a table stage."""
    stage = _stage_ref(ref)
    if stage.startswith("~"):
        return  # the user's own stage
    fq = names.dotted(stage)
    if fq is None:
        return
    db, schema, name = fq.split(".", 2)
    if name.startswith("%"):
        # "To stage files to a table stage, list the files, query them on the stage, or drop them, you must be the
        # table owner (have the role with the OWNERSHIP privilege on the table)."
        # https://docs.snowflake.com/en/user-guide/data-load-local-file-system-create-stage
        table = f"{db}.{schema}.{name[1:]}"
        plan.checks.append(lambda a: _require_relation(a, table, {"OWNERSHIP"}))
        return

    def check(a: Access) -> None:
        url = stage_url(a.cursor, fq)
        if url is not None:
            a.require_object("STAGE", fq, {internal} if url == "" else {external})

    plan.checks.append(check)


def _file_format_need(plan: Plan, names: Names, value: exp.Expr) -> None:
    text = value.name if isinstance(value, exp.Literal) else value.sql(dialect="snowflake")
    fq = names.dotted(text)
    if fq is not None:
        plan.checks.append(lambda a: a.require_object("FILE_FORMAT", fq, {"USAGE"}))


def _copy(plan: Plan, names: Names, e: exp.Copy) -> None:
    target = e.this.this if isinstance(e.this, exp.Schema) else e.this
    fq = names.table(target) if isinstance(target, exp.Table) else None
    if fq is not None:
        plan.checks.append(lambda a: _require_relation(a, fq, {"INSERT"}))
    for source in e.args.get("files") or []:
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Var):
            _stage_need(plan, names, source.this.name, "READ", "USAGE")
        elif isinstance(source, exp.Subquery):
            _reads(plan, names, source)
    for param in e.args.get("params") or []:
        if param.this.name.upper() == "FILE_FORMAT":
            for prop in param.expressions or []:
                if isinstance(prop, exp.Property) and prop.name.upper() == "FORMAT_NAME":
                    _file_format_need(plan, names, prop.args["value"])
    plan.warehouse = True


def _refresh_needs(plan: Plan, names: Names, fq: str) -> None:
    """ALTER PIPE ... REFRESH: what the pipe's COPY needs, besides OPERATE on the pipe.

    "Refresh a pipe: OPERATE or OWNERSHIP on the pipe, USAGE on an external stage or READ on an internal stage,
    USAGE on a named file format, and INSERT on the target table."
    (https://docs.snowflake.com/en/user-guide/data-load-snowpipe-manage, the table of privileges.) The queued files
    load on Snowpipe's compute: no warehouse.
    """
    from snowseg_twin.extensions import pipes

    pipe = pipes.find(*fq.split(".", 2))
    if pipe is None:
        return  # the statement fails on the missing pipe
    try:
        copy = sqlglot.parse_one(pipe.definition, read="snowflake")
    except sqlglot.errors.ParseError:
        return
    if isinstance(copy, exp.Copy):
        _copy(plan, names, copy)
    plan.warehouse = False


_CREATE_PRIVILEGE = {"TABLE": "CREATE TABLE", "VIEW": "CREATE VIEW", "STAGE": "CREATE STAGE",
                     "FILE FORMAT": "CREATE FILE FORMAT", "SCHEMA": "CREATE SCHEMA"}  # fmt: skip
_GRANTED_ON = {"TABLE": "TABLE", "VIEW": "VIEW", "STAGE": "STAGE", "FILE FORMAT": "FILE_FORMAT", "SCHEMA": "SCHEMA",
               "DATABASE": "DATABASE"}  # fmt: skip


def _owned(plan: Plan, on: str, name: str, *, created: Callable[[Access], bool], keep_grants: bool = False) -> None:
    """Once the statement succeeded: the new object is owned by the current role and gets its future grants."""

    def effect(a: Access) -> None:
        if not created(a):
            return
        with a.meta() as meta:
            previous = _grants.object_grants(meta, on, name) if keep_grants else []
            _grants.forget(meta, on, name)
            _grants.set_owner(meta, on, name, a.role)
            if keep_grants:
                _grants.copy_grants(meta, on, previous, name)
            elif on in (*_grants.SCHEMA_OBJECTS, "SCHEMA"):
                _grants.apply_future_grants(meta, on, name, a.role)

    plan.effects.append(effect)


def _create(plan: Plan, names: Names, e: exp.Create, a: Access) -> None:
    kind = str(e.args.get("kind") or "").upper()
    target = e.this.this if isinstance(e.this, exp.Schema) else e.this
    props = [p for p in (e.args.get("properties").expressions if e.args.get("properties") else [])]
    temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
    if kind == "DATABASE":
        name = names._part(target.this) if isinstance(target, exp.Table) else None  # noqa: SLF001
        if name is None:
            return
        plan.checks.append(lambda a: a.require_account("CREATE DATABASE"))
        on, fq = "DATABASE", name
    elif kind == "SCHEMA":
        fq = names.schema_of(target) if isinstance(target, exp.Table) else None
        if fq is None:
            return
        db = fq.split(".")[0]
        plan.checks.append(lambda a: a.require_container("DATABASE", db, {"CREATE SCHEMA"}))
        on = "SCHEMA"
    elif kind in ("TABLE", "VIEW", "STAGE", "FILE FORMAT"):
        fq = names.table(target) if isinstance(target, exp.Table) else None
        if fq is None:
            return
        schema = fq.rsplit(".", 1)[0]
        if kind == "TABLE" and temporary:
            plan.checks.append(lambda a: a.require_container("SCHEMA", schema, {"USAGE"}))
        else:
            privilege = _CREATE_PRIVILEGE[kind]
            plan.checks.append(lambda a: a.require_container("SCHEMA", schema, {privilege}))
        on = _GRANTED_ON[kind]
        if e.args.get("expression") is not None:
            _reads(plan, names, e.args["expression"])
            plan.warehouse = plan.warehouse or kind == "TABLE"
        if (clone := e.args.get("clone")) is not None and isinstance(clone.this, exp.Table):
            source = names.table(clone.this)
            if source:
                plan.checks.append(lambda a: _require_relation(a, source, {"SELECT"}))
        for p in props:
            if p.name.upper() == "STORAGE_INTEGRATION" and isinstance(p, exp.Property):
                integration = ident(p.args["value"].name)
                plan.checks.append(
                    lambda a: a.require_account_object("INTEGRATION", integration, {"USAGE"}, missing_ok=False)
                )
            if isinstance(p, exp.FileFormatProperty):
                for opt in p.expressions:
                    if isinstance(opt, exp.Property) and opt.name.upper() == "FORMAT_NAME":
                        _file_format_need(plan, names, opt.args["value"])
        if kind == "TABLE" and temporary:
            return  # a temporary table belongs to its session
    else:
        return
    existed = exists(a.cursor, on, fq) if on not in ("TABLE", "VIEW") else relation_kind(a.cursor, fq) in ("TABLE",
                                                                                                             "VIEW")
    if existed and e.args.get("replace"):
        if on in ("TABLE", "VIEW"):
            plan.checks.append(lambda a: _require_relation(a, fq, {"OWNERSHIP"}))
        elif on in ("DATABASE",):
            plan.checks.append(lambda a: a.require_account_object("DATABASE", fq, {"OWNERSHIP"}))
        elif on == "SCHEMA":
            plan.checks.append(lambda a: a.require_container("SCHEMA", fq, {"OWNERSHIP"}))
        else:
            plan.checks.append(lambda a: a.require_object(on, fq, {"OWNERSHIP"}))
    copy_grants = any(isinstance(p, exp.CopyGrantsProperty) for p in props)
    replaced = bool(e.args.get("replace"))
    _owned(plan, on, fq, created=lambda a: replaced or not existed, keep_grants=copy_grants and existed and replaced)


def _drop(plan: Plan, names: Names, e: exp.Drop) -> None:
    kind = str(e.args.get("kind") or "").upper()
    target = e.this if e.this is not None else next(iter(e.args.get("tables") or []), None)
    if kind not in _GRANTED_ON or not isinstance(target, exp.Table):
        return
    on = _GRANTED_ON[kind]
    if on == "DATABASE":
        fq = names._part(target.this)  # noqa: SLF001
    elif on == "SCHEMA":
        fq = names.schema_of(target)
    else:
        fq = names.table(target)
    if not fq:
        return
    if on == "DATABASE":
        plan.checks.append(lambda a: a.require_account_object("DATABASE", fq, {"OWNERSHIP"}))
    elif on == "SCHEMA":
        plan.checks.append(lambda a: a.require_container("SCHEMA", fq, {"OWNERSHIP"}))
    elif on in ("TABLE", "VIEW"):
        plan.checks.append(lambda a: _require_relation(a, fq, {"OWNERSHIP"}))
    else:
        plan.checks.append(lambda a: a.require_object(on, fq, {"OWNERSHIP"}))

    def effect(a: Access) -> None:
        with a.meta() as meta:
            _grants.forget(meta, on, fq)

    plan.effects.append(effect)


def _alter(plan: Plan, names: Names, e: exp.Alter) -> None:
    kind = str(e.args.get("kind") or "").upper()
    if kind not in ("TABLE", "VIEW") or not isinstance(e.this, exp.Table):
        return
    fq = names.table(e.this)
    if not fq:
        return
    plan.checks.append(lambda a: _require_relation(a, fq, {"OWNERSHIP"}))
    for action in e.args.get("actions") or []:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new = names.table(action.this)
            if new:
                schema = new.rsplit(".", 1)[0]
                plan.checks.append(lambda a: a.require_container("SCHEMA", schema, {"CREATE TABLE"}))

                def renamed(a: Access, new: str = new) -> None:
                    kind = relation_kind(a.cursor, new)
                    with a.meta() as meta:
                        _grants.rename(meta, kind or "TABLE", fq, new)

                plan.effects.append(renamed)
        elif isinstance(action, exp.SwapTable) and isinstance(action.this, exp.Table):
            other = names.table(action.this)
            if other:
                plan.checks.append(lambda a: _require_relation(a, other, {"OWNERSHIP"}))


def _dml(plan: Plan, names: Names, e: exp.Expr) -> None:
    target = e.this
    if isinstance(target, exp.Schema):
        target = target.this
    fq = names.table(target) if isinstance(target, exp.Table) else None
    if isinstance(e, exp.Insert):
        needed = {"INSERT"}
    elif isinstance(e, exp.Update):
        needed = {"UPDATE"}
    elif isinstance(e, exp.Delete):
        needed = {"DELETE"}
    else:  # MERGE: what its WHEN clauses do
        needed = set()
        for when in e.find_all(exp.When):
            then = when.args.get("then")
            if isinstance(then, exp.Insert):
                needed.add("INSERT")
            elif isinstance(then, exp.Update):
                needed.add("UPDATE")
            elif then is not None and "DELETE" in then.sql(dialect="snowflake").upper():
                needed.add("DELETE")
    if fq is not None:
        for privilege in sorted(needed) or ["UPDATE"]:
            plan.checks.append(lambda a, p=privilege: _require_relation(a, fq, {p}))
    rest = e.copy()
    rest.set("this", None)
    _reads(plan, names, rest, skip={fq} if fq else None)
    plan.warehouse = True


_PIPE_NAME = r'(?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+)){0,2}'
_ACCOUNT_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_COMMANDS = [
    ("CREATE_PIPE", re.compile(rf"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?PIPE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?"
                               rf"(?P<name>{_PIPE_NAME}).*?\s+AS\s+(?P<copy>COPY\s+INTO\b.*?)\s*;?\s*$",
                               re.IGNORECASE | re.DOTALL)),
    ("DESC_PIPE", re.compile(rf"^\s*DESC(?:RIBE)?\s+PIPE\s+(?P<name>{_PIPE_NAME})\s*;?\s*$", re.IGNORECASE)),
    ("DROP_PIPE", re.compile(rf"^\s*DROP\s+PIPE\s+(?:IF\s+EXISTS\s+)?(?P<name>{_PIPE_NAME})\s*;?\s*$", re.IGNORECASE)),
    ("ALTER_PIPE", re.compile(rf"^\s*ALTER\s+PIPE\s+(?:IF\s+EXISTS\s+)?(?P<name>{_PIPE_NAME})\s+(?P<action>.*?)\s*;?\s*$",
                              re.IGNORECASE | re.DOTALL)),
    ("PIPE_STATUS", re.compile(r"^\s*SELECT\s+SYSTEM\$PIPE_STATUS\s*\(\s*'(?P<name>(?:[^']|'')*)'\s*\)", re.IGNORECASE)),
    ("CREATE_WAREHOUSE", re.compile(rf"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?WAREHOUSE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                                    rf"(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("DROP_WAREHOUSE", re.compile(rf"^\s*DROP\s+WAREHOUSE\s+(?:IF\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("ALTER_WAREHOUSE", re.compile(rf"^\s*ALTER\s+WAREHOUSE\s+(?:IF\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})",
                                   re.IGNORECASE)),
    ("CREATE_INTEGRATION", re.compile(rf"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?(?:STORAGE\s+)?INTEGRATION\s+"
                                      rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("DROP_INTEGRATION", re.compile(rf"^\s*DROP\s+(?:STORAGE\s+)?INTEGRATION\s+(?:IF\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})",
                                    re.IGNORECASE)),
    ("DESC_INTEGRATION", re.compile(rf"^\s*DESC(?:RIBE)?\s+(?:STORAGE\s+)?INTEGRATION\s+(?P<name>{_ACCOUNT_NAME})",
                                    re.IGNORECASE)),
    ("CREATE_USER", re.compile(rf"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?USER\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                               rf"(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("ALTER_USER", re.compile(rf"^\s*ALTER\s+USER\s+(?:IF\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("DESC_USER", re.compile(rf"^\s*DESC(?:RIBE)?\s+USER\s+(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("DROP_USER", re.compile(rf"^\s*DROP\s+USER\s+(?:IF\s+EXISTS\s+)?(?P<name>{_ACCOUNT_NAME})", re.IGNORECASE)),
    ("REMOVE", re.compile(r"^\s*(?:REMOVE|RM)\s+(?P<target>'(?:[^']|'')*'|[^\s;]+)", re.IGNORECASE)),
    ("GET", re.compile(r"^\s*GET\s+(?P<target>'(?:[^']|'')*'|[^\s;]+)", re.IGNORECASE)),
    ("ROLES", re.compile(r"^\s*(?:(?:CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?ROLE|GRANT|REVOKE|SHOW\s+(?:FUTURE\s+)?GRANTS|"
                         r"SHOW\s+ROLES)\b", re.IGNORECASE)),
]  # fmt: skip


def _command(plan: Plan, names: Names, kind: str, m: re.Match, a: Access) -> None:  # noqa: C901, PLR0912
    name = m.groupdict().get("name")
    if kind == "ROLES":
        return  # roles checks its own statements
    if kind in ("REMOVE", "GET"):
        _stage_need(plan, names, m["target"], "WRITE" if kind == "REMOVE" else "READ", "USAGE")
        return
    if kind == "PIPE_STATUS":
        fq = names.dotted(m["name"].replace("''", "'"))
        if fq:
            # "Returns results only for the pipe owner (i.e. the role with the OWNERSHIP privilege on the pipe) or a
            # role with the MONITOR privilege on the pipe."
            # https://docs.snowflake.com/en/sql-reference/functions/system_pipe_status
            plan.checks.append(lambda a: a.require_object("PIPE", fq, {"MONITOR"}))
        return
    if kind.endswith("_PIPE"):
        fq = names.dotted(name)
        if fq is None:
            return
        if kind == "CREATE_PIPE":
            schema = fq.rsplit(".", 1)[0]
            plan.checks.append(lambda a: a.require_container("SCHEMA", schema, {"CREATE PIPE"}))
            try:
                copy = sqlglot.parse_one(m["copy"], read="snowflake")
            except sqlglot.errors.ParseError:
                copy = None
            if isinstance(copy, exp.Copy):
                _copy(plan, names, copy)
                plan.warehouse = False  # the pipe's loads run on Snowpipe's compute
            existed = exists(a.cursor, "PIPE", fq)
            if existed and m["replace"]:
                plan.checks.append(lambda a: a.require_object("PIPE", fq, {"OWNERSHIP"}))
            replaced = bool(m["replace"])
            _owned(plan, "PIPE", fq, created=lambda a: replaced or not existed)
        elif kind == "DESC_PIPE":
            plan.checks.append(lambda a: a.require_object("PIPE", fq, {"MONITOR", "OPERATE"}))
        elif kind == "DROP_PIPE":
            plan.checks.append(lambda a: a.require_object("PIPE", fq, {"OWNERSHIP"}))
            plan.effects.append(lambda a: _forget(a, "PIPE", fq))
        else:
            action = m["action"].upper()
            operate = action.startswith("REFRESH") or re.fullmatch(r"SET\s+PIPE_EXECUTION_PAUSED\s*=\s*\w+", action)
            needed = {"OPERATE"} if operate else {"OWNERSHIP"}
            plan.checks.append(lambda a: a.require_object("PIPE", fq, needed))
            if action.startswith("REFRESH"):
                _refresh_needs(plan, names, fq)
        return
    on = {"WAREHOUSE": "WAREHOUSE", "INTEGRATION": "INTEGRATION", "USER": "USER"}[kind.split("_", 1)[1]]
    obj = ident(name)
    verb = kind.split("_", 1)[0]
    if verb == "CREATE":
        privilege = {"WAREHOUSE": "CREATE WAREHOUSE", "INTEGRATION": "CREATE INTEGRATION", "USER": "CREATE USER"}[on]
        plan.checks.append(lambda a: a.require_account(privilege))
        existed = exists(a.cursor, on, obj)
        if existed and m["replace"]:
            plan.checks.append(lambda a: a.require_account_object(on, obj, {"OWNERSHIP"}))
        replaced = bool(m["replace"])
        _owned(plan, on, obj, created=lambda a: replaced or not existed)
    elif verb == "DROP":
        plan.checks.append(lambda a: a.require_account_object(on, obj, {"OWNERSHIP"}))
        plan.effects.append(lambda a: _forget(a, on, obj))
    elif on == "USER" and obj == a.session.user:
        return  # a user may describe and alter itself (eg: rotate its own key)
    elif verb == "ALTER":
        needed = {"MODIFY", "OPERATE"} if on == "WAREHOUSE" else {"OWNERSHIP"}
        plan.checks.append(lambda a: a.require_account_object(on, obj, needed))
    elif verb == "DESC":
        needed = {"USAGE"} if on == "INTEGRATION" else {"MONITOR"}
        plan.checks.append(lambda a: a.require_account_object(on, obj, needed))


def _forget(a: Access, on: str, name: str) -> None:
    with a.meta() as meta:
        if on == "USER":
            _grants.forget_user(meta, name)
        _grants.forget(meta, on, name)


def _use(plan: Plan, names: Names, e: exp.Use) -> None:
    kind = (e.args.get("kind").name if e.args.get("kind") else "").upper()
    target = e.this
    if kind == "DATABASE" and isinstance(target, exp.Table):
        db = names._part(target.this)  # noqa: SLF001
        plan.checks.append(lambda a: a.require_container("DATABASE", db, {"USAGE"}, always_insufficient=True))
    elif kind in ("SCHEMA", "") and isinstance(target, exp.Table):
        fq = names.schema_of(target)
        if fq:
            plan.checks.append(lambda a: a.require_container("SCHEMA", fq, {"USAGE"}, always_insufficient=True))
    elif kind == "WAREHOUSE" and isinstance(target, exp.Table):
        wh = names._part(target.this)  # noqa: SLF001

        def check(a: Access) -> None:
            if exists(a.cursor, "WAREHOUSE", wh) and not a.has("WAREHOUSE", wh, {"USAGE"}):
                from snowseg_twin.extensions import warehouses

                raise warehouses.does_not_exist()

        plan.checks.append(check)
    elif kind == "ROLE" and isinstance(target, exp.Table):
        role = names._part(target.this)  # noqa: SLF001

        def use_role(a: Access) -> None:
            with a.meta() as meta:
                if not _grants.role_exists(meta, role):
                    raise not_authorized("ROLE", role)
                if a.session.user is None or role not in _grants.user_roles(meta, a.session.user):
                    raise role_not_assigned(role)

        plan.checks.append(use_role)


def _show(plan: Plan, names: Names, e: exp.Show) -> None:
    scope, kind = e.args.get("scope"), str(e.args.get("scope_kind") or "").upper()
    if not isinstance(scope, exp.Table):
        return
    if kind == "DATABASE":
        db = names._part(scope.this)  # noqa: SLF001
        plan.checks.append(lambda a: a.require_container("DATABASE", db, {"USAGE"}))
    elif kind == "SCHEMA":
        fq = names.schema_of(scope)
        if fq:
            plan.checks.append(lambda a: a.require_container("SCHEMA", fq, {"USAGE"}))


def _describe(plan: Plan, names: Names, e: exp.Describe) -> None:
    kind = str(e.args.get("kind") or "").upper()
    target = e.this
    if isinstance(target, exp.Query):
        _reads(plan, names, target)  # a describe-only request: the query's privileges, no warehouse
        return
    if not isinstance(target, exp.Table):
        return
    fq = names.table(target)
    if not fq:
        return
    if kind in ("TABLE", "VIEW", ""):
        plan.checks.append(lambda a: _require_relation(a, fq, ANY))
    elif kind == "STAGE":
        plan.checks.append(lambda a: a.require_object("STAGE", fq, ANY))
    elif kind == "FILE FORMAT":
        plan.checks.append(lambda a: a.require_object("FILE_FORMAT", fq, ANY))


_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*", re.DOTALL)


def plan_for(cursor: Any, command: str, a: Access) -> Plan | None:  # noqa: ANN401
    """What command needs and records, or None for a statement the twin does not check."""
    names = Names(compat.connection(cursor))
    plan = Plan()
    command = _LEADING_COMMENTS.sub("", command)  # a comment does not hide a statement from its check
    for kind, regex in _COMMANDS:
        if m := regex.match(command):
            _command(plan, names, kind, m, a)
            return plan
    try:
        e = sqlglot.parse_one(command, read="snowflake")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None
    if isinstance(e, exp.Copy):
        _copy(plan, names, e)
    elif isinstance(e, exp.Create):
        _create(plan, names, e, a)
    elif isinstance(e, exp.Drop):
        _drop(plan, names, e)
    elif isinstance(e, exp.Alter):
        _alter(plan, names, e)
    elif isinstance(e, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
        _dml(plan, names, e)
    elif isinstance(e, exp.TruncateTable):
        for t in e.expressions:
            if isinstance(t, exp.Table) and (fq := names.table(t)):
                plan.checks.append(lambda a, fq=fq: _require_relation(a, fq, {"TRUNCATE"}))
        plan.warehouse = True
    elif isinstance(e, exp.Query):
        _reads(plan, names, e)
        plan.warehouse = any(True for _ in e.find_all(exp.From))
    elif isinstance(e, exp.Put):
        target = e.args.get("target")
        if isinstance(target, exp.Var) and target.name != "?":
            _stage_need(plan, names, target.name, "WRITE", "WRITE")
    elif isinstance(e, exp.ListStage):
        _stage_need(plan, names, e.this.name, "READ", "USAGE")
    elif isinstance(e, exp.Use):
        _use(plan, names, e)
    elif isinstance(e, exp.Show):
        _show(plan, names, e)
    elif isinstance(e, exp.Describe):
        _describe(plan, names, e)
    else:
        return None
    return plan
