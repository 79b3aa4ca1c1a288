"""NULL timestamps read over HTTP are None, as from Snowflake (fakesnow alone sends 1970-01-01)."""

from __future__ import annotations

import datetime as dt

import snowflake.connector


def test_null_timestamps_stay_null(twin_kwargs, database):
    conn = snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW")
    try:
        with conn.cursor() as cur:
            cur.execute("create table T (ID number, NTZ timestamp_ntz)")
            cur.execute("insert into T values (1, '2026-11-27 10:00:00'), (2, null)")
            rows = cur.execute("select ID, NTZ, current_timestamp() as TZ from T order by ID").fetchall()
            tz_null = cur.execute("select null::timestamp_tz, null::timestamp_ntz").fetchall()
    finally:
        conn.close()
    assert rows[0][1] == dt.datetime(2026, 11, 27, 10, 0)
    assert rows[1][:2] == (2, None)
    assert rows[1][2] is not None  # non-null values in a column keep their value
    assert tz_null == [(None, None)]
