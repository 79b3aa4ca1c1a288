"""Load deadlines: stale landing files and pending or stopped pipes become findings with what to do, each alerted
once per window; the pipe status's timestamps are read in every documented form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from snowseg.alerting import watch
from tests.unit.conftest import alert_lines

pytestmark = pytest.mark.usefixtures("alerts_file")


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
                                     "SYSTEM$PIPE_STATUS('DB.RAW.P'); if the pipe never heard of it, check the "
                                     "bucket's event notification to the pipe's channel (notify=auto) or the "
                                     "insertFiles call (notify=rest), or queue the files with ALTER PIPE DB.RAW.P "
                                     "REFRESH PREFIX = 'snowpipe_ab/'"), id="never-seen"),
])
def test_a_stale_landing_file_is_named_with_age_size_and_what_to_do(hint: Hint):
    (f,) = watch.stale_landing_files([OBJ], LANDING, set(), minutes=30, now=NOW, pipe="DB.RAW.P",
                                      loads={"snowpipe_ab/a.csv": hint.load} if hint.load else {},
                                      pipe_state=hint.pipe_state)
    assert f.key == 'landing_stale:s3://snowseg-landing/sales/snowpipe_ab/a.csv:e1'
    assert (f.details["file"], f.details["age_minutes"], f.details["bytes"]) == ("a.csv", 40.0, 2048)
    assert f.message.startswith("a.csv has waited 40 min in the landing area with no LOAD_AUDIT row "
                                "(s3://snowseg-landing/sales/snowpipe_ab/a.csv, 2,048 bytes")
    assert f.details["what_to_do"].startswith(hint.starts)


def test_audited_or_young_landing_files_are_not_findings():
    young = {**OBJ, "Key": "sales/snowpipe_cd/b.csv", "LastModified": NOW - timedelta(minutes=5)}
    assert watch.stale_landing_files([OBJ, young], LANDING, {"snowpipe_ab/a.csv"}, minutes=30, now=NOW,
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
    f = watch.pipe_pending_finding("DB.RAW.P", status, minutes=minutes, now=NOW)
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
    (f,) = watch.stale_landing_files([OBJ], LANDING, set(), minutes=30, now=NOW, pipe="DB.RAW.P")
    state = MemoryState()
    assert watch.alert_new([f], state, now=NOW, window=timedelta(hours=24))["alerted"] == [f.key]
    again = watch.alert_new([f.to_dict()], state, now=NOW + timedelta(hours=23), window=timedelta(hours=24))
    assert (again["alerted"], again["suppressed"], state.saves) == ([], [f.key], 1)
    later = watch.alert_new([f], state, now=NOW + timedelta(hours=25), window=timedelta(hours=24))
    assert later["alerted"] == [f.key]
    recs = alert_lines(alerts_file)
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
    f = watch.pipe_state_finding("DB.RAW.P", case.status)
    assert (f.key if f else None) == case.key
    if f:
        assert f.details["what_to_do"].startswith(case.what_to_do)
        assert f.details["execution_state"] == case.status["executionState"]
        assert f.message.startswith(f"pipe DB.RAW.P is {case.status['executionState']}: it loads nothing")
