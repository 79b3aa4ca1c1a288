"""The DagBag loads cleanly; every DAG is documented and owned; nothing imports the twin or GX at parse."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= set(DAG_IDS)


DAG_IDS = ["load_small_file", "load_bulk_stage", "load_s3_snowpipe", "segment_customers", "watch_loads"]


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_dag_hygiene(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert dag.tags and "snowseg" in dag.tags
    assert dag.doc_md and len(dag.doc_md) > 200
    for t in dag.tasks:
        assert t.owner == "data-engineering"
        assert t.retries is not None
    assert dag.max_active_runs == 1


def test_segment_customers_is_scheduled_on_raw_sales(dagbag):
    dag = dagbag.get_dag("segment_customers")
    for dag_id, task_id in (("load_small_file", "put_and_copy"), ("load_bulk_stage", "split_put_copy"),
                            ("load_s3_snowpipe", "account_loads")):
        assert [o.name for o in dagbag.get_dag(dag_id).get_task(task_id).outlets] == ["raw_sales"]
    assert [a.name for a in dag.timetable.asset_condition.objects] == ["raw_sales"]


def test_load_bulk_stage_schedule_comes_from_the_setting(dagbag, monkeypatch):
    """SNOWSEG_BULK_SCHEDULE, read at parse: unset (the session's DagBag) is @daily, `off` is no schedule."""
    from airflow.dag_processing.dagbag import DagBag

    assert dagbag.get_dag("load_bulk_stage").schedule == "@daily"
    for value, expected in (("off", None), ("0 5 * * *", "0 5 * * *")):
        monkeypatch.setenv("SNOWSEG_BULK_SCHEDULE", value)
        bag = DagBag(dag_folder=str(REPO / "dags" / "load_bulk_stage.py"))
        assert bag.import_errors == {}
        assert bag.get_dag("load_bulk_stage").schedule == expected


def test_parse_imports_no_heavy_or_twin_modules(tmp_path):
    """Parsing the DAGs (in a fresh interpreter) imports no GX, sklearn, matplotlib, fakesnow or twin code."""
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; "
        f"b = DagBag(dag_folder={str(REPO / 'dags')!r}); assert not b.import_errors, b.import_errors; "
        "print(sorted(m for m in ('great_expectations', 'sklearn', 'matplotlib', 'fakesnow', 'snowseg_twin') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "PYTHONPATH": str(REPO / "include")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_snowpipe_wait_is_deferrable(dagbag):
    """The wait for Snowpipe runs on the triggerer, not in a worker slot."""
    task = dagbag.get_dag("load_s3_snowpipe").get_task("wait_for_pipe")
    assert task.deferrable is True and type(task).__name__ == "SnowpipeLoadSensor"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


PIPELINE_FILES = sorted([*REPO.joinpath("dags").rglob("*.py"), *REPO.joinpath("include").rglob("*.py")])


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=[str(p.relative_to(REPO)) for p in PIPELINE_FILES])
def test_pipeline_never_imports_the_twin(path):
    assert not _imports(path) & {"snowseg_twin", "fakesnow", "moto", "sitecustomize"}
