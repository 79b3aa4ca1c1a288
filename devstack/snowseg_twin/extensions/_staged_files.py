"""Find the staged files a COPY INTO <table> or REMOVE reads, in fakesnow's internal stages.

Emulates Snowflake's file selection for internal stages (table stages @%T / @DB.SCH.%T and named
stages @S / @DB.SCH.S): the FROM location's path is a case-sensitive prefix; FILES names are
relative to that location; PATTERN is a regular expression matched against the whole path relative
to the stage (eg: '3f9a0c1d2e4b5a69/sales.csv.gz'), anchored at both ends.

Reuses fakesnow's stage resolution (compat.internal_dir, TableStages, stage_url_from_var).

Differs from Snowflake: a FILES entry that doesn't exist raises error 91016 instead of a per-file
result; REMOVE's PATTERN also matches against the name as LIST shows it (with the stage prefix of a
named stage).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions import _fakesnow_compat as compat


@dataclass(frozen=True)
class StagedFile:
    path: str  # local file backing the staged file
    name: str  # path relative to the stage root, ie: METADATA$FILENAME
    listed_name: str  # name as LIST and COPY's output show it
    source: str = ""  # the remote object read into path, eg: s3://bucket/key (external stages only)

    @property
    def history_name(self) -> str:
        """The FILE_NAME load history keys on: the remote URL for external stages, else the local path."""
        return self.source or self.path


def staged_file(path: str) -> StagedFile:
    _, _, _, *parts = PurePath(path).relative_to(compat.local_bucket_path()).parts
    return StagedFile(path=path, name="/".join(parts), listed_name=compat.internal_file_name(path))


def list_prefix(prefix: str, duck_conn: DuckDBPyConnection) -> list[StagedFile]:
    """Files whose path starts with prefix, a location within an internal stage."""
    rows = duck_conn.execute(compat.internal_files_sql(prefix)).fetchall()
    return sorted((staged_file(r[0]) for r in rows), key=lambda f: f.name)


def internal_location(cursor: Any, target: str) -> str | None:  # noqa: ANN401
    """The local directory (+ path) of an internal stage reference ``@stage[/path]``; None for an external stage.

    Raises Snowflake's "Stage '...' does not exist or not authorized." for an unknown stage."""
    conn = compat.connection(cursor)
    var, _, path = target[1:].partition("/")
    catalog, schema, name = compat.parts_from_var(var, conn.database, conn.schema)
    lookup = compat.stage_lookup_sql(catalog, schema, name, conn.table_stages)
    found = next(iter(compat.duck_conn(cursor).execute(lookup).fetchall()), None)
    if found is None:
        raise compat.not_found_error(f"{catalog}.{schema}.{name}")
    if not compat.is_table_stage(name):
        urls = compat.duck_conn(cursor).execute(
            "SELECT url FROM _fs_global._fs_information_schema._fs_stages "
            "WHERE database_name = ? AND schema_name = ? AND name = ?",
            [catalog, schema, name],
        ).fetchall()
        if urls and urls[0][0]:
            return None
    return compat.internal_dir(found[0], path)


def select_files(
    location: str, files: list[str] | None, pattern: str | None, duck_conn: DuckDBPyConnection
) -> list[StagedFile]:
    """The files a COPY reads from location (a stage dir + optional path) given FILES / PATTERN."""
    if files:
        base = location if location.endswith("/") else f"{location}/"
        selected = []
        for name in files:
            path = f"{base}{name}"
            if not os.path.isfile(path):
                raise snowflake.connector.errors.ProgrammingError(
                    msg=f"Remote file '{staged_file(path).listed_name}' was not found. There are several "
                    "potential causes. The file might not exist. The required credentials may be missing or "
                    "invalid.",
                    errno=91016,
                    sqlstate="22000",
                )
            selected.append(staged_file(path))
        candidates = selected
    else:
        candidates = list_prefix(location, duck_conn)
    if pattern is not None:
        regex = re.compile(pattern)
        candidates = [f for f in candidates if regex.fullmatch(f.name)]
    return candidates
