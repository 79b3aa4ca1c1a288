"""A deferrable sensor that waits for Snowpipe to finish loading a set of files.

``SnowpipeLoadSensor`` defers to ``SnowpipeLoadTrigger``, which runs on the triggerer (no worker
slot is held while Snowpipe works): every ``poll_interval`` seconds it reads the pipe's load history
(``COPY_HISTORY``) for the files and logs ``SYSTEM$PIPE_STATUS``. It fires when every file has a
finished load (LOADED, LOAD_FAILED or PARTIALLY_LOADED); the sensor then returns the outcomes, by
staged path, as its XCom. A pipe in a state where it loads nothing (STOPPED_*, STALLED_*, READ_ONLY:
:mod:`snowseg.loading.pipe_states`) ends the wait at once: the sensor fails with
:class:`~snowseg.loading.pipe_states.PipeNotRunning` (the state, Snowflake's error, what to do), without
retries. A PAUSED pipe is waited for (its files load once it is resumed). After ``timeout`` seconds it
fires with the files still pending, and the sensor fails with
:class:`~snowseg.loading.pipe_states.PipeFilesPending` (the pipe, the pending files, its status and what to do).
Both failures reach the alert as the cause of the task's ``AirflowFailException``
(:func:`snowseg.airflow.tasks.fail`).

With ``deferrable=False`` the same check runs as a classic ``poke`` (use ``mode="reschedule"``).
The warehouse work is :mod:`snowseg.loading.snowpipe`'s; this module is only the Airflow plumbing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.triggers.base import BaseTrigger, TriggerEvent


def _waitable(status: dict) -> bool:
    from snowseg.loading import pipe_states

    return pipe_states.waitable(status)


def _check(conn_id: str | None, database: str, contract_name: str, table: str, pipe: dict, paths: list[str]) -> dict:
    """One look at the pipe: outcomes of the finished files, the pending ones and SYSTEM$PIPE_STATUS."""
    from snowseg import warehouse
    from snowseg.airflow.tasks import resolve
    from snowseg.loading import snowpipe

    contract, names = resolve(contract_name, table, database)
    p = snowpipe.Pipe(**pipe)
    conn = warehouse.connect(conn_id)
    try:
        with conn.cursor() as cur:
            loads = snowpipe.pipe_loads(cur, names, contract, p, paths)
            status = snowpipe.pipe_status(cur, p)
    finally:
        conn.close()
    done = {k: asdict(v) for k, v in loads.items() if v.status in snowpipe.DONE}
    return {"loads": done, "pending": sorted(set(paths) - set(done)), "pipe_status": status}


class SnowpipeLoadTrigger(BaseTrigger):
    """Fires when every file has a finished load in the pipe's history, or at `deadline` (epoch seconds)."""

    def __init__(self, conn_id: str | None, database: str, contract: str, table: str, pipe: dict, paths: list[str],
                 deadline: float, poll_interval: float = 5.0):
        super().__init__()
        self.conn_id, self.database, self.contract, self.table = conn_id, database, contract, table
        self.pipe, self.paths, self.deadline, self.poll_interval = pipe, list(paths), deadline, poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"conn_id": self.conn_id, "database": self.database, "contract": self.contract, "table": self.table,
             "pipe": self.pipe, "paths": self.paths, "deadline": self.deadline, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        last_status = None
        while True:
            state = await asyncio.to_thread(
                _check, self.conn_id, self.database, self.contract, self.table, self.pipe, self.paths
            )
            status = state["pipe_status"]
            if status != last_status:
                self.log.info("SYSTEM$PIPE_STATUS: %s", status)
                last_status = status
            self.log.info("%d of %d files finished; pending: %s", len(state["loads"]), len(self.paths),
                          state["pending"][:10])
            if not state["pending"]:
                yield TriggerEvent({"status": "done", **state})
                return
            if not _waitable(status):
                yield TriggerEvent({"status": "not_running", **state})
                return
            if time.time() >= self.deadline:
                yield TriggerEvent({"status": "timeout", **state})
                return
            await asyncio.sleep(self.poll_interval)


