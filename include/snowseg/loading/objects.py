"""Create the warehouse objects the loads need, idempotently, from ``include/sql/``."""

from __future__ import annotations

from typing import Any

from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.warehouse import Names, quote_ident, quote_literal


def file_format_name(contract: DatasetContract) -> str:
    """The named file format of a contract's raw table, e.g. ``SALES_RAW_CSV``."""
    return quote_ident(f"{contract.table}_CSV")


def rejected_table_name(contract: DatasetContract) -> str:
    """Where a raw table's rejected rows go, e.g. ``SALES_REJECTED`` for ``SALES_RAW``."""
    base = contract.table[: -len("_RAW")] if contract.table.endswith("_RAW") else contract.table
    return quote_ident(f"{base}_REJECTED")


def column_definitions(contract: DatasetContract) -> str:
    """The contract's columns as DDL lines (names and types were validated by the contract loader)."""
    lines = []
    for c in contract.columns:
        null = "" if c.nullable else " not null"
        lines.append(f"    {quote_ident(c.column)} {c.type}{null}")
    return ",\n".join(lines)


def ensure_raw_objects(cur: Any, names: Names, contract: DatasetContract) -> None:
    """Database, RAW and AUDIT schemas, the raw table, its CSV file format, SALES_REJECTED and LOAD_AUDIT."""
    wh.run(cur, "setup/create_database.sql", database=names.database)
    for schema in (names.raw, names.audit):
        wh.run(cur, "setup/create_schema.sql", database=names.database, schema=schema)
    wh.run(
        cur, "raw/create_table_sales_raw.sql", database=names.database, schema=names.raw,
        table=quote_ident(contract.table), columns=column_definitions(contract),
    )
    wh.run(
        cur, "raw/create_file_format_csv.sql", database=names.database, schema=names.raw,
        file_format=file_format_name(contract), delimiter=quote_literal(contract.csv.delimiter),
        quote=quote_literal(contract.csv.quote), date_format=quote_literal(contract.csv.date_format),
        time_format=quote_literal(contract.csv.time_format),
    )
    wh.run(cur, "raw/create_table_sales_rejected.sql", database=names.database, schema=names.raw,
           rejected_table=rejected_table_name(contract))
    wh.run(cur, "audit/create_table_load_audit.sql", database=names.database, schema=names.audit)
