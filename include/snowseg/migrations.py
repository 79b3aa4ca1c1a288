"""The versioned setup: the only place Snowseg creates or alters warehouse objects.

Numbered SQL files under ``include/sql/migrations/`` make every object, with the service role's grants
next to it. Each is applied once, in order, under an admin role, and recorded in
``<database>.AUDIT.SCHEMA_VERSION`` (version, dataset, checksum, who, when). Three scopes:

- ``database/V###__*.sql``: once per database (schemas, audit tables, analytics tables, stages);
- ``dataset/V###__*.sql``: once per dataset contract (its raw, rejected and quarantine tables, file
  formats, published view, intake and shadow tables);
- ``snowpipe/V###__*.sql``: once per dataset that loads through S3 + Snowpipe (landing stage, pipe);
  applied when a landing URL is given.

A file may hold several statements, separated by ``;`` at the end of a line. The DAGs run as the
least-privileged service role and never run DDL: they call :func:`require` first, which fails at
once with :class:`snowseg.errors.WarehouseNotSetUp` naming what is missing and the command to run.

Run it with ``make setup-warehouse CONN=<admin connection>`` or the ``setup_warehouse`` DAG.

Examples
--------
>>> [m.key for m in discover()][:3]
['database/V001', 'database/V002', 'database/V003']
>>> split_statements("create a;\\ngrant b;\\n")
['create a', 'grant b']
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg import sf_errors
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.errors import WarehouseNotSetUp
from snowseg.objects import SCHEMA_VERSION, dataset_objects, raw_table
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

MIGRATIONS_DIR = wh.SQL_DIR / "migrations"
SCOPES = ("database", "dataset", "snowpipe")
DEFAULT_SERVICE_ROLE = "SNOWSEG_ROLE"
DEFAULT_ADMIN_CONN_ID = "snowflake_admin"
SETUP_COMMAND = "make setup-warehouse CONN=<admin connection> (or trigger the setup_warehouse DAG)"
_FILE = re.compile(r"^V(?P<number>\d{3})__(?P<name>[a-z0-9_]+)\.sql$")
_STATEMENT_END = re.compile(r";[ \t]*$", re.M)


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    scope: str
    number: int
    name: str
    path: Path

    @property
    def key(self) -> str:
        """``scope/V###``: what SCHEMA_VERSION records as VERSION."""
        return f"{self.scope}/V{self.number:03d}"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def sql_name(self) -> str:
        return self.path.relative_to(wh.SQL_DIR).as_posix()


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did with one migration for one dataset ('' for database scope)."""

    migration: Migration
    dataset: str
    statements: int
    status: str  # APPLIED | ALREADY | PLANNED


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, by scope then number; a malformed or duplicated number is an error."""
    found = []
    for scope in SCOPES:
        seen: dict[int, Path] = {}
        for path in sorted((directory / scope).glob("*.sql")):
            m = _FILE.match(path.name)
            if not m:
                raise ValueError(f"{path}: migration files are named V###__lower_snake_name.sql")
            number = int(m["number"])
            if number in seen:
                raise ValueError(f"{path}: V{number:03d} is also {seen[number].name}")
            seen[number] = path
            found.append(Migration(scope, number, m["name"], path))
    return found


def split_statements(sql: str) -> list[str]:
    """The statements of a migration, split at ``;`` ending a line."""
    return [s.strip() for s in _STATEMENT_END.split(sql) if s.strip()]


def fragments(names: Names, service_role: str, contract: DatasetContract | None = None,
              landing: Any = None) -> dict[str, str]:
    """The placeholders of the migrations, for one database (and one dataset, and its landing)."""
    out = {"database": names.database, "raw": names.raw, "audit": names.audit, "analytics": names.analytics,
           "service_role": quote_ident(service_role)}
    if contract is not None:
        o = dataset_objects(contract)
        out.update(
            table=o.table, rejected_table=o.rejected, quarantine_table=o.quarantine, published_view=o.published,
            csv_format=o.file_format, csv_format_by_name=o.file_format_by_name, intake_table=o.intake,
            shadow_table=o.shadow, pipe=o.pipe, columns=column_definitions(contract),
            header_columns=_header_columns(contract), target_table=quote_literal(raw_table(names, contract)),
            delimiter=quote_literal(contract.csv.delimiter), quote=quote_literal(contract.csv.quote),
            date_format=quote_literal(contract.csv.date_format), time_format=quote_literal(contract.csv.time_format),
            column_names=", ".join(quote_ident(c.column) for c in contract.columns),
            positions=", ".join(f"${i}" for i in range(1, len(contract.columns) + 1)),
        )
    if landing is not None:
        out.update(url=quote_literal(landing.url), storage_integration=landing.storage_integration)
    return out


