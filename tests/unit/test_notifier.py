"""Failure alerts: each failure kind gets its "what to do", the file/line/column and rows are named, no secret
leaks. Every case raises the real typed failure the way the tasks do (``fail(e)``, or the real code path where it is
cheap); the alert reads the failure's fields, never its text."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from airflow.sdk.exceptions import AirflowFailException

from snowseg.airflow import notifier
from snowseg.airflow.tasks import fail
from snowseg.config import load_contract
from snowseg.loading.audit import CopyError
from snowseg.loading.common import LoadFailed
from snowseg.loading.intake import FilesRefused, Refusal, check_inputs, refused_error
from snowseg.quality.gate import BatchVerdict, GateFailed, RuleResult
from snowseg.quality.suite import Rule
from snowseg.warehouse import Names, WarehouseUnreachable
from tests.unit.conftest import alert_lines
from tests.unit.test_delivery import RecordingNotifier

PASSWORD = "Sup3r-S3cret-Passw0rd"
KEY = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----"
LOG_URL = "http://localhost:8080/dags/load_small_file/runs/manual__1/tasks/put_and_copy?try_number=2"
CHECKED = {"path": "/data/sales.csv", "name": "sales.csv", "bytes": 15799, "sha256": "ab" * 32, "rows": 120,
           "has_bom": False}
PIPE = {"database": "DB", "schema": "RAW", "name": "SALES_RAW_PIPE", "notification_channel": "arn:x"}


pytestmark = pytest.mark.usefixtures("alerts_file")


class FakeTI:
    """What a failure callback's ``ti`` offers: ids, try, log URL, the task's upstream ids and their XComs."""

    def __init__(self, task_id: str = "put_and_copy", xcoms: dict | None = None, dag_id: str = "load_small_file"):
        self.dag_id, self.task_id, self.run_id, self.try_number = dag_id, task_id, "manual__1", 2
        self.log_url = LOG_URL
        self.xcoms = xcoms or {}
        self.task = SimpleNamespace(upstream_task_ids=set(self.xcoms))

    def xcom_pull(self, task_ids: str):
        return self.xcoms[task_ids]


def _failed(exc: BaseException) -> AirflowFailException:
    """`exc` as a task raises it for good: ``raise fail(e) from e`` (snowseg.airflow.tasks)."""
    try:
        try:
            raise exc
        except BaseException as inner:
            raise fail(inner) from inner
    except AirflowFailException as outer:
        return outer


def _refused() -> FilesRefused:
    """A refusal as the checks make it (intake.Refusal), raised as the task raises it (intake.refused_error)."""
    error = ("/data/sales.csv: 1 line(s) with bytes that are not valid UTF-8: line 3, column 2 (Branch), character "
             "19; re-save the file as UTF-8")
    refusal = Refusal(path="/data/sales.csv", name="sales.csv", error=error, line=3, column=2, bytes=10, sha256="x",
                      character=19, column_name="BRANCH", rows=120)
    return refused_error([refusal], Names())


def _copy_failed() -> LoadFailed:
    """COPY aborted on a value, as small_file.load_file raises it: the file, the batch and the located error."""
    located = CopyError(message="Numeric value 'x7' is not recognized", file="3ec9ec7ab98dfdef/sales.csv.gz", line=11,
                        character=67, column="QUANTITY")
    return LoadFailed("/data/sales.csv: COPY INTO DB.RAW.SALES_RAW failed, nothing was loaded "
                      f"({located.describe()}). Recorded in DB.AUDIT.LOAD_AUDIT as batch small_file_3ec9.",
                      file="/data/sales.csv", batch_id="small_file_3ec9", error=located, audited=True)


def _gate() -> GateFailed:
    rule = Rule(name="value_set:BRANCH", type="expect_column_values_to_be_in_set", kwargs={}, severity="error")
    verdict = BatchVerdict("small_file_a7c7", "HELD", 200, 20, [RuleResult(rule, False, unexpected_count=20)])
    return GateFailed([verdict], judged=1, run_id="r1", quarantine_share_max=0.05,
                      report_path="/reports/quality/r1/index.html")


def _sensor_failure(pipe: dict, status: str, state: str) -> AirflowFailException:
    """What the Snowpipe sensor raises when its trigger gives up (timeout) or finds the pipe stopped."""
    from snowseg.airflow.sensors import SnowpipeLoadSensor

    sensor = SnowpipeLoadSensor(task_id="wait_for_pipe", pipe=pipe, files=[{"staged_path": "snowpipe_aa/a.csv"}],
                                contract="supermarket", wait_seconds=60)
    try:
        sensor.execute_complete(None, {"status": status, "loads": {}, "pending": ["snowpipe_aa/a.csv"],
                                       "pipe_status": {"executionState": state, "pendingFileCount": 1}})
    except AirflowFailException as e:
        return e
    raise AssertionError("the sensor did not fail")


def _missing() -> AirflowFailException:
    """A file that is not there, as the checks refuse it (InputNotFound, a FileNotFoundError)."""
    from snowseg.loading.checks import check_file

    try:
        check_file("/data/nope.csv", load_contract())
    except FileNotFoundError as e:
        return _failed(e)
    raise AssertionError("the check did not fail")


class Case(NamedTuple):
    exc: BaseException | None
    task_id: str
    xcoms: dict
    kind: str
    summary: str  # the alert's first line, after "<dag>.<task> failed: "
    what_to_do: str  # how "what to do" starts


CASES = [
    pytest.param(Case(_failed(_refused()), "check_file", {}, "file_refused",
                      "sales.csv at line 3, column BRANCH (1 line(s) with bytes that are not valid UTF-8: line 3, "
                      "column 2 (Branch), character 19; re-save the file as UTF-8)",
                      "Fix sales.csv at line 3, column BRANCH (1 line(s) with bytes that are not valid UTF-8: line 3, "
                      "column 2 (Branch), character 19; re-save the file as UTF-8) and load it again with "
                      "load_small_file"), id="refused-by-checks"),
    pytest.param(Case(_failed(_copy_failed()), "put_and_copy", {"check_file": CHECKED}, "file_refused",
                      "sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized)",
                      "Fix sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized) and load it "
                      "again"), id="copy-error"),
    pytest.param(Case(WarehouseUnreachable("Snowflake connection 'snowflake_default' points at 127.0.0.1:8765, which "
                                           "does not answer ([Errno 111] Connection refused). ..."),
                      "put_and_copy", {"check_file": CHECKED}, "warehouse_unreachable",
                      "Snowflake connection 'snowflake_default' unreachable",
                      "Check the Snowflake connection 'snowflake_default' (host/port extras, credentials, network); "
                      "for the local twin run `make twin-up`"), id="warehouse-unreachable"),
    pytest.param(Case(_failed(_gate()), "quality_gate", {}, "quality_gate_held",
                      "batch small_file_a7c7 held (200 rows, 20 quarantined; failed: value_set:BRANCH (20 rows))",
                      "See the quality report /reports/quality/r1/index.html and AUDIT.BATCH_GATE / AUDIT.DQ_RESULTS "
                      "for batch small_file_a7c7 (its file: select FILE_NAME from AUDIT.LOAD_AUDIT where BATCH_ID = "
                      "'small_file_a7c7')"), id="gate-held"),
    pytest.param(Case(_sensor_failure(PIPE, "timeout", "PAUSED"), "wait_for_pipe", {}, "pipe_pending",
                      "files still pending on pipe DB.RAW.SALES_RAW_PIPE (PAUSED)",
                      "The pipe is PAUSED: resume it with ALTER PIPE DB.RAW.SALES_RAW_PIPE SET PIPE_EXECUTION_PAUSED "
                      "= FALSE"), id="pipe-paused"),
    pytest.param(Case(_sensor_failure({"name": "SALES_RAW_PIPE"}, "timeout", "RUNNING"), "wait_for_pipe", {},
                      "pipe_pending", "files still pending on pipe SALES_RAW_PIPE (RUNNING)",
                      "If the pipe is PAUSED, resume it: ALTER PIPE SALES_RAW_PIPE SET PIPE_EXECUTION_PAUSED = FALSE. "
                      "Otherwise check the bucket's event notification"), id="pipe-pending"),
    pytest.param(Case(_sensor_failure(PIPE, "not_running", "STOPPED_FILE_FORMAT_DROPPED"), "wait_for_pipe", {},
                      "pipe_stopped",
                      "pipe DB.RAW.SALES_RAW_PIPE is STOPPED_FILE_FORMAT_DROPPED: it loads nothing until it is fixed",
                      "The pipe stopped because the named file format its COPY uses was dropped or replaced"),
                 id="pipe-stopped"),
    pytest.param(Case(_missing(), "check_file", {}, "input_missing",
                      "/data/nope.csv: no such file (check the file_path parameter)",
                      "Check the run's file/path param: /data/nope.csv: no such file"), id="input-missing"),
    pytest.param(Case(RuntimeError("boom"), "segment", {}, "task_failed", "boom", f"Open the task log: {LOG_URL}"),
                 id="other"),
    pytest.param(Case(None, "segment", {}, "task_failed", "no exception recorded",
                      f"Open the task log: {LOG_URL}"), id="no-exception"),
]


@pytest.mark.parametrize("case", CASES)
def test_each_failure_kind_says_what_to_do(case: Case, alerts_file):
    ti = FakeTI(case.task_id, case.xcoms)
    notifier.SnowsegNotifier()({"ti": ti, "task": ti.task, "exception": case.exc, "run_id": ti.run_id})
    (rec,) = alert_lines(alerts_file)
    assert rec["kind"] == case.kind
    assert rec["summary"].startswith(f"load_small_file.{case.task_id} failed: {case.summary}")
    assert rec["what_to_do"].startswith(case.what_to_do)
    assert (rec["dag_id"], rec["task_id"], rec["run_id"], rec["try_number"]) == (
        "load_small_file", case.task_id, "manual__1", 2)
    assert rec["details"]["log_url"] == LOG_URL and rec["message"].endswith(f"log: {LOG_URL}")


@pytest.mark.parametrize("make", [_refused, _copy_failed, _gate], ids=["refused", "copy-error", "gate-held"])
def test_the_alert_reads_fields_so_rewording_a_message_changes_nothing(make):
    """The task's AirflowFailException text is display only: with any other text, the alert's facts are the same."""
    ti = FakeTI("put_and_copy", {"check_file": CHECKED})
    alert = notifier.failure_alert({"ti": ti, "exception": _failed(make())})
    reworded = _failed(make())
    reworded.args = ("something else entirely",)
    again = notifier.failure_alert({"ti": ti, "exception": reworded})
    facts = {k: v for k, v in alert.details.items() if k != "exception"}
    assert {k: v for k, v in again.details.items() if k != "exception"} == facts
    assert (again.kind, again.message.splitlines()[0]) == (alert.kind, alert.message.splitlines()[0])


def test_a_paused_pipe_alert_carries_the_pipe_the_pending_files_and_the_state():
    alert = notifier.failure_alert({"ti": FakeTI("wait_for_pipe"),
                                    "exception": _sensor_failure(PIPE, "timeout", "PAUSED")})
    assert (alert.details["pipe"], alert.details["pending"], alert.details["execution_state"]) == (
        "DB.RAW.SALES_RAW_PIPE", ["snowpipe_aa/a.csv"], "PAUSED")


def test_a_held_batch_alert_carries_each_held_batch():
    alert = notifier.failure_alert({"ti": FakeTI("quality_gate"), "exception": _failed(_gate())})
    assert alert.details["batches"] == [{"batch_id": "small_file_a7c7", "rows": 200, "quarantined": 20,
                                         "rules": "value_set:BRANCH (20 rows)"}]
    assert alert.details["report"] == "/reports/quality/r1/index.html"


def test_the_checked_files_rows_come_from_the_upstream_xcom():
    ti = FakeTI("put_and_copy", {"check_file": CHECKED})
    alert = notifier.failure_alert({"ti": ti, "exception": _failed(_copy_failed())})
    assert alert.details["files"] == [{"name": "sales.csv", "path": "/data/sales.csv", "rows": 120, "bytes": 15799,
                                       "line": 11, "column": "QUANTITY",
                                       "error": "Numeric value 'x7' is not recognized"}]
    assert "files: sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized) [120 rows, 15,799 " \
           "bytes]" in alert.message


def test_several_refused_files_are_each_located(tmp_path):
    """Two files the real checks refuse (a byte that is not UTF-8 on line 3, a header without a column)."""
    contract = load_contract()
    row = ",".join(["x"] * len(contract.header))
    (tmp_path / "a.csv").write_bytes(f"{','.join(contract.header)}\n{row}\n".encode() + b"x,Caf\xe9,"
                                     + ",".join(["x"] * (len(contract.header) - 2)).encode() + b"\n")
    (tmp_path / "b.csv").write_text(f"{','.join(contract.header[:-1])}\n{row}\n")
    infos, refused = check_inputs([tmp_path / "a.csv", tmp_path / "b.csv"], contract)
    assert infos == []
    alert = notifier.failure_alert({"ti": FakeTI("split_put_copy", dag_id="load_bulk_stage"),
                                    "exception": _failed(refused_error(refused, Names()))})
    assert [(f["name"], f["line"], f["column"]) for f in alert.details["files"]] == [("a.csv", 3, "BRANCH"),
                                                                                     ("b.csv", 1, "RATING")]
    assert alert.details["what_to_do"].startswith(
        "Fix a.csv at line 3, column BRANCH (1 line(s) with bytes that are not valid UTF-8: line 3, column 2 (Branch), "
        "character 6; re-save the file as UTF-8")
    assert "; b.csv at line 1, column RATING (line 1: the header does not match contract" in alert.details["what_to_do"]
    assert "and load it again with load_bulk_stage (a fixed file is a new batch" in alert.details["what_to_do"]


def test_a_connector_that_cannot_reach_snowflake_is_warehouse_unreachable():
    """The connector's own error (errno 250001), not a message we wrote."""
    from snowflake.connector.errors import OperationalError

    error = OperationalError(msg="Could not connect to Snowflake backend after 2 attempt(s).", errno=250001)
    alert = notifier.failure_alert({"ti": FakeTI(), "exception": error})
    assert (alert.kind, alert.details["conn_id"]) == ("warehouse_unreachable", "snowflake_default")


