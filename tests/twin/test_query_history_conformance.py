"""Conformance of the twin's query history with Snowflake's QUERY_HISTORY table functions (issue 16).

What the documentation says (https://docs.snowflake.com/en/sql-reference/functions/query_history), as these tests
check it:
- "QUERY_HISTORY returns queries within a specified time range. QUERY_HISTORY_BY_SESSION returns queries within a
  specified session and time range. QUERY_HISTORY_BY_USER returns queries submitted by a specified user within a
  specified time range."
- Arguments (all optional): END_TIME_RANGE_START => <constant_expr>, END_TIME_RANGE_END => <constant_expr>,
  RESULT_LIMIT => <num> ("Range: 1 to 10000", "Default: 100"); SESSION_ID (default CURRENT_SESSION), USER_NAME
  (default CURRENT_USER). "These functions return query activity within the last 7 days"; "If the time range does
  not fall within the last 7 days, an error is returned."
- Columns used by Snowseg: QUERY_ID, QUERY_TEXT, QUERY_TAG, SESSION_ID, USER_NAME, ROLE_NAME, WAREHOUSE_NAME,
  WAREHOUSE_SIZE, EXECUTION_STATUS, START_TIME, END_TIME, TOTAL_ELAPSED_TIME and EXECUTION_TIME (milliseconds),
  CREDITS_USED_CLOUD_SERVICES, ROWS_PRODUCED.
- QUERY_TAG (https://docs.snowflake.com/en/sql-reference/parameters#query-tag): "String (up to 2000 characters)
  used to tag queries and other SQL statements executed within a session."
- Which queries a role sees: the current user's, and those run on warehouses the role has MONITOR (or OPERATE) on.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import snowflake.connector
from snowflake.connector import DictCursor
from snowflake.connector.errors import ProgrammingError

from snowseg_twin.extensions import query_history

QH = "INFORMATION_SCHEMA.QUERY_HISTORY"


def _connect(twin_kwargs: dict, database: str, **kwargs: object) -> snowflake.connector.SnowflakeConnection:
    conn = snowflake.connector.connect(**{**twin_kwargs, **kwargs}, database=database, schema="RAW")
    with conn.cursor() as cur:
        cur.execute(f"create schema if not exists {database}.RAW")
    return conn


def _rows(conn: snowflake.connector.SnowflakeConnection, sql: str) -> list[dict]:
    with conn.cursor(DictCursor) as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_each_statement_is_recorded_with_its_id_tag_times_and_status(twin_kwargs: dict, database: str) -> None:
    tag = json.dumps({"app": "snowseg", "batch": f"b-{uuid.uuid4().hex[:6]}"})
    with _connect(twin_kwargs, database, session_parameters={**twin_kwargs["session_parameters"], "QUERY_TAG": tag},
                  warehouse="COMPUTE_WH") as conn:  # fmt: skip
        with conn.cursor() as cur:
            cur.execute("select 1 as one")
            qid = cur.sfqid
            with pytest.raises(ProgrammingError):
                cur.execute("select * from NO_SUCH_TABLE_X")
        rows = _rows(conn, f"select * from table({database}.{QH}_BY_SESSION()) order by START_TIME")
    names = [c for c, _ in query_history.COLUMNS]
    assert list(rows[0]) == names
    for column in ("QUERY_ID", "QUERY_TEXT", "QUERY_TAG", "SESSION_ID", "USER_NAME", "ROLE_NAME", "WAREHOUSE_NAME",
                   "WAREHOUSE_SIZE", "EXECUTION_STATUS", "START_TIME", "END_TIME", "TOTAL_ELAPSED_TIME",
                   "EXECUTION_TIME", "CREDITS_USED_CLOUD_SERVICES", "ROWS_PRODUCED"):  # fmt: skip
        assert column in names
    ok = next(r for r in rows if r["QUERY_ID"] == qid)
    assert ok["QUERY_TEXT"] == "select 1 as one" and ok["QUERY_TAG"] == tag and ok["EXECUTION_STATUS"] == "SUCCESS"
    assert ok["USER_NAME"] == "FAKE" and ok["WAREHOUSE_NAME"] == "COMPUTE_WH" and ok["WAREHOUSE_SIZE"] == "X-Small"
    assert ok["END_TIME"] >= ok["START_TIME"] and ok["TOTAL_ELAPSED_TIME"] >= 0 and ok["ROWS_PRODUCED"] == 1
    failed = [r for r in rows if r["QUERY_TEXT"] == "select * from NO_SUCH_TABLE_X"]
    assert failed and failed[0]["EXECUTION_STATUS"] == "FAILED_WITH_ERROR" and failed[0]["ERROR_MESSAGE"]
    assert len({r["SESSION_ID"] for r in rows}) == 1


def test_alter_session_set_query_tag_tags_the_later_statements(twin_kwargs: dict, database: str) -> None:
    # the pipeline's literal: backslash escapes, as quote_literal writes them and Snowflake reads them
    tag = '{"app":"snowseg","run":"a\\u003bb"}'
    literal = "'" + tag.replace("\\", "\\\\").replace("'", "\\'") + "'"
    with _connect(twin_kwargs, database) as conn:
        with conn.cursor() as cur:
            cur.execute(f"alter session set query_tag = {literal}")
            cur.execute("select 2 as two")
            qid = cur.sfqid
        rows = _rows(conn, f"select QUERY_ID, QUERY_TAG from table({database}.{QH}_BY_SESSION())")
    assert {r["QUERY_ID"]: r["QUERY_TAG"] for r in rows}[qid] == tag
    assert json.loads(tag)["run"] == "a;b"


def test_result_limit_defaults_to_100_and_keeps_the_most_recent(twin_kwargs: dict, database: str) -> None:
    with _connect(twin_kwargs, database) as conn:
        with conn.cursor() as cur:
            for i in range(105):
                cur.execute(f"select {i} as i")
            last = cur.sfqid
        rows = _rows(conn, f"select QUERY_ID from table({database}.{QH}_BY_SESSION())")
        two = _rows(conn, f"select QUERY_ID from table({database}.{QH}_BY_SESSION(RESULT_LIMIT => 2))")
    assert len(rows) == 100
    assert len(two) == 2 and last in {r["QUERY_ID"] for r in two}


@pytest.mark.parametrize("limit, message", [
    (10001, "Value for parameter RESULT_LIMIT exceeds maximum allowable value (10,000)."),
    (0, "below minimum allowable value (1)"),
])  # fmt: skip
def test_result_limit_outside_1_to_10000_is_refused(twin_kwargs: dict, database: str, limit: int,
                                                    message: str) -> None:
    with _connect(twin_kwargs, database) as conn:
        with pytest.raises(ProgrammingError) as e:
            _rows(conn, f"select * from table({database}.{QH}(RESULT_LIMIT => {limit}))")
        assert _rows(conn, f"select count(*) as n from table({database}.{QH}(RESULT_LIMIT => 10000))")[0]["N"] >= 1
    assert message in (e.value.raw_msg or "")


def test_a_time_range_outside_the_last_7_days_is_refused(twin_kwargs: dict, database: str) -> None:
    with _connect(twin_kwargs, database) as conn:
        with pytest.raises(ProgrammingError) as e:
            _rows(conn, f"select * from table({database}.{QH}("
                        "END_TIME_RANGE_START => dateadd('day', -8, current_timestamp())))")
        recent = _rows(conn, f"select count(*) as n from table({database}.{QH}("
                             "END_TIME_RANGE_START => dateadd('minute', -5, current_timestamp()), "
                             "END_TIME_RANGE_END => current_timestamp()))")
    assert "7 days" in (e.value.raw_msg or "")
    assert recent[0]["N"] >= 1


def test_end_time_range_bounds_the_queries_end_time(twin_kwargs: dict, database: str) -> None:
    with _connect(twin_kwargs, database) as conn:
        with conn.cursor() as cur:
            cur.execute("select 'before' as x")
            before = cur.sfqid
            cur.execute("select current_timestamp() as t")
            (cut,) = cur.fetchone()
            cur.execute("select 'after' as x")
            after = cur.sfqid
        rows = _rows(conn, f"select QUERY_ID from table({database}.{QH}_BY_SESSION("
                           f"END_TIME_RANGE_START => '{cut.isoformat()}'::timestamp_ltz))")
    ids = {r["QUERY_ID"] for r in rows}
    assert after in ids and before not in ids


@pytest.mark.parametrize("sql", [
    "select * from table({db}.INFORMATION_SCHEMA.QUERY_HISTORY(USER_NAME => 'X'))",
    "select * from table({db}.INFORMATION_SCHEMA.QUERY_HISTORY_BY_USER(SESSION_ID => 1))",
    "select * from table({db}.INFORMATION_SCHEMA.QUERY_HISTORY(10))",
    "select * from table(QUERY_HISTORY())",
])  # fmt: skip
def test_arguments_the_function_does_not_take_are_refused(twin_kwargs: dict, database: str, sql: str) -> None:
    with _connect(twin_kwargs, database) as conn, pytest.raises(ProgrammingError):
        _rows(conn, sql.format(db=database))


def test_a_role_sees_its_users_queries_and_those_on_warehouses_it_may_monitor(twin_kwargs: dict,
                                                                              database: str) -> None:
    marker = f"m_{uuid.uuid4().hex[:8]}"
    other, monitor_role = f"OTHER_{uuid.uuid4().hex[:6].upper()}", f"MON_{uuid.uuid4().hex[:6].upper()}"
    with _connect(twin_kwargs, database, warehouse="COMPUTE_WH") as conn:
        _rows(conn, f"select '{marker}' as m")
        mine = _rows(conn, f"select QUERY_TEXT from table({database}.{QH}_BY_USER(RESULT_LIMIT => 10000))")
        _rows(conn, f"create role if not exists {monitor_role}")
        _rows(conn, f"grant monitor on warehouse COMPUTE_WH to role {monitor_role}")
    assert any(marker in r["QUERY_TEXT"] for r in mine)
    sql = (f"select QUERY_TEXT, USER_NAME from table({database}.{QH}_BY_USER(USER_NAME => 'FAKE', "
           "RESULT_LIMIT => 10000))")
    with _connect(twin_kwargs, database, user=other) as conn:  # the default role: no MONITOR on COMPUTE_WH
        unseen = _rows(conn, sql)
    with _connect(twin_kwargs, database, user=other, role=monitor_role) as conn:
        seen = _rows(conn, sql)
    assert not any(marker in r["QUERY_TEXT"] for r in unseen)
    assert any(marker in r["QUERY_TEXT"] and r["USER_NAME"] == "FAKE" for r in seen)


def test_query_history_reads_like_snowflakes_in_a_where_clause(twin_kwargs: dict, database: str) -> None:
    tag = json.dumps({"app": "snowseg", "model_run": f"r{uuid.uuid4().hex[:6]}"})
    with _connect(twin_kwargs, database) as conn:
        with conn.cursor() as cur:
            cur.execute(f"alter session set query_tag = '{tag}'")
            cur.execute("select 3 as three")
        rows = _rows(conn, f"select QUERY_TEXT, TOTAL_ELAPSED_TIME / 1000 as S from table({database}.{QH}("
                           f"RESULT_LIMIT => 10000)) where QUERY_TAG = '{tag}' order by END_TIME")
    assert [r["QUERY_TEXT"] for r in rows] == ["select 3 as three"]
    assert re.fullmatch(r"[0-9.]+", str(rows[0]["S"]))


@pytest.fixture(scope="module")
def enforcing_twin(tmp_path_factory: pytest.TempPathFactory):
    from snowseg_twin.extensions.access_control import ENV
    from snowseg_twin.process import TwinProcess

    t = TwinProcess(tmp_path_factory.mktemp("query-history") / "twin", env={ENV: "enforce"}).start()
    yield t
    t.stop()


def test_the_service_role_reads_its_own_tagged_queries_with_privileges_enforced(enforcing_twin) -> None:
    """Least privilege: with admin_setup's grants (USAGE on the database), SNOWSEG_ROLE re-tags its session and reads
    its user's queries through <db>.INFORMATION_SCHEMA.QUERY_HISTORY; no MONITOR grant is needed for its own."""
    from cryptography.hazmat.primitives import serialization

    from snowseg_twin.keys import DEV_KEY_PASSPHRASE, admin_key_path, key_path

    def key(path):
        return serialization.load_pem_private_key(path.read_bytes(), DEV_KEY_PASSPHRASE.encode())

    base = dict(account="twin", host="127.0.0.1", port=enforcing_twin.port, protocol="http", login_timeout=10,
                network_timeout=60, warehouse="SNOWSEG_WH",
                session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False})  # fmt: skip
    db = f"QH_{uuid.uuid4().hex[:8].upper()}"
    with snowflake.connector.connect(user="snowseg_admin", private_key=key(admin_key_path(enforcing_twin.home)),
                                     role="SYSADMIN", **base) as admin:  # fmt: skip
        admin.cursor().execute(f"create database {db}")
        admin.cursor().execute(f"grant usage on database {db} to role SNOWSEG_ROLE")
    tag = json.dumps({"app": "snowseg", "batch": "small_file_x"}, separators=(",", ":"))
    with snowflake.connector.connect(user="snowseg", private_key=key(key_path(enforcing_twin.home)),
                                     role="SNOWSEG_ROLE", **base) as conn:  # fmt: skip
        with conn.cursor() as cur:
            cur.execute(f"alter session set query_tag = '{tag}'")
            cur.execute("select 4 as four")
        rows = _rows(conn, f"select QUERY_TEXT, QUERY_TAG, USER_NAME, ROLE_NAME, WAREHOUSE_SIZE from table("
                           f"{db}.INFORMATION_SCHEMA.QUERY_HISTORY(RESULT_LIMIT => 10000)) where QUERY_TAG = '{tag}'")
    assert [(r["QUERY_TEXT"], r["USER_NAME"], r["ROLE_NAME"], r["WAREHOUSE_SIZE"]) for r in rows] == [
        ("select 4 as four", "SNOWSEG", "SNOWSEG_ROLE", "X-Small")]
