"""Every warehouse object Snowseg uses, by name: the one owner of object names.

Schema-level objects have fixed names; a dataset's objects are named from its contract's raw table
(``SALES_RAW`` -> ``SALES_REJECTED``, ``SALES_PUBLISHED``...), whose name ends in ``_RAW``
(:func:`raw_table_name`). The database and schemas come from :class:`snowseg.warehouse.Names`, which also
qualifies a name (``names.raw_qualified(...)``). Objects are created only by the versioned setup
(:mod:`snowseg.migrations`); the pipeline only uses them. The load paths' names, as ``LOAD_AUDIT.LOAD_PATH``
and ``_LOAD_PATH`` record them, are here too.

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

#: The suffix of a dataset's raw table; its other objects are named from what comes before it.
RAW_SUFFIX = "_RAW"

# The load paths, as LOAD_AUDIT.LOAD_PATH and the raw table's _LOAD_PATH record them (one per load DAG)
LOAD_PATH_SMALL_FILE = "small_file"
LOAD_PATH_BULK_STAGE = "bulk_stage"
LOAD_PATH_SNOWPIPE = "snowpipe"  # also written by the pipe itself (migration snowpipe/V002)
#: In the order the monitor shows them.
LOAD_PATHS = (LOAD_PATH_SMALL_FILE, LOAD_PATH_BULK_STAGE, LOAD_PATH_SNOWPIPE)

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


def raw_table_name(base: str) -> str:
    """The raw table's name for a dataset's base name (kept when it already ends in ``_RAW``).

    Examples
    --------
    >>> raw_table_name("ORDERS"), raw_table_name("ORDERS_RAW")
    ('ORDERS_RAW', 'ORDERS_RAW')
    """
    return base if base.endswith(RAW_SUFFIX) else f"{base}{RAW_SUFFIX}"


def dataset_base(table: str) -> str:
    """What a dataset's objects are named from: the raw table's name without ``_RAW``.

    Examples
    --------
    >>> dataset_base("SALES_RAW"), dataset_base("CUSTOMERS")
    ('SALES', 'CUSTOMERS')
    """
    return table.removesuffix(RAW_SUFFIX)


def dataset_objects(contract: DatasetContract) -> DatasetObjects:
    """The names of a contract's objects (validated identifiers)."""
    table = quote_ident(contract.table)
    base = dataset_base(table)
    return DatasetObjects(
        table=table, rejected=quote_ident(f"{base}_REJECTED"), quarantine=quote_ident(f"{base}_QUARANTINE"),
        published=quote_ident(f"{base}_PUBLISHED"), file_format=quote_ident(f"{table}_CSV"),
        file_format_by_name=quote_ident(f"{table}_CSV_BY_NAME"), intake=quote_ident(f"{table}_INTAKE"),
        shadow=quote_ident(f"{table}_SHADOW"), pipe=quote_ident(f"{table}_PIPE"),
    )


def raw_table(names: Names, contract: DatasetContract) -> str:
    """The raw table's qualified name, as LOAD_AUDIT and BATCH_GATE record it (``TARGET_TABLE``)."""
    return names.raw_qualified(dataset_objects(contract).table)
