"""What the Snowpipe sensor tells an engineer when it gives up, and what it hands downstream."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from airflow.sdk.exceptions import AirflowFailException

from snowseg.airflow.sensors import SnowpipeLoadSensor, SnowpipeLoadTrigger

PIPE = {"database": "DB", "schema": "RAW", "name": "SALES_RAW_PIPE", "notification_channel": "arn:aws:sqs:x"}
FILES = [{"staged_path": "snowpipe_aa/a.csv"}, {"staged_path": "snowpipe_bb/b.csv"}]


def _sensor() -> SnowpipeLoadSensor:
    return SnowpipeLoadSensor(task_id="wait", pipe=PIPE, files=FILES, contract="supermarket", wait_seconds=60)


def test_timeout_on_a_paused_pipe_names_the_files_and_says_resume():
    from snowseg.loading.pipe_states import PipeFilesPending

    event = {"status": "timeout", "loads": {}, "pending": ["snowpipe_aa/a.csv", "snowpipe_bb/b.csv"],
             "pipe_status": {"executionState": "PAUSED", "pendingFileCount": 2}}
    with pytest.raises(AirflowFailException) as e:
        _sensor().execute_complete(context=None, event=event)
    error = e.value.__cause__
    assert isinstance(error, PipeFilesPending)
    assert (error.pipe, error.pending, error.total, error.waited_seconds, error.state) == (
        "DB.RAW.SALES_RAW_PIPE", ["snowpipe_aa/a.csv", "snowpipe_bb/b.csv"], 2, 60.0, "PAUSED")
    assert error.what_to_do.startswith("The pipe is PAUSED: resume it with ALTER PIPE DB.RAW.SALES_RAW_PIPE SET "
                                       "PIPE_EXECUTION_PAUSED = FALSE")
    msg = str(e.value)  # what the task log and the UI show
    assert msg.startswith("2 of 2 files not loaded by pipe DB.RAW.SALES_RAW_PIPE after 60s: ['snowpipe_aa/a.csv', "
                          "'snowpipe_bb/b.csv']")
    assert msg.endswith(f"What to do: {error.what_to_do}")


def test_timeout_on_a_running_pipe_points_at_the_notification():
    from snowseg.loading.pipe_states import PipeFilesPending

    event = {"status": "timeout", "loads": {}, "pending": ["snowpipe_bb/b.csv"],
             "pipe_status": {"executionState": "RUNNING", "pendingFileCount": 0}}
    with pytest.raises(AirflowFailException, match=r"1 of 2 files not loaded") as e:
        _sensor().execute_complete(context=None, event=event)
    error = e.value.__cause__
    assert isinstance(error, PipeFilesPending) and error.state == "RUNNING"
    assert "the bucket's event notification to the pipe's channel (notify=auto)" in error.what_to_do
    assert "ALTER PIPE DB.RAW.SALES_RAW_PIPE REFRESH PREFIX = '<folder>/'" in error.what_to_do


def test_done_returns_the_outcomes_by_staged_path():
    loads = {"snowpipe_aa/a.csv": {"status": "LOADED", "first_error": None, "first_error_line": None,
                                   "first_error_column": None}}
    assert _sensor().execute_complete(context=None, event={"status": "done", "loads": loads, "pending": []}) == loads


def test_trigger_serializes_to_its_own_classpath_and_kwargs():
    trigger = SnowpipeLoadTrigger(None, "DB", "supermarket", "", PIPE, ["snowpipe_aa/a.csv"], deadline=123.0)
    path, kwargs = trigger.serialize()
    assert path == "snowseg.airflow.sensors.SnowpipeLoadTrigger"
    assert SnowpipeLoadTrigger(**kwargs).serialize() == (path, kwargs)


STOPPED = {"executionState": "STOPPED_FILE_FORMAT_DROPPED", "pendingFileCount": 2,
           "error": "The file format DB.RAW.SALES_RAW_CSV that the pipe's COPY uses was replaced"}


class StateCase(NamedTuple):
    status: dict
    fires: str | None  # the trigger's event at once, or None: it keeps polling


STATE_CASES = [
    pytest.param(StateCase(STOPPED, "not_running"), id="stopped-file-format"),
    pytest.param(StateCase({"executionState": "STOPPED_STAGE_DROPPED", "pendingFileCount": 1}, "not_running"),
                 id="stopped-stage"),
    pytest.param(StateCase({"executionState": "STALLED_EXECUTION_ERROR", "pendingFileCount": 1}, "not_running"),
                 id="stalled"),
    pytest.param(StateCase({"executionState": "READ_ONLY", "pendingFileCount": 0}, "not_running"), id="read-only"),
    pytest.param(StateCase({"executionState": "RUNNING", "pendingFileCount": 1}, None), id="running"),
    pytest.param(StateCase({"executionState": "PAUSED", "pendingFileCount": 2}, None), id="paused-is-waited-for"),
    pytest.param(StateCase({"executionState": "FAILING_OVER", "pendingFileCount": 2}, None), id="failing-over"),
]


@pytest.mark.parametrize("case", STATE_CASES)
def test_the_trigger_gives_up_at_once_on_a_pipe_that_loads_nothing(monkeypatch, case: StateCase):
    import asyncio
    import time

    from snowseg.airflow import sensors

    looks = []

    def check(*_args):
        looks.append(1)
        return {"loads": {}, "pending": ["snowpipe_aa/a.csv"], "pipe_status": case.status}

    monkeypatch.setattr(sensors, "_check", check)
    trigger = SnowpipeLoadTrigger(None, "DB", "supermarket", "", PIPE, ["snowpipe_aa/a.csv"],
                                  deadline=time.time() + 0.3, poll_interval=0.05)

    async def first_event():
        async for event in trigger.run():
            return event.payload

    event = asyncio.run(first_event())
    assert event["status"] == (case.fires or "timeout")
    assert (len(looks) == 1) == (case.fires is not None)


def test_a_stopped_pipe_fails_the_sensor_with_the_state_the_error_and_the_fix():
    from snowseg.loading.pipe_states import PipeNotRunning

    event = {"status": "not_running", "loads": {}, "pending": ["snowpipe_aa/a.csv"], "pipe_status": STOPPED}
    with pytest.raises(AirflowFailException) as e:
        _sensor().execute_complete(context=None, event=event)
    error = e.value.__cause__
    assert isinstance(error, PipeNotRunning)
    assert (error.pipe, error.state, error.pending_files, error.error) == (
        "DB.RAW.SALES_RAW_PIPE", "STOPPED_FILE_FORMAT_DROPPED", 2, STOPPED["error"])
    assert error.command.startswith("The pipe stopped because the named file format its COPY uses was dropped or "
                                    "replaced")
    assert "CREATE OR REPLACE PIPE DB.RAW.SALES_RAW_PIPE AUTO_INGEST = TRUE AS" in error.command
    assert str(e.value).startswith("pipe DB.RAW.SALES_RAW_PIPE is STOPPED_FILE_FORMAT_DROPPED (2 files pending; it "
                                   "loads nothing in this state); Snowflake says: The file format")


def test_poke_fails_on_a_stopped_pipe_and_waits_on_a_paused_one(monkeypatch):
    from snowseg.airflow import sensors
    from snowseg.loading.pipe_states import PipeNotRunning

    sensor = _sensor()
    sensor.database = "DB"
    status = dict(STOPPED)
    monkeypatch.setattr(sensors, "_check", lambda *_: {"loads": {}, "pending": ["snowpipe_aa/a.csv"],
                                                        "pipe_status": status})
    with pytest.raises(AirflowFailException) as e:
        sensor.poke(context=None)
    assert isinstance(e.value.__cause__, PipeNotRunning)
    status.update(executionState="PAUSED")
    assert sensor.poke(context=None).is_done is False
