"""ALTER TABLE ... ADD COLUMN [IF NOT EXISTS], the form the migrations use to add columns to tables that have rows
(``database/V015`` adds SEGMENT_PROFILES' rule columns).

https://docs.snowflake.com/en/sql-reference/sql/alter-table gives the form as ``tableColumnAction ::= ADD [ COLUMN ]
[ IF NOT EXISTS ] <col_name> <col_type> ...``. IF NOT EXISTS makes the statement a no-op for a column the table
has (the migrations re-run on tables an earlier Snowseg made); without it, a name the table already has is an error
(column names are unique in a table). A nullable column without a DEFAULT reads NULL in the rows the table had.
"""

from __future__ import annotations

import pytest
from snowflake.connector import ProgrammingError

from tests.twin.test_copy_conformance import Cursor


def test_an_added_column_reads_null_in_existing_rows_and_if_not_exists_keeps_the_column(cur: Cursor) -> None:
    cur.execute("CREATE TABLE P (SEGMENT_ID NUMBER(4, 0), RULES VARCHAR)")
    cur.execute("INSERT INTO P (SEGMENT_ID, RULES) VALUES (0, '[]')")
    cur.execute("ALTER TABLE P ADD COLUMN IF NOT EXISTS RULE_ACCURACY FLOAT")
    cur.execute("ALTER TABLE P ADD COLUMN IF NOT EXISTS RULES FLOAT")  # exists: nothing changes, no error
    cur.execute("SELECT SEGMENT_ID, RULES, RULE_ACCURACY FROM P")
    assert cur.fetchall() == [{"SEGMENT_ID": 0, "RULES": "[]", "RULE_ACCURACY": None}]
    cur.execute("INSERT INTO P (SEGMENT_ID, RULES, RULE_ACCURACY) VALUES (1, 'text stays text', 0.5)")
    cur.execute("SELECT RULES, RULE_ACCURACY FROM P WHERE SEGMENT_ID = 1")
    assert cur.fetchall() == [{"RULES": "text stays text", "RULE_ACCURACY": 0.5}]


def test_adding_a_column_the_table_has_without_if_not_exists_is_refused(cur: Cursor) -> None:
    cur.execute("CREATE TABLE P (SEGMENT_ID NUMBER(4, 0), RULES VARCHAR)")
    with pytest.raises(ProgrammingError):
        cur.execute("ALTER TABLE P ADD COLUMN RULES VARCHAR")
