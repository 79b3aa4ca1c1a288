"""The twin reports its own internal errors as query errors at once, not as 5xx the connector retries."""

from __future__ import annotations

import asyncio
import json

import fakesnow.server
from starlette.responses import JSONResponse

from snowseg_twin import server


def test_unhandled_twin_error_becomes_a_query_error(monkeypatch, tmp_path):
    async def broken(_request):
        return JSONResponse({"data": None, "code": "261000", "message": "sql_text='x' Unhandled exception",
                             "success": False}, status_code=500)

    class Fs:
        home = tmp_path

    monkeypatch.setattr(fakesnow.server, "query_request", broken)
    monkeypatch.setattr(fakesnow.server, "shared_fs", Fs())
    response = asyncio.run(server.run_query(None))
    body = json.loads(response.body)
    assert response.status_code == 200 and body["success"] is False and body["code"] == "999999"
    assert body["message"] == f"local twin internal error (see {tmp_path / 'logs'}): sql_text='x' Unhandled exception"


def test_answered_queries_pass_through(monkeypatch):
    async def fine(_request):
        return JSONResponse({"success": True, "data": {"total": 0}})

    monkeypatch.setattr(fakesnow.server, "query_request", fine)
    response = asyncio.run(server.run_query(None))
    assert response.status_code == 200 and json.loads(response.body)["success"] is True


def test_a_failed_query_carries_snowflakes_own_message(cur):
    """Snowflake's query response carries the error's own text; the connector formats ``msg`` as
    "<errno> (<sqlstate>): <query id>: <text>" and keeps the text as ``raw_msg``. fakesnow sent its own formatted
    ``str(error)``, so ``raw_msg`` began "100038 (22018): None: ..." and that reached LOAD_AUDIT.FIRST_ERROR."""
    import re

    import pytest
    from snowflake.connector.errors import ProgrammingError

    with pytest.raises(ProgrammingError) as e:
        cur.execute("select * from NO_SUCH_TABLE")
    assert not re.match(r"\d{6} \(", e.value.raw_msg), e.value.raw_msg
    assert e.value.msg.startswith(f"{e.value.errno:06d} ({e.value.sqlstate}): ")
