"""Helpers for running the DAGs with dag.test() against the session twin."""

from __future__ import annotations

import copy

import pytest


def dag_test(dag, conf: dict | None = None):
    """``dag.test(run_conf=conf)`` without side effects on the DAG object.

    dag.test() writes run_conf into each task's params, and the DagBag's DAG object is shared by the
    whole session: they are restored, so a run's conf never leaks into a later run of the same DAG.
    """
    saved = {t.task_id: copy.deepcopy(t.params) for t in dag.tasks}
    try:
        return dag.test(run_conf=conf or {})
    finally:
        for t in dag.tasks:
            t.params = saved[t.task_id]


@pytest.fixture()
def run_dag(dagbag, twin, database):
    """Run a DAG from the project's DagBag with dag.test(); return (DagRun, {task_id: state})."""

    def _run(dag_id: str, **conf):
        dag = dagbag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} not in DagBag; import errors: {dagbag.import_errors}"
        dr = dag_test(dag, conf)
        states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
        return dr, states

    return _run


def query(conn, sql: str, params=None) -> list[tuple]:
    """All rows of a query."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