class SnowpipeLoadSensor(BaseSensorOperator):
    """Wait until the pipe has loaded (or skipped) every file; return the outcomes by staged path.

    Parameters
    ----------
    pipe : dict
        ``snowseg.loading.snowpipe.Pipe`` as a dict (database, schema, name, notification_channel).
    files : list of dict
        ``Landed.to_dict()`` of the uploaded files (templated: usually an upstream task's XCom).
    contract, table, database : str
        As the load DAG resolves them (``snowseg.airflow.tasks.resolve``).
    conn_id : str, optional
        Snowflake connection id; default ``SNOWSEG_SNOWFLAKE_CONN_ID`` or ``snowflake_default``.
    poll_interval, wait_seconds : float or str (templated)
        Seconds between looks at the load history, and before failing with the pending files.
    """

    template_fields: Sequence[str] = ("pipe", "files", "contract", "table", "database", "poll_interval", "wait_seconds")

    def __init__(self, *, pipe: Any, files: Any, contract: str, table: str = "", database: str | None = None,
                 conn_id: str | None = None, poll_interval: float | str = 5.0, wait_seconds: float | str = 30 * 60,
                 deferrable: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.pipe, self.files, self.contract, self.table, self.database = pipe, files, contract, table, database
        self.conn_id, self.poll_interval, self.wait_seconds = conn_id, poll_interval, wait_seconds
        self.deferrable = deferrable

    def _paths(self) -> list[str]:
        return [f["staged_path"] for f in self.files or []]

    def _database(self) -> str:
        from snowseg.warehouse import Names

        return Names.from_env(self.database).database

    def execute(self, context: Any) -> Any:
        if not self._paths():
            self.log.info("no files to wait for")
            return {}
        self.timeout, self.poke_interval = float(self.wait_seconds), float(self.poll_interval)  # rendered templates
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=SnowpipeLoadTrigger(
                self.conn_id, self._database(), self.contract, self.table, self.pipe, self._paths(),
                deadline=time.time() + self.timeout, poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
        )

    def _pipe_name(self) -> str:
        """DATABASE.SCHEMA.NAME of the pipe (as much of it as the pipe dict gives)."""
        pipe = self.pipe or {}
        return ".".join(str(pipe[k]) for k in ("database", "schema", "name") if pipe.get(k))

    def _not_running(self, status: dict) -> Exception:
        """The task's failure for a pipe that loads nothing: PipeNotRunning, as an AirflowFailException (no retry)."""
        from snowseg.airflow.tasks import fail
        from snowseg.loading.pipe_states import PipeNotRunning

        return fail(PipeNotRunning.from_status(self._pipe_name(), status))

    def poke(self, context: Any) -> PokeReturnValue:
        state = _check(self.conn_id, self._database(), self.contract, self.table, self.pipe, self._paths())
        self.log.info("SYSTEM$PIPE_STATUS: %s; pending: %s", state["pipe_status"], state["pending"][:10])
        if state["pending"] and not _waitable(state["pipe_status"]):
            raise self._not_running(state["pipe_status"])
        return PokeReturnValue(is_done=not state["pending"], xcom_value=state["loads"])

    def execute_complete(self, context: Any, event: dict) -> dict:
        if event.get("status") == "not_running":
            raise self._not_running(event.get("pipe_status") or {})
        if event.get("status") != "timeout":
            failed = {p: v for p, v in event["loads"].items() if v["status"] != "LOADED"}
            for path, v in failed.items():
                self.log.warning("the pipe skipped %s (%s): %s at line %s, column %s", path, v["status"],
                                 v["first_error"], v["first_error_line"], v["first_error_column"])
            self.log.info("all %d files finished: %d loaded, %d skipped", len(event["loads"]),
                          len(event["loads"]) - len(failed), len(failed))
            return event["loads"]
        from snowseg.airflow.tasks import fail
        from snowseg.loading.pipe_states import PipeFilesPending

        raise fail(PipeFilesPending(self._pipe_name(), event["pending"], total=len(self._paths()),
                                    waited_seconds=float(self.wait_seconds), pipe_status=event.get("pipe_status")))