def test_run_level_callback_stays_silent_for_a_task_failure_and_speaks_otherwise(alerts_file):
    run_notifier = notifier.SnowsegNotifier(scope="run")
    run_notifier({"dag": SimpleNamespace(dag_id="load_small_file"), "run_id": "r1", "reason": "task_failure"})
    assert alert_lines(alerts_file) == []
    run_notifier({"dag": SimpleNamespace(dag_id="load_small_file"), "run_id": "r1", "reason": "all_tasks_deadlocked"})
    (rec,) = alert_lines(alerts_file)
    assert (rec["kind"], rec["summary"]) == ("run_failed", "load_small_file run r1 failed: all_tasks_deadlocked")
    assert rec["what_to_do"].endswith("/dags/load_small_file/runs/r1")


def test_notifier_scope_is_checked():
    with pytest.raises(ValueError, match="scope 'dag' is not allowed: use 'task' or 'run'"):
        notifier.SnowsegNotifier(scope="dag")


def test_an_alert_goes_out_even_when_its_details_cannot_be_built(alerts_file):
    class BrokenTI(FakeTI):
        @property
        def task(self):
            raise RuntimeError("no task")

        @task.setter
        def task(self, value):
            pass

    notifier.SnowsegNotifier()({"ti": BrokenTI(), "exception": RuntimeError("boom"), "task": None})
    assert [r["kind"] for r in alert_lines(alerts_file)] == ["task_failed"]