def column_definitions(contract: DatasetContract) -> str:
    """The contract's columns as DDL lines (names and types were validated by the contract loader)."""
    return ",\n".join(f"    {quote_ident(c.column)} {c.type}{'' if c.nullable else ' not null'}"
                      for c in contract.columns)


def _header_columns(contract: DatasetContract) -> str:
    """The intake table's columns: named exactly as the file's header (quoted), typed as the contract says."""
    lines = []
    for c in contract.columns:
        if '"' in c.name or not c.name.strip():
            raise ValueError(f"contract {contract.name!r}: header name {c.name!r} cannot name a column (no '\"')")
        lines.append(f'    "{c.name}" {c.type}')
    return ",\n".join(lines)


def applied_versions(cur: Any, names: Names) -> dict[tuple[str, str], str] | None:
    """{(version, dataset): checksum} recorded in SCHEMA_VERSION, or None if the table does not exist."""
    from snowflake.connector.errors import ProgrammingError

    try:
        rows = wh.run(cur, "setup/select_schema_version.sql", database=names.database, schema=names.audit)
    except ProgrammingError as e:
        if sf_errors.is_missing(e):
            return None
        raise
    return {(str(v), str(d)): str(c) for v, d, c in rows}


def plan(contracts: list[DatasetContract], *, snowpipe: bool) -> list[tuple[Migration, DatasetContract | None]]:
    """Every (migration, dataset) pair the setup covers, in the order it applies them."""
    migrations = discover()
    pairs: list[tuple[Migration, DatasetContract | None]] = [(m, None) for m in migrations if m.scope == "database"]
    for contract in contracts:
        pairs += [(m, contract) for m in migrations if m.scope == "dataset"]
        if snowpipe:
            pairs += [(m, contract) for m in migrations if m.scope == "snowpipe"]
    return pairs


def apply(conn: Any, names: Names, contracts: list[DatasetContract], *, service_role: str = DEFAULT_SERVICE_ROLE,
          landing: Any = None, dry_run: bool = False) -> list[Applied]:
    """Apply every migration not yet recorded, in order, and record each one.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
        An admin role's connection (it creates the objects and grants the service role).
    names : Names
    contracts : list of DatasetContract
        The datasets to set up.
    service_role : str
        The role the DAGs run as; every migration grants it what it needs.
    landing : snowseg.loading.snowpipe.Landing, optional
        With it, the Snowpipe objects (landing stage, pipe per dataset) are set up too.
    dry_run : bool
        Only report what would be applied.

    Returns
    -------
    list of Applied
    """
    service_role = quote_ident(service_role)
    results = []
    with conn.cursor() as cur:
        done = applied_versions(cur, names) or {}
        for migration, contract in plan(contracts, snowpipe=landing is not None):
            dataset = contract.name if contract is not None else ""
            if (migration.key, dataset) in done:
                if done[(migration.key, dataset)] != migration.checksum:
                    log.warning("%s (%s) changed since it was applied; a new migration is the way to change objects",
                                migration.key, dataset or names.database)
                results.append(Applied(migration, dataset, 0, "ALREADY"))
                continue
            statements = split_statements(wh.render(migration.sql_name(),
                                                    **fragments(names, service_role, contract, landing)))
            if dry_run:
                results.append(Applied(migration, dataset, len(statements), "PLANNED"))
                continue
            for statement in statements:
                cur.execute(statement)
            wh.run(cur, "setup/insert_schema_version.sql",
                   {"version": migration.key, "dataset": dataset, "name": migration.name,
                    "checksum": migration.checksum,
                    "applied_at": datetime.now(UTC).replace(tzinfo=None)},
                   database=names.database, schema=names.audit)
            results.append(Applied(migration, dataset, len(statements), "APPLIED"))
            log.info("applied %s %s (%s): %d statements", migration.key, migration.name, dataset or names.database,
                     len(statements))
    return results


