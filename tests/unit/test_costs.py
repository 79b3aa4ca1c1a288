"""Query tags (snowseg.warehouse) and their cost sums (snowseg.costs), and the run report's cost section."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from snowseg import costs, report
from snowseg import warehouse as wh


def test_the_tag_names_the_airflow_task_and_what_it_works_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AIRFLOW_CTX_DAG_ID": "load_small_file", "AIRFLOW_CTX_TASK_ID": "put_and_copy",
                       "AIRFLOW_CTX_DAG_RUN_ID": "manual__x;y'z", "AIRFLOW_CTX_TRY_NUMBER": "2"}.items():
        monkeypatch.setenv(key, value)
    tag = wh.query_tag(batch="small_file_ab12")
    assert ";" not in tag and "'" not in tag  # a plain SQL literal, through quote_literal
    assert json.loads(tag) == {"app": "snowseg", "dag": "load_small_file", "task": "put_and_copy",
                               "run": "manual__x;y'z", "try": "2", "batch": "small_file_ab12"}
    assert wh.read_query_tag(tag) == json.loads(tag)
    assert wh.read_query_tag('{"app":"other","batch":"b"}') is None and wh.read_query_tag("{not json") is None


def test_a_tag_over_snowflakes_2000_characters_is_refused_with_its_length() -> None:
    with pytest.raises(wh.QueryTagTooLong) as e:
        wh.query_tag(model_run="m" * 2000)
    assert e.value.limit == 2000 and e.value.length > 2000 and e.value.tag.startswith('{"app":"snowseg"')


def test_tag_session_sends_one_alter_session_with_the_quoted_tag() -> None:
    class Cursor:
        description = None

        def __init__(self) -> None:
            self.sent: list[str] = []

        def execute(self, sql: str, params: object = None) -> None:
            self.sent.append(sql)

    cur = Cursor()
    tag = wh.tag_session(cur, model_run="r1")
    assert cur.sent == [f"alter session set query_tag = {wh.quote_literal(tag)}"]


def _row(tag: str, *, size: str | None = "X-Small", execution_ms: int = 1800, elapsed_ms: int = 2000,
         cloud: float = 0.0, warehouse: str | None = "SNOWSEG_WH") -> dict:
    return dict(QUERY_TAG=tag, WAREHOUSE_SIZE=size, WAREHOUSE_NAME=warehouse, EXECUTION_TIME=execution_ms,
                TOTAL_ELAPSED_TIME=elapsed_ms, CREDITS_USED_CLOUD_SERVICES=cloud)


def test_costs_sum_seconds_and_estimated_credits_by_size() -> None:
    rows = [_row(wh.query_tag(batch="b1"), size="Large", execution_ms=3_600_000, elapsed_ms=3_700_000),
            _row(wh.query_tag(batch="b1"), size="2X-Large", execution_ms=36_000, cloud=0.5),
            _row(wh.query_tag(batch="b1"), size=None, warehouse=None, execution_ms=0),  # a query with no warehouse
            _row(wh.query_tag(batch="b2")), _row("not ours")]  # fmt: skip
    per = costs.by_batch(rows)
    assert set(per) == {"b1", "b2"}
    b1 = per["b1"]
    assert (b1.queries, b1.execution_s) == (3, 3636.0)
    assert b1.warehouse_credits == pytest.approx(8 + 32 * 36 / 3600) and b1.cloud_services_credits == 0.5
    assert b1.credits == pytest.approx(8.82) and b1.unknown_size_queries == 0
    assert b1.to_dict()["credits_are_estimated"] is True
    unknown = costs.query_cost(_row("x", size="Huge"))
    assert unknown.warehouse_credits == 0 and unknown.unknown_size_queries == 1


def test_history_start_never_asks_before_the_7_days_the_table_function_keeps() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert costs.history_start(datetime(2026, 11, 1), now=now) == now - timedelta(days=7) + timedelta(minutes=1)


def test_the_cost_section_is_added_once_and_replaced(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "index.html").write_text("<html><body><h1>run</h1>\n</body></html>\n")
    for queries in (3, 7):
        report.add_cost_section(run_dir, model_run_id="m1", queries=queries, elapsed_s=1.5, execution_s=1.0,
                                warehouse_credits=0.001, cloud_services_credits=0.0, note=costs.ESTIMATE_NOTE)
    page = (run_dir / "index.html").read_text()
    assert page.count('<h2 id="cost">Cost</h2>') == 1 and "Model run m1: 7 queries" in page
    assert "estimate" in page and page.rstrip().endswith("</body></html>")


def test_the_monitor_shows_the_loads_when_the_history_cannot_be_read() -> None:
    from snowflake.connector.errors import ProgrammingError

    from snowseg import monitor

    class Refusing:
        description = None

        def execute(self, sql: str, params: object = None) -> None:
            raise ProgrammingError(msg="SQL access control error:\nInsufficient privileges", errno=3001)

    loads = {"paths": [{"files": [{"batch_id": "b1", "started_at": datetime(2026, 12, 5, 9)}]}]}
    out = monitor.add_load_costs(Refusing(), wh.Names(), loads)
    assert out["paths"][0]["files"][0]["cost"] is None
    assert out["costs"]["available"] is False and "Insufficient privileges" in out["costs"]["message"]