# --- no secrets ---------------------------------------------------------------------------------------------------


def test_no_connection_secret_reaches_any_channel(monkeypatch, alerts_file):
    """A password and a private key in the Snowflake connection, and an AWS secret, echoed by an error: all masked."""
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", json.dumps({
        "conn_type": "snowflake", "login": "svc", "password": PASSWORD,
        "extra": {"account": "acct", "private_key_content": KEY, "role": "SNOWSEG_ROLE"}}))
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({
        "conn_type": "aws", "login": "AKIAEXAMPLE", "password": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
        "extra": {"aws_session_token": "FwoGZXIvYXdzEJr//////////wEaDH"}}))
    sent = []
    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER",
                       json.dumps({"class": f"{RecordingNotifier.__module__}.RecordingNotifier"}))
    monkeypatch.setattr(RecordingNotifier, "sent", sent)
    exc = RuntimeError(f"login failed for snowflake://svc:{PASSWORD}@acct/SNOWSEG (password={PASSWORD}); key {KEY}; "
                       "aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCY token FwoGZXIvYXdzEJr//////////wEaDH")
    notifier.SnowsegNotifier()({"ti": FakeTI("put_and_copy", {"check_file": {**CHECKED, "password": PASSWORD}}),
                              "exception": exc})
    written = alerts_file.read_text()
    for secret in (PASSWORD, "MIIFHzBJBgkqhkiG9w0BBQ0w", "wJalrXUtnFEMI", "FwoGZXIvYXdzEJr"):
        assert secret not in written and secret not in sent[0]["text"]
    (rec,) = alert_lines(alerts_file)
    assert "snowflake://svc:***@acct/SNOWSEG" in rec["details"]["exception"]
    assert rec["details"]["files"][0]["rows"] == 120  # the rest of the facts survive