def require(cur: Any, names: Names, contract: DatasetContract | None = None, *, snowpipe: bool = False) -> None:
    """Fail fast unless the setup has been applied for this database (and dataset, and its Snowpipe objects).

    Raises
    ------
    WarehouseNotSetUp
        Naming the migrations not applied (or the missing version table) and the command to run.
    """
    done = applied_versions(cur, names)
    dataset = contract.name if contract is not None else None
    if done is None:
        raise WarehouseNotSetUp(names.database, [f"{names.audit}.{SCHEMA_VERSION}"], dataset, command=SETUP_COMMAND)
    needed = plan([contract] if contract is not None else [], snowpipe=snowpipe)
    missing = [f"{m.key}__{m.name}" for m, c in needed if (m.key, c.name if c is not None else "") not in done]
    if missing:
        raise WarehouseNotSetUp(names.database, missing, dataset, command=SETUP_COMMAND)


def setup(contracts: list[str] | None = None, *, snowpipe: bool = False, landing_url: str | None = None,
          dry_run: bool = False, conn_id: str | None = None) -> list[Applied]:
    """Apply the setup through the admin connection: what ``make setup-warehouse`` and the ``setup_warehouse`` DAG run.

    Parameters
    ----------
    contracts : list of str, optional
        Contract names; default every known contract.
    snowpipe : bool
        Also the landing stage and pipes, on `landing_url` (default ``SNOWSEG_LANDING_URL``).
    dry_run : bool
        Only report what would be applied.
    conn_id : str, optional
        The admin's Airflow connection; default ``SNOWSEG_ADMIN_CONN_ID`` or ``snowflake_admin``.
    """
    from snowseg import settings
    from snowseg.config import contract_path, known_contracts, load_contract

    names = Names.from_env()
    chosen = [load_contract(contract_path(c)) for c in (contracts or known_contracts())]
    landing = None
    if snowpipe:
        from snowseg.loading.snowpipe import Landing

        landing = Landing.from_env(landing_url)
    conn = wh.connect(conn_id or settings.get("SNOWSEG_ADMIN_CONN_ID") or DEFAULT_ADMIN_CONN_ID)
    try:
        return apply(conn, names, chosen, service_role=service_role(), landing=landing, dry_run=dry_run)
    finally:
        conn.close()


def service_role() -> str:
    """The role the DAGs run as: ``SNOWSEG_SERVICE_ROLE``, default ``SNOWSEG_ROLE``."""
    from snowseg import settings

    return quote_ident(settings.get("SNOWSEG_SERVICE_ROLE") or DEFAULT_SERVICE_ROLE)


def describe(results: list[Applied], database: str) -> list[str]:
    """One line per migration and dataset, then a summary line."""
    lines = [f"{r.status:8} {r.migration.key}__{r.migration.name:28} {r.dataset or database}"
             + (f" ({r.statements} statements)" if r.statements else "") for r in results]
    datasets = {r.dataset for r in results if r.dataset}
    lines.append(f"{database}: {sum(r.status == 'APPLIED' for r in results)} migration(s) applied, "
                 f"{sum(r.status == 'ALREADY' for r in results)} already there, for {len(datasets)} dataset(s); "
                 f"the DAGs run as {service_role()}.")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m snowseg.migrations --conn snowflake_admin [--contract NAME ...] [--snowpipe] [--dry-run]``."""
    parser = argparse.ArgumentParser(description="Apply Snowseg's versioned warehouse setup (as an admin role).")
    parser.add_argument("--conn", help="Airflow connection id of an admin role (default SNOWSEG_ADMIN_CONN_ID, "
                                       "else snowflake_admin)")
    parser.add_argument("--contract", action="append", help="a dataset contract to set up (default: every known one)")
    parser.add_argument("--snowpipe", action="store_true",
                        help="also the landing stage and pipes (SNOWSEG_LANDING_URL)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be applied, change nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    results = setup(args.contract, snowpipe=args.snowpipe, dry_run=args.dry_run, conn_id=args.conn)
    print("\n".join(describe(results, Names.from_env().database)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
