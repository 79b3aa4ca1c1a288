"""Alert messages: each failure kind gets its "what to do", the file/line/column and rows are named, no secret leaks,
the channels are chosen by environment, and the deadline findings alert once per window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from airflow.sdk.exceptions import AirflowFailException

from snowseg import alerts
from snowseg.loading.common import LoadFailed
from snowseg.quality.gate import BatchVerdict, GateFailed, RuleResult
from snowseg.quality.suite import Rule
from snowseg.warehouse import WarehouseUnreachable

PASSWORD = "Sup3r-S3cret-Passw0rd"
KEY = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----"
LOG_URL = "http://localhost:8080/dags/load_small_file/runs/manual__1/tasks/put_and_copy?try_number=2"
CHECKED = {"path": "/data/sales.csv", "name": "sales.csv", "bytes": 15799, "sha256": "ab" * 32, "rows": 120,
           "has_bom": False}


@pytest.fixture(autouse=True)
def alerts_file(tmp_path, monkeypatch):
    path = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", str(path))
    for var in ("SNOWSEG_ALERT_SMTP_TO", "SNOWSEG_ALERT_NOTIFIER", "SNOWSEG_ALERT_REPEAT_HOURS"):
        monkeypatch.delenv(var, raising=False)
    return path


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class FakeTI:
    """What a failure callback's ``ti`` offers: ids, try, log URL, the task's upstream ids and their XComs."""

    def __init__(self, task_id: str = "put_and_copy", xcoms: dict | None = None, dag_id: str = "load_small_file"):
        self.dag_id, self.task_id, self.run_id, self.try_number = dag_id, task_id, "manual__1", 2
        self.log_url = LOG_URL
        self.xcoms = xcoms or {}
        self.task = SimpleNamespace(upstream_task_ids=set(self.xcoms))

    def xcom_pull(self, task_ids: str):
        return self.xcoms[task_ids]


def _raised(exc: BaseException) -> AirflowFailException:
    """`exc` as the DAG tasks raise it: AirflowFailException(str(e)) from e."""
    try:
        try:
            raise exc
        except BaseException as inner:
            raise AirflowFailException(str(inner)) from inner
    except AirflowFailException as outer:
        return outer


def _refused() -> BaseException:
    """A refusal as the checks raise it (intake.FilesRefused): the alert reads its typed fields, not its text."""
    from snowseg.loading.intake import FilesRefused, Refusal

    error = ("/data/sales.csv: 1 line(s) with bytes that are not valid UTF-8: line 3, column 2 (Branch), character "
             "19; re-save the file as UTF-8")
    refusal = Refusal(path="/data/sales.csv", name="sales.csv", error=error, line=3, column=2, bytes=10, sha256="x",
                      character=19, column_name="BRANCH", rows=120)
    return FilesRefused("1 file(s) refused (nothing loaded from them; recorded in AUDIT.LOAD_AUDIT as REFUSED):\n  - "
                        + error, refusals=[refusal])


def _copy_failed() -> BaseException:
    return LoadFailed("/data/sales.csv: COPY INTO DB.RAW.SALES_RAW failed, nothing was loaded (file "
                      "3ec9ec7ab98dfdef/sales.csv.gz, line 11, character 67, column QUANTITY: 100038 (22018): "
                      "Numeric value 'x7' is not recognized). Recorded in DB.AUDIT.LOAD_AUDIT as batch small_file_3ec9.")


def _gate() -> BaseException:
    rule = Rule(name="value_set:BRANCH", type="expect_column_values_to_be_in_set", kwargs={}, severity="error")
    verdict = BatchVerdict("small_file_a7c7", "HELD", 200, 20, [RuleResult(rule, False, unexpected_count=20)])
    return GateFailed("1 of 1 new batch(es) held back by the quality gate (quarantine share max 5%):\n  - "
                      + verdict.describe() + "\nDetails: AUDIT.DQ_RESULTS (run r1), report "
                      "file:///reports/quality/r1/index.html. A held batch stays held.")


def _pipe_timeout(state: str) -> BaseException:
    from snowseg.sensors import SnowpipeLoadSensor

    sensor = SnowpipeLoadSensor(task_id="wait_for_pipe", pipe={"name": "SALES_RAW_PIPE"},
                                files=[{"staged_path": "snowpipe_aa/a.csv"}], contract="supermarket", max_wait=60)
    try:
        sensor.execute_complete(None, {"status": "timeout", "loads": {}, "pending": ["snowpipe_aa/a.csv"],
                                       "pipe_status": {"executionState": state, "pendingFileCount": 1}})
    except AirflowFailException as e:
        return e
    raise AssertionError("the sensor did not fail")


def _pipe_stopped() -> BaseException:
    from snowseg.sensors import SnowpipeLoadSensor

    sensor = SnowpipeLoadSensor(task_id="wait_for_pipe", pipe={"database": "DB", "schema": "RAW",
                                                               "name": "SALES_RAW_PIPE"},
                                files=[{"staged_path": "snowpipe_aa/a.csv"}], contract="supermarket", max_wait=60)
    try:
        sensor.execute_complete(None, {"status": "not_running", "loads": {}, "pending": ["snowpipe_aa/a.csv"],
                                       "pipe_status": {"executionState": "STOPPED_FILE_FORMAT_DROPPED",
                                                       "pendingFileCount": 1}})
    except AirflowFailException as e:
        return e
    raise AssertionError("the sensor did not fail")


class Case(NamedTuple):
    exc: BaseException | None
    task_id: str
    xcoms: dict
    kind: str
    summary: str  # the alert's first line, after "<dag>.<task> failed: "
    what_to_do: str  # how "what to do" starts


CASES = [
    pytest.param(Case(_raised(_refused()), "check_file", {}, "file_refused",
                      "sales.csv at line 3, column BRANCH (1 line(s) with bytes that are not valid UTF-8: line 3, "
                      "column 2 (Branch), character 19; re-save the file as UTF-8)",
                      "Fix sales.csv at line 3, column BRANCH (1 line(s) with bytes that are not valid UTF-8: line 3, "
                      "column 2 (Branch), character 19; re-save the file as UTF-8) and load it again with "
                      "load_small_file"), id="refused-by-checks"),
    pytest.param(Case(_raised(_copy_failed()), "put_and_copy", {"check_file": CHECKED}, "file_refused",
                      "sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized)",
                      "Fix sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized) and load it "
                      "again"), id="copy-error"),
    pytest.param(Case(WarehouseUnreachable("Snowflake connection 'snowflake_default' points at 127.0.0.1:8765, which "
                                           "does not answer ([Errno 111] Connection refused). ..."),
                      "put_and_copy", {"check_file": CHECKED}, "warehouse_unreachable",
                      "Snowflake connection 'snowflake_default' unreachable",
                      "Check the Snowflake connection 'snowflake_default' (host/port extras, credentials, network); "
                      "for the local twin run `make twin-up`"), id="warehouse-unreachable"),
    pytest.param(Case(_raised(_gate()), "quality_gate", {}, "quality_gate_held",
                      "batch small_file_a7c7 held (200 rows, 20 quarantined; failed: value_set:BRANCH (20 rows))",
                      "See the quality report /reports/quality/r1/index.html and AUDIT.BATCH_GATE / AUDIT.DQ_RESULTS "
                      "for batch small_file_a7c7 (its file: select FILE_NAME from AUDIT.LOAD_AUDIT where BATCH_ID = "
                      "'small_file_a7c7')"), id="gate-held"),
    pytest.param(Case(_pipe_timeout("PAUSED"), "wait_for_pipe",
                      {"prepare_pipe": {"database": "DB", "schema": "RAW", "name": "SALES_RAW_PIPE",
                                        "notification_channel": "arn:x"}}, "pipe_pending",
                      "files still pending on pipe DB.RAW.SALES_RAW_PIPE (PAUSED)",
                      "The pipe is PAUSED: resume it with ALTER PIPE DB.RAW.SALES_RAW_PIPE SET PIPE_EXECUTION_PAUSED "
                      "= FALSE"), id="pipe-paused"),
    pytest.param(Case(_pipe_timeout("RUNNING"), "wait_for_pipe", {}, "pipe_pending",
                      "files still pending on pipe SALES_RAW_PIPE (RUNNING)",
                      "If the pipe is PAUSED, resume it: ALTER PIPE SALES_RAW_PIPE SET PIPE_EXECUTION_PAUSED = FALSE. "
                      "Otherwise check the bucket's event notification"), id="pipe-pending"),
    pytest.param(Case(_pipe_stopped(), "wait_for_pipe", {}, "pipe_stopped",
                      "pipe DB.RAW.SALES_RAW_PIPE is STOPPED_FILE_FORMAT_DROPPED: it loads nothing until it is fixed",
                      "The pipe stopped because the named file format its COPY uses was dropped or replaced"),
                 id="pipe-stopped"),
    pytest.param(Case(_raised(FileNotFoundError("/data/nope.csv: no such file (check the file_path parameter)")),
                      "check_file", {}, "input_missing", "/data/nope.csv: no such file (check the file_path parameter)",
                      "Check the run's file/path param: /data/nope.csv: no such file"), id="input-missing"),
    pytest.param(Case(RuntimeError("boom"), "segment", {}, "task_failed", "boom", f"Open the task log: {LOG_URL}"),
                 id="other"),
    pytest.param(Case(None, "segment", {}, "task_failed", "no exception recorded",
                      f"Open the task log: {LOG_URL}"), id="no-exception"),
]


@pytest.mark.parametrize("case", CASES)
def test_each_failure_kind_says_what_to_do(case: Case, alerts_file):
    ti = FakeTI(case.task_id, case.xcoms)
    alerts.SnowsegNotifier()({"ti": ti, "task": ti.task, "exception": case.exc, "run_id": ti.run_id})
    (rec,) = _lines(alerts_file)
    assert rec["kind"] == case.kind
    assert rec["summary"].startswith(f"load_small_file.{case.task_id} failed: {case.summary}")
    assert rec["what_to_do"].startswith(case.what_to_do)
    assert (rec["dag_id"], rec["task_id"], rec["run_id"], rec["try_number"]) == (
        "load_small_file", case.task_id, "manual__1", 2)
    assert rec["details"]["log_url"] == LOG_URL and rec["message"].endswith(f"log: {LOG_URL}")


def test_the_checked_files_rows_come_from_the_upstream_xcom():
    ti = FakeTI("put_and_copy", {"check_file": CHECKED})
    alert = alerts.failure_alert({"ti": ti, "exception": _raised(_copy_failed())})
    assert alert.details["files"] == [{"name": "sales.csv", "path": "/data/sales.csv", "rows": 120, "bytes": 15799,
                                       "line": 11, "column": "QUANTITY",
                                       "error": "Numeric value 'x7' is not recognized"}]
    assert "files: sales.csv at line 11, column QUANTITY (Numeric value 'x7' is not recognized) [120 rows, 15,799 " \
           "bytes]" in alert.message


def test_several_refused_files_are_each_located():
    refused = ("2 file(s) refused (nothing loaded from them; recorded in AUDIT.LOAD_AUDIT as REFUSED):\n"
               "  - /d/a.csv: line 3, column 5: byte 0xE9 is not valid UTF-8; re-save the file as UTF-8\n"
               "  - /d/b.csv: line 21, column 18: record 20 has 18 fields, expected 17 (A); fix the row")
    alert = alerts.failure_alert({"ti": FakeTI("split_put_copy", dag_id="load_bulk_stage"),
                                  "exception": AirflowFailException(refused)})
    assert [(f["name"], f["line"], f["column"]) for f in alert.details["files"]] == [("a.csv", 3, "5"),
                                                                                     ("b.csv", 21, "18")]
    assert alert.details["what_to_do"].startswith(
        "Fix a.csv at line 3, column 5 (byte 0xE9 is not valid UTF-8); b.csv at line 21, column 18 (record 20 has "
        "18 fields, expected 17 (A)) and load it again with load_bulk_stage")


def test_run_level_callback_stays_silent_for_a_task_failure_and_speaks_otherwise(alerts_file):
    notifier = alerts.SnowsegNotifier(scope="run")
    notifier({"dag": SimpleNamespace(dag_id="load_small_file"), "run_id": "r1", "reason": "task_failure"})
    assert _lines(alerts_file) == []
    notifier({"dag": SimpleNamespace(dag_id="load_small_file"), "run_id": "r1", "reason": "all_tasks_deadlocked"})
    (rec,) = _lines(alerts_file)
    assert (rec["kind"], rec["summary"]) == ("run_failed", "load_small_file run r1 failed: all_tasks_deadlocked")
    assert rec["what_to_do"].endswith("/dags/load_small_file/runs/r1")


def test_notifier_scope_is_checked():
    with pytest.raises(ValueError, match="scope 'dag' is not allowed: use 'task' or 'run'"):
        alerts.SnowsegNotifier(scope="dag")


def test_an_alert_goes_out_even_when_its_details_cannot_be_built(alerts_file):
    class BrokenTI(FakeTI):
        @property
        def task(self):
            raise RuntimeError("no task")

        @task.setter
        def task(self, value):
            pass

    alerts.SnowsegNotifier()({"ti": BrokenTI(), "exception": RuntimeError("boom"), "task": None})
    assert [r["kind"] for r in _lines(alerts_file)] == ["task_failed"]


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
    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER", json.dumps({"class": f"{__name__}.RecordingNotifier"}))
    monkeypatch.setattr(RecordingNotifier, "sent", sent)
    exc = RuntimeError(f"login failed for snowflake://svc:{PASSWORD}@acct/SNOWSEG (password={PASSWORD}); key {KEY}; "
                       "aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCY token FwoGZXIvYXdzEJr//////////wEaDH")
    alerts.SnowsegNotifier()({"ti": FakeTI("put_and_copy", {"check_file": {**CHECKED, "password": PASSWORD}}),
                              "exception": exc})
    written = alerts_file.read_text()
    for secret in (PASSWORD, "MIIFHzBJBgkqhkiG9w0BBQ0w", "wJalrXUtnFEMI", "FwoGZXIvYXdzEJr"):
        assert secret not in written and secret not in sent[0]["text"]
    (rec,) = _lines(alerts_file)
    assert "snowflake://svc:***@acct/SNOWSEG" in rec["details"]["exception"]
    assert rec["details"]["files"][0]["rows"] == 120  # the rest of the facts survive


# --- channels -----------------------------------------------------------------------------------------------------


class RecordingNotifier:
    """Stands in for a provider notifier (Slack, Apprise...): takes its message through a constructor field."""

    sent: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def notify(self, context):
        if self.kwargs.get("fail"):
            raise ConnectionError("webhook https://hooks.example/T0/B0/abc refused")
        self.sent.append(self.kwargs)


def test_default_channel_is_a_jsonl_file_under_airflow_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SNOWSEG_ALERTS_FILE")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    rec = alerts.send_alert("task_failed", "a.b failed: boom\nmore", {"dag_id": "a", "what_to_do": "look"})
    path = tmp_path / "home" / "snowseg_alerts.jsonl"
    assert _lines(path) == [rec]
    assert (rec["summary"], rec["dag_id"], rec["what_to_do"], rec["delivered"]) == (
        "a.b failed: boom", "a", "look", {"file": str(path)})


def test_smtp_channel_when_configured(monkeypatch, alerts_file):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    mails = []
    monkeypatch.setattr(SmtpNotifier, "notify", lambda self, context: mails.append(self))
    monkeypatch.setenv("SNOWSEG_ALERT_SMTP_TO", "data@example.com, oncall@example.com")
    monkeypatch.setenv("SNOWSEG_ALERT_SMTP_FROM", "snowseg@example.com")
    rec = alerts.send_alert("pipe_pending", "pipe P stuck <1 file>", {"what_to_do": "resume {it}"})
    (mail,) = mails
    assert mail.to == ["data@example.com", "oncall@example.com"] and mail.from_email == "snowseg@example.com"
    assert mail.subject == "[snowseg] pipe P stuck <1 file>"
    assert mail.html_content == "<pre>pipe P stuck &lt;1 file&gt;\n\nWhat to do: resume {it}</pre>"
    assert rec["delivered"]["smtp"] == "ok" and _lines(alerts_file)[0]["delivered"]["smtp"] == "ok"


def test_provider_notifier_channel_and_a_failing_channel_never_lose_the_alert(monkeypatch, alerts_file):
    sent = []
    monkeypatch.setattr(RecordingNotifier, "sent", sent)
    spec = {"class": f"{__name__}.RecordingNotifier", "kwargs": {"channel": "#loads"}, "message_field": "body"}
    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER", json.dumps(spec))
    alerts.send_alert("landing_stale", "a.csv waits", {"what_to_do": "load it"})
    assert sent == [{"channel": "#loads", "body": "a.csv waits\nWhat to do: load it"}]

    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER", json.dumps({**spec, "kwargs": {"fail": True}}))
    rec = alerts.send_alert("landing_stale", "b.csv waits", {})
    assert rec["delivered"]["notifier"].startswith("failed: webhook")
    assert [r["summary"] for r in _lines(alerts_file)] == ["a.csv waits", "b.csv waits"]


# --- deadlines ----------------------------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LANDING = SimpleNamespace(url="s3://snowseg-landing/sales/", bucket="snowseg-landing", prefix="sales/")
OBJ = {"Key": "sales/snowpipe_ab/a.csv", "Size": 2048, "ETag": '"e1"', "LastModified": NOW - timedelta(minutes=40)}
RUNNING = {"executionState": "RUNNING", "pendingFileCount": 0}


class Hint(NamedTuple):
    load: dict | None
    pipe_state: dict | None
    starts: str


@pytest.mark.parametrize("hint", [
    pytest.param(Hint(None, None, "There is no pipe DB.RAW.P: load the file with load_s3_snowpipe"), id="no-pipe"),
    pytest.param(Hint({"status": "LOADED", "rows_loaded": 80}, RUNNING,
                      "The pipe loaded it (80 rows) but no load_s3_snowpipe run accounted for it: re-run"), id="loaded"),
    pytest.param(Hint({"status": "LOAD_FAILED", "first_error": "Numeric value 'x7' is not recognized",
                       "first_error_line": 11}, RUNNING,
                      "The pipe skipped it (Numeric value 'x7' is not recognized at line 11): re-run"), id="skipped"),
    pytest.param(Hint(None, {"executionState": "PAUSED", "pendingFileCount": 1},
                      "The pipe has not loaded it. The pipe is PAUSED: resume it with ALTER PIPE DB.RAW.P"), id="paused"),
    pytest.param(Hint(None, {"executionState": "STOPPED_FILE_FORMAT_DROPPED", "pendingFileCount": 1},
                      "The pipe has not loaded it. The pipe stopped because the named file format its COPY uses was "
                      "dropped or replaced"), id="stopped"),
    pytest.param(Hint(None, RUNNING, "The pipe has no finished load of it: if it is pending, see "
                                     "SYSTEM$PIPE_STATUS('DB.RAW.P'); if the pipe never heard of it, check the bucket "
                                     "notification"), id="never-seen"),
])
def test_a_stale_landing_file_is_named_with_age_size_and_what_to_do(hint: Hint):
    (f,) = alerts.stale_landing_files([OBJ], LANDING, set(), minutes=30, now=NOW, pipe="DB.RAW.P",
                                      loads={"snowpipe_ab/a.csv": hint.load} if hint.load else {},
                                      pipe_state=hint.pipe_state)
    assert f.key == 'landing_stale:s3://snowseg-landing/sales/snowpipe_ab/a.csv:e1'
    assert (f.details["file"], f.details["age_minutes"], f.details["bytes"]) == ("a.csv", 40.0, 2048)
    assert f.message.startswith("a.csv has waited 40 min in the landing area with no LOAD_AUDIT row "
                                "(s3://snowseg-landing/sales/snowpipe_ab/a.csv, 2,048 bytes")
    assert f.details["what_to_do"].startswith(hint.starts)


def test_audited_or_young_landing_files_are_not_findings():
    young = {**OBJ, "Key": "sales/snowpipe_cd/b.csv", "LastModified": NOW - timedelta(minutes=5)}
    assert alerts.stale_landing_files([OBJ, young], LANDING, {"snowpipe_ab/a.csv"}, minutes=30, now=NOW,
                                      pipe="P") == []


@pytest.mark.parametrize(("status", "minutes", "found"), [
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 0}, 0, False, id="nothing-pending"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 3,
                  "oldestFileTimestamp": "2026-01-01T11:50:00.000Z"}, 15, False, id="pending-but-young"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 3,
                  "oldestFileTimestamp": "2026-01-01T11:40:00.000Z"}, 15, True, id="pending-too-long"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1,
                  "lastIngestedTimestamp": "2026-01-01T10:00:00.000Z"}, 15, True, id="no-oldest-timestamp"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1}, 0, False, id="undatable"),
    # the docs leave the timestamps' form open ("oldestFileTimestamp":<value>, unquoted): each form dates the wait
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1, "oldestFileTimestamp": 1767267600000}, 15,
                 True, id="epoch-milliseconds"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1, "oldestFileTimestamp": "1767267600"}, 15,
                 True, id="epoch-seconds-text"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1,
                  "oldestFileTimestamp": "2026-01-01 03:50:00.123456789 -0800"}, 15, False, id="offset-nanoseconds"),
    pytest.param({"executionState": "RUNNING", "pendingFileCount": 1,
                  "oldestFileTimestamp": "2026-01-01T11:40:00"}, 15, True, id="no-zone-is-utc"),
])
def test_pipe_pending_deadline(status, minutes, found):
    f = alerts.pipe_pending_finding("DB.RAW.P", status, minutes=minutes, now=NOW)
    assert (f is not None) == found
    if f:
        assert f.details["what_to_do"].startswith("If the pipe is PAUSED, resume it: ALTER PIPE DB.RAW.P")


class MemoryState:
    def __init__(self):
        self.saved: dict = {}
        self.saves = 0

    def load(self):
        return dict(self.saved)

    def save(self, state):
        self.saved, self.saves = dict(state), self.saves + 1


def test_a_finding_alerts_once_per_window_then_again(alerts_file):
    (f,) = alerts.stale_landing_files([OBJ], LANDING, set(), minutes=30, now=NOW, pipe="DB.RAW.P")
    state = MemoryState()
    assert alerts.alert_new([f], state, now=NOW, window=timedelta(hours=24))["alerted"] == [f.key]
    again = alerts.alert_new([f.to_dict()], state, now=NOW + timedelta(hours=23), window=timedelta(hours=24))
    assert (again["alerted"], again["suppressed"], state.saves) == ([], [f.key], 1)
    later = alerts.alert_new([f], state, now=NOW + timedelta(hours=25), window=timedelta(hours=24))
    assert later["alerted"] == [f.key]
    recs = _lines(alerts_file)
    assert [r["kind"] for r in recs] == ["landing_stale", "landing_stale"]
    assert recs[0]["details"]["key"] == f.key and recs[0]["details"]["file"] == "a.csv"


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("2026-01-01T11:40:00.000Z", "2026-01-01T11:40:00+00:00", id="iso-z-millis"),
    pytest.param("2026-01-01T11:40:00Z", "2026-01-01T11:40:00+00:00", id="iso-z"),
    pytest.param("2026-01-01T11:40:00.123456789+00:00", "2026-01-01T11:40:00.123456+00:00", id="nanoseconds"),
    pytest.param("2026-01-01 03:40:00.000 -0800", "2026-01-01T11:40:00+00:00", id="space-compact-offset"),
    pytest.param("2026-01-01 11:40:00 UTC", "2026-01-01T11:40:00+00:00", id="utc-word"),
    pytest.param("2026-01-01T11:40:00", "2026-01-01T11:40:00+00:00", id="no-zone"),
    pytest.param(1767267600, "2026-01-01T11:40:00+00:00", id="epoch-seconds"),
    pytest.param(1767267600000, "2026-01-01T11:40:00+00:00", id="epoch-millis"),
    pytest.param("1767267600000000", "2026-01-01T11:40:00+00:00", id="epoch-micros-text"),
    pytest.param(1767267600000000000, "2026-01-01T11:40:00+00:00", id="epoch-nanos"),
])
def test_pipe_status_timestamps_in_every_documented_form(value, expected):
    from snowseg.loading.pipe_states import parse_timestamp

    assert parse_timestamp(value).astimezone(UTC).isoformat() == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", True, "2026-13-01T00:00:00Z"])
def test_a_pipe_status_timestamp_that_is_none_of_them_is_named(value):
    from snowseg.loading.pipe_states import parse_timestamp

    with pytest.raises(ValueError, match=r"pipe status timestamp .* is not a timestamp"):
        parse_timestamp(value)


class StateFinding(NamedTuple):
    status: dict
    key: str | None
    what_to_do: str


@pytest.mark.parametrize("case", [
    pytest.param(StateFinding({"executionState": "STOPPED_FILE_FORMAT_DROPPED", "pendingFileCount": 0,
                               "error": "The file format DB.RAW.F was replaced"},
                              "pipe_stopped:DB.RAW.P:STOPPED_FILE_FORMAT_DROPPED",
                              "The pipe stopped because the named file format its COPY uses"), id="file-format"),
    pytest.param(StateFinding({"executionState": "STALLED_STAGE_PERMISSION_ERROR", "pendingFileCount": 4},
                              "pipe_stopped:DB.RAW.P:STALLED_STAGE_PERMISSION_ERROR",
                              "Snowpipe cannot run the pipe's COPY (STALLED_STAGE_PERMISSION_ERROR)"), id="stalled"),
    pytest.param(StateFinding({"executionState": "READ_ONLY", "pendingFileCount": 0}, "pipe_stopped:DB.RAW.P:READ_ONLY",
                              "The pipe is READ_ONLY"), id="read-only"),
    pytest.param(StateFinding({"executionState": "PAUSED", "pendingFileCount": 9}, None, ""), id="paused-waits"),
    pytest.param(StateFinding({"executionState": "RUNNING", "pendingFileCount": 9}, None, ""), id="running"),
])
def test_a_pipe_that_loads_nothing_is_a_finding_at_once(case: StateFinding):
    f = alerts.pipe_state_finding("DB.RAW.P", case.status)
    assert (f.key if f else None) == case.key
    if f:
        assert f.details["what_to_do"].startswith(case.what_to_do)
        assert f.details["execution_state"] == case.status["executionState"]
        assert f.message.startswith(f"pipe DB.RAW.P is {case.status['executionState']}: it loads nothing")
