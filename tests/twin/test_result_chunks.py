"""Large results come in chunks, as Snowflake sends them: the first rows inline, the rest as chunks the connector
downloads when the cursor reaches them (https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses
#retrieving-additional-partitions: "a large result set is split into partitions"). Through the real connector."""

from __future__ import annotations

import pytest

from snowseg_twin.extensions import result_chunks


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWSEG_TWIN_RESULT_CHUNK_ROWS", "1000")


def test_a_result_larger_than_a_chunk_arrives_whole_and_in_order(cur, small_chunks) -> None:  # noqa: ANN001
    before = set(result_chunks.results_dir().glob("*.arrow"))
    cur.execute("SELECT seq4() AS N, 'row ' || seq4() AS T FROM table(generator(rowcount => 3500)) ORDER BY N")
    rows = cur.fetchall()
    assert [r["N"] for r in rows] == list(range(3500))
    assert rows[3499]["T"] == "row 3499"
    written = set(result_chunks.results_dir().glob("*.arrow")) - before
    assert len(written) == 3  # 1000 inline, then 1000, 1000 and 500 in chunks


def test_a_small_result_stays_inline(cur, small_chunks) -> None:  # noqa: ANN001
    before = set(result_chunks.results_dir().glob("*.arrow"))
    cur.execute("SELECT seq4() AS N FROM table(generator(rowcount => 1000))")
    assert len(cur.fetchall()) == 1000
    assert set(result_chunks.results_dir().glob("*.arrow")) == before
