"""Every warehouse object Snowseg uses, by name: the one owner of object names.

Schema-level objects have fixed names; a dataset's objects are named from its contract's raw table
(``SALES_RAW`` -> ``SALES_REJECTED``, ``SALES_PUBLISHED``...). The database and schemas come from
:class:`snowseg.warehouse.Names`. Objects are created only by the versioned setup
(:mod:`snowseg.migrations`); the pipeline only uses them.

Examples
--------
>>> from snowseg.config import load_contract
>>> o = dataset_objects(load_contract())
>>> o.table, o.rejected, o.published, o.file_format, o.intake, o.pipe
('SALES_RAW', 'SALES_REJECTED', 'SALES_PUBLISHED', 'SALES_RAW_CSV', 'SALES_RAW_INTAKE', 'SALES_RAW_PIPE')
"""

from __future__ import annotations

from dataclasses import dataclass

from snowseg.config import DatasetContract
from snowseg.warehouse import Names, quote_ident

# AUDIT
SCHEMA_VERSION = "SCHEMA_VERSION"
LOAD_AUDIT = "LOAD_AUDIT"
DQ_RESULTS = "DQ_RESULTS"
BATCH_GATE = "BATCH_GATE"
# RAW
BULK_STAGE = "SNOWSEG_BULK"
LANDING_STAGE = "SNOWSEG_LANDING"
# ANALYTICS
SEGMENT_ASSIGNMENTS = "SEGMENT_ASSIGNMENTS"
ASSIGNMENTS_STAGE_TABLE = "SEGMENT_ASSIGNMENTS_STAGE"
CURRENT_SEGMENTS = "CURRENT_SEGMENTS"
SEGMENT_PROFILES = "SEGMENT_PROFILES"
MODEL_RUNS = "MODEL_RUNS"
WRITEBACK_STAGE = "SNOWSEG_WRITEBACK"
WRITEBACK_FORMAT = "SNOWSEG_WRITEBACK_CSV"


@dataclass(frozen=True)
class DatasetObjects:
    """The objects of one dataset (contract), all in the RAW schema.

    - ``table``: the raw table (contract columns + lineage);
    - ``rejected``: rejected records of every load path;
    - ``quarantine``: rows the quality gate quarantined;
    - ``published``: the view of published rows the features read;
    - ``file_format``: the contract's CSV format (header skipped);
    - ``file_format_by_name``: the same CSV read by header names (``PARSE_HEADER``), for the small path;
    - ``intake``: the small path's landing table, whose table stage takes the upload (owned by the service role);
    - ``shadow``: exactly the contract's columns, never loaded: the target of validation-only COPYs;
    - ``pipe``: the Snowpipe pipe into ``table``.
    """

    table: str
    rejected: str
    quarantine: str
    published: str
    file_format: str
    file_format_by_name: str
    intake: str
    shadow: str
    pipe: str


def dataset_objects(contract: DatasetContract) -> DatasetObjects:
    """The names of a contract's objects (validated identifiers)."""
    table = quote_ident(contract.table)
    base = table[: -len("_RAW")] if table.endswith("_RAW") else table
    return DatasetObjects(
        table=table, rejected=quote_ident(f"{base}_REJECTED"), quarantine=quote_ident(f"{base}_QUARANTINE"),
        published=quote_ident(f"{base}_PUBLISHED"), file_format=quote_ident(f"{table}_CSV"),
        file_format_by_name=quote_ident(f"{table}_CSV_BY_NAME"), intake=quote_ident(f"{table}_INTAKE"),
        shadow=quote_ident(f"{table}_SHADOW"), pipe=quote_ident(f"{table}_PIPE"),
    )


def qualified(names: Names, schema: str, name: str) -> str:
    """``DATABASE.SCHEMA.NAME``.

    Examples
    --------
    >>> qualified(Names(), "RAW", "SALES_RAW")
    'SNOWSEG.RAW.SALES_RAW'
    """
    return f"{names.database}.{quote_ident(schema)}.{quote_ident(name)}"


def raw_table(names: Names, contract: DatasetContract) -> str:
    """The raw table's qualified name, as LOAD_AUDIT and BATCH_GATE record it (``TARGET_TABLE``)."""
    return qualified(names, names.raw, dataset_objects(contract).table)
