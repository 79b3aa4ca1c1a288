"""Fixtures for the twin's conformance tests: one in-process fakesnow server with the extensions.

Tests talk to it through the real snowflake.connector over HTTP (PUT uploads go over HTTP too),
and isolate themselves by database name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import fakesnow
import pytest
import snowflake.connector
from snowflake.connector import DictCursor

from snowseg_twin import extensions


@pytest.fixture(scope="session")
def twin_kwargs() -> Iterator[dict]:
    """Connect kwargs for a fakesnow server patched by extensions.install()."""
    extensions.install()
    with fakesnow.server() as kwargs:
        yield kwargs


@pytest.fixture()
def database() -> str:
    """A database name no other test uses."""
    return f"TWIN_{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture()
def cur(twin_kwargs: dict, database: str) -> Iterator[snowflake.connector.cursor.DictCursor]:
    """A dict cursor on <database>.RAW, created for this test."""
    conn = snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW")
    try:
        with conn.cursor(DictCursor) as cursor:
            yield cursor
    finally:
        conn.close()
