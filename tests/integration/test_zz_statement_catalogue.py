"""Every statement the pipeline sent during the integration suite has a catalogued shape and parses as Snowflake SQL.

The session twin logs each statement with its session's QUERY_TAG (``SNOWSEG_TWIN_QUERY_LOG``); the pipeline's
sessions carry ``{"app": "snowseg", ...}`` (:func:`snowseg.warehouse.query_tag`), so statements the tests send to look
at tables are left out. Each pipeline statement, normalised (whitespace collapsed, literals and the tests' database
names replaced), must:

- parse with sqlglot's Snowflake dialect (statement forms sqlglot keeps as a generic command, such as PUT, GRANT or
  ALTER FILE FORMAT, are accepted only when the catalogue says so);
- match exactly one shape of ``include/sql/statement_catalogue.yaml``, each of which names the Snowflake
  documentation page it follows. A new shape fails this test until it is catalogued (and checked against the docs).

This module runs last in the integration folder (its name), after the DAGs ran; run alone, it has nothing to check.
With pytest-xdist each worker logs its own statements and the controller checks them all at the end of the session
(``pytest_sessionfinish`` in tests/conftest.py, which fails the run on a problem); the test then skips on the workers.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest
import sqlglot
import yaml
from snowseg.smoke.database import SMOKE_DATABASE
from sqlglot import exp

from tests.conftest import QUERY_LOGS, REPO, pipeline_sql

pytestmark = pytest.mark.integration

CATALOGUE = REPO / "include" / "sql" / "statement_catalogue.yaml"


def normalise(sql: str) -> str:
    """One line, lower case, string and number literals as ``?``, the tests' database names (and the smoke suite's
    throwaway databases, ``SNOWSEG_SMOKE_<id>``) as ``db``.

    Examples
    --------
    >>> normalise("COPY INTO T_0A1B2C3D4E.RAW.X  FILES = ('a.csv', 'b''c.csv')\\n ON_ERROR = continue")
    'copy into db.raw.x files = (?, ?) on_error = continue'
    >>> normalise("drop database if exists SNOWSEG_SMOKE_0A1B2C3D")
    'drop database if exists db'
    >>> normalise("show schemas in database SNOWSEG; put 'x' @SNOWSEG.RAW.SNOWSEG_BULK/p/")
    'show schemas in database db; put ? @db.raw.snowseg_bulk/p/'
    >>> normalise("select 1.5, -2 from t where x = 'it''s'")
    'select ?, ? from t where x = ?'
    """
    text = re.sub(r"'(?:[^'\\]|''|\\.)*'", "?", sql)
    text = re.sub(rf"\b(?:t_[0-9a-f]{{10}}|{SMOKE_DATABASE.pattern})\b", "db", text, flags=re.IGNORECASE)
    text = re.sub(r"(?:\bsnowseg(?=\.)|(?<=database )snowseg\b)", "db", text, flags=re.IGNORECASE)  # the default one
    text = re.sub(r"(?<![\w$.])-?\d+(?:\.\d+)?(?![\w$])", "?", text)
    return " ".join(text.split()).lower()


@cache
def catalogue() -> list[dict]:
    entries = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["statements"]
    for e in entries:
        e["regex"] = re.compile(e["shape"])
    return entries


def pipeline_statements() -> list[str]:
    lines = (line for log in sorted(Path(QUERY_LOGS).glob("*.jsonl")) for line in log.read_text(encoding="utf-8").splitlines())
    return sorted({sql for sql in map(pipeline_sql, lines) if sql is not None})


def test_catalogue_entries_name_their_documentation():
    for e in catalogue():
        assert e["doc"].startswith("https://docs.snowflake.com/"), e
        assert e["form"] and e["shape"].startswith("^") and e["shape"].endswith("$"), e


def catalogue_problems() -> list[str]:
    """What is wrong with the statements logged so far: each one with no catalogued shape, more than one, or that does
    not parse (one line each; empty when all is well)."""
    unknown, ambiguous, unparsed = set(), set(), set()
    for sql in pipeline_statements():
        shape = normalise(sql)
        matches = [e for e in catalogue() if e["regex"].match(shape)]
        if not matches:
            unknown.add(shape)
            continue
        if len(matches) > 1:
            ambiguous.add(f"{shape} matches {[m['form'] for m in matches]}")
        if matches[0].get("command"):
            continue  # a form sqlglot does not model beyond a generic command; its shape is the check
        parsed = [p for p in sqlglot.parse(sql, read="snowflake") if p is not None]
        if len(parsed) != 1 or isinstance(parsed[0], exp.Command):
            unparsed.add(shape)
    return ([f"no catalogued shape: {u}" for u in sorted(unknown)] + [f"ambiguous: {a}" for a in sorted(ambiguous)]
            + [f"does not parse as one Snowflake statement: {u}" for u in sorted(unparsed)])


def test_every_pipeline_statement_is_catalogued_and_parses():
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("checked over every worker's statements by the controller at the end of the session")
    if not pipeline_statements():
        pytest.skip("no pipeline statement was logged: run with the integration tests")
    problems = catalogue_problems()
    assert problems == [], "\n".join(problems[:60])
