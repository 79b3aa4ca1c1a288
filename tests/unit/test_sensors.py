"""What the Snowpipe sensor tells an engineer when it gives up, and what it hands downstream."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from snowseg.sensors import SnowpipeLoadSensor, SnowpipeLoadTrigger

PIPE = {"database": "DB", "schema": "RAW", "name": "SALES_RAW_PIPE", "notification_channel": "arn:aws:sqs:x"}
FILES = [{"staged_path": "snowpipe_aa/a.csv"}, {"staged_path": "snowpipe_bb/b.csv"}]


def _sensor() -> SnowpipeLoadSensor:
    return SnowpipeLoadSensor(task_id="wait", pipe=PIPE, files=FILES, contract="supermarket", max_wait=60)


def test_timeout_on_a_paused_pipe_names_the_files_and_says_resume():
    event = {"status": "timeout", "loads": {}, "pending": ["snowpipe_aa/a.csv", "snowpipe_bb/b.csv"],
             "pipe_status": {"executionState": "PAUSED", "pendingFileCount": 2}}
    with pytest.raises(AirflowFailException) as e:
        _sensor().execute_complete(context=None, event=event)
    msg = str(e.value)
    assert "2 of 2 files not loaded by pipe SALES_RAW_PIPE after 60s" in msg
    assert "snowpipe_aa/a.csv" in msg and "snowpipe_bb/b.csv" in msg
    assert "PAUSED" in msg and "PIPE_EXECUTION_PAUSED = FALSE" in msg


def test_timeout_on_a_running_pipe_points_at_the_notification():
    event = {"status": "timeout", "loads": {}, "pending": ["snowpipe_bb/b.csv"],
             "pipe_status": {"executionState": "RUNNING", "pendingFileCount": 0}}
    with pytest.raises(AirflowFailException, match=r"1 of 2 files .*bucket notification .*REFRESH PREFIX"):
        _sensor().execute_complete(context=None, event=event)


def test_done_returns_the_outcomes_by_staged_path():
    loads = {"snowpipe_aa/a.csv": {"status": "LOADED", "first_error": None, "first_error_line": None,
                                   "first_error_column": None}}
    assert _sensor().execute_complete(context=None, event={"status": "done", "loads": loads, "pending": []}) == loads


def test_trigger_serializes_to_its_own_classpath_and_kwargs():
    trigger = SnowpipeLoadTrigger(None, "DB", "supermarket", "", PIPE, ["snowpipe_aa/a.csv"], deadline=123.0)
    path, kwargs = trigger.serialize()
    assert path == "snowseg.sensors.SnowpipeLoadTrigger"
    assert SnowpipeLoadTrigger(**kwargs).serialize() == (path, kwargs)
