"""Dev-only environment settings: the local twin's, the tests' and the benchmarks' own variables.

The pipeline's variables are in ``snowseg.settings`` (shipped with the DAGs); these are read only under
``devstack/``, ``tests/`` and ``bench/`` and never reach a production worker. ``docs/configuration.md``
holds :func:`markdown_table` (``python -m snowseg_twin.settings``); a unit test keeps the two equal.
The twin also reads ``SNOWSEG_STORAGE_INTEGRATION`` (a pipeline setting) to name the integration a new
twin account has.
"""

from __future__ import annotations

import sys

from snowseg.settings import Setting
from snowseg.settings import markdown_table as _markdown_table

TWIN_SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("SNOWSEG_TWIN_HOME", "<project>/.twin",
            "The twin's state folder: DuckDB databases, stages and file formats, staged files, COPY load history, "
            "key pairs (`keys/`), pid files and logs (`logs/`). All of it survives a restart; `make clean` removes "
            "it.", "twin", computed=True),
    Setting("SNOWSEG_TWIN_PORT", "8765",
            "Port of the fakesnow server (`127.0.0.1`); the twin's Snowflake connection points at it.", "twin"),
    Setting("SNOWSEG_S3_PORT", "8766",
            "Port of the moto S3 (and SQS) server; `AWS_ENDPOINT_URL` of the twin's AWS connection.", "twin"),
    Setting("SNOWSEG_TWIN_PRIVILEGES", "enforce",
            "`enforce`: the twin checks Snowflake's privileges (roles, grants, ownership, warehouses, logins) as "
            "Snowflake does; `off`: no checks (e.g. for poking at the twin by hand). The server defaults to "
            "`enforce`.", "twin"),
    Setting("SNOWSEG_TWIN_QUERY_LOG", "",
            "A file the twin appends every statement of a logged-in session to, with its user, role and "
            "`QUERY_TAG` (the statement catalogue test reads it).", "twin"),
    Setting("SNOWSEG_TWIN_MEMORY_LIMIT", "3GB",
            "DuckDB's memory limit in the twin server; bigger joins and aggregations spill to `<twin home>/tmp` "
            "(with the COPY's batches and Python, the server stays under about 4 GB at 1e7 rows).", "twin"),
    Setting("SNOWSEG_TWIN_IN_PROGRESS_SECONDS", "40",
            "A statement still running after this many seconds is answered \"query in progress\" (code 333333, "
            "with a `getResultUrl` the connector polls), as Snowflake does before the connector's 60-s request "
            "timeout.", "twin"),
    Setting("SNOWSEG_TWIN_RESULT_CHUNK_ROWS", "100000",
            "Rows of a query result the twin sends inline; the rest go in chunks of as many rows that the "
            "connector downloads when it reads them (`<twin home>/results/`), as Snowflake sends large results.",
            "twin"),
    Setting("SNOWSEG_TWIN_SLOW_STATEMENT_SECONDS", "",
            "When set, the twin logs every statement that took longer than this many seconds (its log, logger "
            "`snowseg_twin.slow`: seconds, role, the SQL's first 300 characters), to see where a run's time goes "
            "in the warehouse.", "twin"),
    Setting("SNOWSEG_TWIN_COPY_BATCH_BYTES", "16777216",
            "Decompressed bytes the twin's COPY reads, converts and inserts at a time (16 MiB): the bound on a "
            "COPY's memory, whatever the size of its files.", "twin"),
    Setting("SNOWSEG_TWIN_S3_CACHE", "<twin home>/s3_cache",
            "Where the twin caches S3 objects it reads for external stages.", "twin", computed=True),
    Setting("SNOWSEG_TEST_QUERY_LOGS", "a new temp folder",
            "The folder of the test session's query logs, one per pytest-xdist worker (set by the controller, "
            "inherited by the workers).", "tests", computed=True),
    Setting("SNOWSEG_TEST_ARTIFACTS", "<project>/test-artifacts",
            "Where the browser test saves its screenshots (`browser/`).", "tests", computed=True),
)}


def markdown_table() -> str:
    """The dev-only settings as a Markdown table, as ``docs/configuration.md`` has it."""
    return _markdown_table(TWIN_SETTINGS.values())


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
