"""Conformance of the twin's external S3 stages and Snowpipe with Snowflake.

S3 is a moto server in this process (ThreadedMotoServer); the twin reads it through boto3 with the
endpoint in AWS_ENDPOINT_URL, as the pipeline does. Every test uses its own bucket and database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import NamedTuple

import boto3
import pytest
import snowflake.connector
from snowflake.connector import ProgrammingError

Cursor = snowflake.connector.cursor.DictCursor

CSV_A = "id,name\n1,alpha\n2,beta\n"
CSV_B = "id,name\n3,gamma\n"
CSV_BAD = "id,name\n4,delta\nx,epsilon\n"
TABLE = "CREATE TABLE {db}.RAW.T (ID NUMBER, NAME VARCHAR)"
TABLE_AUDIT = "CREATE TABLE {db}.RAW.T (ID NUMBER, NAME VARCHAR, _FILE VARCHAR, _ROW NUMBER)"
FORMAT = "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3/SQS server; the twin (in this process) finds it through AWS_ENDPOINT_URL."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        }.items():  # fmt: skip
            mp.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture()
def s3(moto_endpoint: str):  # noqa: ANN201
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture()
def bucket(s3) -> str:  # noqa: ANN001
    name = f"landing-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


def message(error: ProgrammingError) -> str:
    """The error text as Snowflake returns it, without the connector's errno/sqlstate prefix."""
    return re.sub(r"^\d{6} \(\w{5}\): (?:(?:None|[0-9a-f-]{36}): )?", "", error.raw_msg or "")


def upload(s3, bucket: str, files: dict[str, str]) -> None:  # noqa: ANN001
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())


def rows(cur: Cursor, sql: str) -> list[dict]:
    cur.execute(sql)
    return cur.fetchall()


def external_stage(cur: Cursor, database: str, bucket: str, extra: str = "") -> None:
    cur.execute(f"CREATE STAGE {database}.RAW.LANDING URL = 's3://{bucket}/in/' {extra}")


# --- external stages: LIST --------------------------------------------------------------------------------------


class ListCase(NamedTuple):
    statement: str
    names: list[str]


LIST_CASES = [
    pytest.param(ListCase("LIST @LANDING", ["in/sales/a.csv", "in/sales/b.csv", "in/x.csv"]), id="whole-stage"),
    pytest.param(ListCase("LIST @LANDING/sales/", ["in/sales/a.csv", "in/sales/b.csv"]), id="path-is-a-prefix"),
    pytest.param(ListCase("LIST @LANDING/sal", ["in/sales/a.csv", "in/sales/b.csv"]), id="partial-prefix"),
    pytest.param(ListCase("LIST @LANDING PATTERN = '.*b[.]csv'", ["in/sales/b.csv"]), id="pattern"),
    pytest.param(ListCase("LIST @LANDING/nothing/", []), id="empty"),
]


@pytest.mark.parametrize("case", LIST_CASES)
def test_list_external_stage(cur: Cursor, database: str, s3, bucket: str, case: ListCase) -> None:  # noqa: ANN001
    """LIST @s3_stage shows each object under the stage URL + path as s3://bucket/key, with size, md5 (ETag)
    and last_modified in Snowflake's RFC 1123 form; objects outside the stage URL are not listed."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/b.csv": CSV_B, "in/x.csv": CSV_B, "out/y.csv": CSV_B})
    external_stage(cur, database, bucket)
    listed = rows(cur, case.statement)
    assert [r["name"] for r in listed] == [f"s3://{bucket}/{n}" for n in case.names]
    for r in listed:
        head = s3.head_object(Bucket=bucket, Key=r["name"].split("/", 3)[3])
        assert r["size"] == head["ContentLength"] and r["md5"] == head["ETag"].strip('"')
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", r["last_modified"])


def test_create_stage_with_credentials_and_integration(cur: Cursor, database: str, bucket: str) -> None:
    """CREATE STAGE ... URL = 's3://..' accepts CREDENTIALS or STORAGE_INTEGRATION; SHOW STAGES shows the URL and
    type EXTERNAL."""
    cur.execute(
        f"CREATE STAGE {database}.RAW.WITH_KEYS URL = 's3://{bucket}/in/' "
        "CREDENTIALS = (AWS_KEY_ID = 'testing' AWS_SECRET_KEY = 'testing')"
    )
    cur.execute(
        f"CREATE OR REPLACE STAGE {database}.RAW.WITH_INT URL = 's3://{bucket}/in/' STORAGE_INTEGRATION = s3_int"
    )
    stages = {r["name"]: r for r in rows(cur, f"SHOW STAGES IN SCHEMA {database}.RAW")}
    assert {n: (s["url"], s["type"]) for n, s in stages.items()} == {
        "WITH_KEYS": (f"s3://{bucket}/in/", "EXTERNAL"),
        "WITH_INT": (f"s3://{bucket}/in/", "EXTERNAL"),
    }
    assert rows(cur, "LIST @WITH_KEYS") == [] and rows(cur, "LIST @WITH_INT") == []


# --- external stages: COPY --------------------------------------------------------------------------------------


def copy_result(file: str, status: str, parsed: int, loaded: int, **kw: object) -> dict:
    row = {
        "file": file, "status": status, "rows_parsed": parsed, "rows_loaded": loaded, "error_limit": 1,
        "errors_seen": 0, "first_error": None, "first_error_line": None, "first_error_character": None,
        "first_error_column_name": None,
    }  # fmt: skip
    row.update(kw)
    return row


class CopyCase(NamedTuple):
    copy: str
    loaded: list[str]  # stage-relative names of the loaded files, in the result's order


COPY_CASES = [
    pytest.param(CopyCase(f"COPY INTO T FROM @LANDING/sales/ {FORMAT}", ["sales/a.csv", "sales/b.csv"]), id="path"),
    pytest.param(CopyCase(f"COPY INTO T FROM @LANDING {FORMAT} FILES = ('sales/b.csv')", ["sales/b.csv"]), id="files"),
    pytest.param(
        CopyCase(f"COPY INTO T FROM @LANDING/sales {FORMAT} FILES = ('b.csv')", ["sales/b.csv"]),
        id="files-relative-to-path",
    ),
    pytest.param(
        CopyCase(f"COPY INTO T FROM @LANDING {FORMAT} PATTERN = 'sales/.*[.]csv'", ["sales/a.csv", "sales/b.csv"]),
        id="pattern-on-stage-relative-path",
    ),
    pytest.param(CopyCase(f"COPY INTO T FROM @LANDING {FORMAT} PATTERN = 'a[.]csv'", []), id="pattern-anchored"),
]


@pytest.mark.parametrize("case", COPY_CASES)
def test_copy_from_external_stage(cur: Cursor, database: str, s3, bucket: str, case: CopyCase) -> None:  # noqa: ANN001
    """COPY INTO <table> FROM @s3_stage reads the objects through S3; its output names each file by its full
    s3:// URL; FILES are relative to the FROM location; PATTERN matches the whole path relative to the stage URL."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/b.csv": CSV_B, "in/other/c.csv": CSV_B})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    counts = {"sales/a.csv": 2, "sales/b.csv": 1}
    expected = [copy_result(f"s3://{bucket}/in/{n}", "LOADED", counts[n], counts[n]) for n in case.loaded]
    result = rows(cur, case.copy)
    if not case.loaded:
        assert result == [{"status": "Copy executed with 0 files processed."}]
    else:
        assert result == expected
    assert rows(cur, "SELECT COUNT(*) AS n FROM T") == [{"N": sum(counts[n] for n in case.loaded)}]


def test_copy_transformation_metadata_filename_is_relative_to_stage_url(
    cur: Cursor, database: str, s3, bucket: str  # noqa: ANN001
) -> None:
    """METADATA$FILENAME of a file in an external stage is its path relative to the stage URL."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    cur.execute(TABLE_AUDIT.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(
        "COPY INTO T (ID, NAME, _FILE, _ROW) FROM (SELECT $1, $2, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER "
        f"FROM @LANDING/sales/) {FORMAT}"
    )
    assert rows(cur, "SELECT * FROM T ORDER BY ID") == [
        {"ID": 1, "NAME": "alpha", "_FILE": "sales/a.csv", "_ROW": 1},
        {"ID": 2, "NAME": "beta", "_FILE": "sales/a.csv", "_ROW": 2},
    ]


TABLE_BATCH = "CREATE TABLE {db}.RAW.T (ID NUMBER, NAME VARCHAR, _FILE VARCHAR, _BATCH_ID VARCHAR)"
# the pipeline's Snowpipe COPY: the staged file's parent folder is its batch id
BATCH_COPY = (
    "copy into T (ID, NAME, _FILE, _BATCH_ID) from (select $1, $2, metadata$filename, "
    "split_part(metadata$filename, '/', -2) from @LANDING/sales/) file_format = (type = csv skip_header = 1)"
)
BATCH_ROWS = [
    {"ID": 1, "NAME": "alpha", "_FILE": "sales/b_001/a.csv", "_BATCH_ID": "b_001"},
    {"ID": 2, "NAME": "beta", "_FILE": "sales/b_001/a.csv", "_BATCH_ID": "b_001"},
    {"ID": 3, "NAME": "gamma", "_FILE": "sales/b_002/b.csv", "_BATCH_ID": "b_002"},
]


def test_copy_transformation_batch_id_from_parent_folder(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """SPLIT_PART(METADATA$FILENAME, '/', -2) is the parent folder of the file within the stage (-1 would be the
    file name), so a COPY from an external stage can load each file's folder as a batch id."""
    upload(s3, bucket, {"in/sales/b_001/a.csv": CSV_A, "in/sales/b_002/b.csv": CSV_B})
    cur.execute(TABLE_BATCH.format(db=database))
    external_stage(cur, database, bucket)
    assert [r["file"] for r in rows(cur, BATCH_COPY)] == [
        f"s3://{bucket}/in/sales/b_001/a.csv", f"s3://{bucket}/in/sales/b_002/b.csv"
    ]  # fmt: skip
    assert rows(cur, "SELECT * FROM T ORDER BY ID") == BATCH_ROWS


def test_copy_rerun_is_skipped_by_s3_path(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """Load metadata keys on the s3:// path: a re-run leaves the file out ('Copy executed with 0 files processed.'),
    FORCE = TRUE loads it again, and LOAD_HISTORY shows the s3:// URL."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    url = f"s3://{bucket}/in/sales/a.csv"
    assert rows(cur, f"COPY INTO T FROM @LANDING {FORMAT}") == [copy_result(url, "LOADED", 2, 2)]
    assert rows(cur, f"COPY INTO T FROM @LANDING {FORMAT}") == [{"status": "Copy executed with 0 files processed."}]
    assert rows(cur, f"COPY INTO T FROM @LANDING {FORMAT} FORCE = TRUE") == [copy_result(url, "LOADED", 2, 2)]
    history = rows(cur, "SELECT FILE_NAME, STATUS FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'T'")
    assert history == [{"FILE_NAME": url, "STATUS": "LOADED"}] * 2


def test_copy_uses_the_stage_file_format(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """A COPY without FILE_FORMAT uses the FILE_FORMAT the stage was created with."""
    upload(s3, bucket, {"in/a.psv": "id|name\n1|alpha\n"})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket, "FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1)")
    assert rows(cur, "COPY INTO T FROM @LANDING") == [copy_result(f"s3://{bucket}/in/a.psv", "LOADED", 1, 1)]
    assert rows(cur, "SELECT * FROM T") == [{"ID": 1, "NAME": "alpha"}]


def test_copy_on_error_continue_reports_s3_file(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """ON_ERROR and the first error work as for internal stages; the file is named by its s3:// URL."""
    upload(s3, bucket, {"in/bad.csv": CSV_BAD})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    [result] = rows(cur, f"COPY INTO T FROM @LANDING {FORMAT} ON_ERROR = CONTINUE")
    assert (result["file"], result["status"], result["rows_loaded"], result["first_error"]) == (
        f"s3://{bucket}/in/bad.csv", "PARTIALLY_LOADED", 1, "Numeric value 'x' is not recognized",
    )  # fmt: skip


def test_copy_missing_file_and_purge(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """A FILES entry that doesn't exist fails with 91016 naming the s3:// URL; PURGE = TRUE deletes loaded
    objects from the bucket."""
    upload(s3, bucket, {"in/a.csv": CSV_A})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    with pytest.raises(ProgrammingError) as e:
        cur.execute(f"COPY INTO T FROM @LANDING {FORMAT} FILES = ('nope.csv')")
    assert e.value.errno == 91016
    assert message(e.value).startswith(f"Remote file 's3://{bucket}/in/nope.csv' was not found.")
    cur.execute(f"COPY INTO T FROM @LANDING {FORMAT} PURGE = TRUE")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# --- pipes ------------------------------------------------------------------------------------------------------

PIPE_COPY = f"COPY INTO T FROM @LANDING/sales/ {FORMAT}"
CHANNEL = re.compile(r"arn:aws:sqs:us-east-1:123456789012:sf-snowpipe-[\w-]+")


def pipe_status(cur: Cursor, name: str) -> dict:
    import json

    cur.execute(f"SELECT SYSTEM$PIPE_STATUS('{name}')")
    [row] = cur.fetchall()
    return json.loads(row[f"SYSTEM$PIPE_STATUS('{name}')"])


def wait_loaded(cur: Cursor, name: str, timeout: float = 20) -> dict:
    """Poll SYSTEM$PIPE_STATUS until the pipe has no pending file (Snowpipe loads asynchronously)."""
    import time

    deadline = time.monotonic() + timeout
    while (status := pipe_status(cur, name))["pendingFileCount"] and time.monotonic() < deadline:
        time.sleep(0.1)
    return status


def setup_pipe(cur: Cursor, database: str, bucket: str, props: str = "", copy: str = PIPE_COPY) -> str:
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(f"CREATE PIPE {database}.RAW.P {props} AS {copy}")
    return f"{database}.RAW.P"


def test_pipe_ddl(cur: Cursor, database: str, bucket: str) -> None:
    """CREATE PIPE / SHOW PIPES / DESC PIPE / DROP PIPE with Snowflake's messages and errors; an auto-ingest pipe's
    notification_channel is the ARN of an SQS queue."""
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    assert rows(cur, f"CREATE PIPE P AUTO_INGEST = TRUE COMMENT = 'landing' AS {PIPE_COPY}") == [
        {"status": "Pipe P successfully created."}
    ]
    assert rows(cur, f"CREATE PIPE IF NOT EXISTS P AS {PIPE_COPY}") == [
        {"status": "P already exists, statement succeeded."}
    ]
    with pytest.raises(ProgrammingError) as e:
        cur.execute(f"CREATE PIPE P AS {PIPE_COPY}")
    assert (e.value.errno, message(e.value)) == (2002, "SQL compilation error:\nObject 'P' already exists.")
    cur.execute(f"CREATE OR REPLACE PIPE Q AS {PIPE_COPY}")
    shown = {r["name"]: r for r in rows(cur, f"SHOW PIPES IN SCHEMA {database}.RAW")}
    assert sorted(shown) == ["P", "Q"]
    p = shown["P"]
    assert (p["database_name"], p["schema_name"], p["definition"], p["comment"]) == (database, "RAW", PIPE_COPY,
                                                                                     "landing")
    assert CHANNEL.fullmatch(p["notification_channel"]) and shown["Q"]["notification_channel"] is None
    assert [r["name"] for r in rows(cur, "SHOW PIPES LIKE 'q%'")] == ["Q"]
    assert rows(cur, "DESC PIPE P")[0]["notification_channel"] == p["notification_channel"]
    assert rows(cur, "DROP PIPE Q") == [{"status": "Q successfully dropped."}]
    with pytest.raises(ProgrammingError) as e:
        cur.execute("DROP PIPE Q")
    assert (e.value.errno, message(e.value)) == (
        2003, f"SQL compilation error:\nPipe '{database}.RAW.Q' does not exist or not authorized."
    )  # fmt: skip


def test_pipe_refresh_loads_new_files_once(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """ALTER PIPE REFRESH queues the files under the pipe's location it hasn't loaded (File, Status = SENT);
    Snowpipe loads them; a second REFRESH queues nothing; SYSTEM$PIPE_STATUS reports the last ingested file;
    pipe loads are not in INFORMATION_SCHEMA.LOAD_HISTORY (Snowpipe keeps its own load metadata)."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/b.csv": CSV_B, "in/other/c.csv": CSV_B})
    name = setup_pipe(cur, database, bucket)
    assert rows(cur, "ALTER PIPE P REFRESH") == [
        {"File": "a.csv", "Status": "SENT"}, {"File": "b.csv", "Status": "SENT"}
    ]  # fmt: skip
    status = wait_loaded(cur, name)
    assert status["executionState"] == "RUNNING" and status["pendingFileCount"] == 0
    assert status["lastIngestedFilePath"] in {"a.csv", "b.csv"} and "notificationChannelName" not in status
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["lastIngestedTimestamp"])
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}, {"ID": 3}]
    assert rows(cur, "ALTER PIPE P REFRESH") == []
    assert rows(cur, "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'T'") == [{"N": 0}]


def test_pipe_refresh_prefix(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """REFRESH PREFIX = '..' queues only the files under the pipe's location + prefix."""
    upload(s3, bucket, {"in/sales/2026/a.csv": CSV_A, "in/sales/2025/b.csv": CSV_B})
    name = setup_pipe(cur, database, bucket)
    assert rows(cur, "ALTER PIPE P REFRESH PREFIX = '2026/'") == [{"File": "2026/a.csv", "Status": "SENT"}]
    wait_loaded(cur, name)
    assert rows(cur, "SELECT COUNT(*) AS N FROM T") == [{"N": 2}]


def test_paused_pipe_keeps_files_pending(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """A paused pipe (PIPE_EXECUTION_PAUSED = TRUE) keeps queued files pending (executionState PAUSED,
    pendingFileCount, oldestPendingFilePath) and loads them once resumed."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    name = setup_pipe(cur, database, bucket)
    paused = rows(cur, "ALTER PIPE P SET PIPE_EXECUTION_PAUSED = TRUE")
    assert paused == [{"status": "Statement executed successfully."}]
    cur.execute("ALTER PIPE P REFRESH")
    import time

    time.sleep(0.3)
    status = pipe_status(cur, name)
    assert (status["executionState"], status["pendingFileCount"], status["oldestPendingFilePath"]) == (
        "PAUSED", 1, "a.csv",
    )  # fmt: skip
    assert rows(cur, "SELECT COUNT(*) AS N FROM T") == [{"N": 0}]
    cur.execute("ALTER PIPE P SET PIPE_EXECUTION_PAUSED = FALSE")
    status = wait_loaded(cur, name)
    assert (status["executionState"], status["pendingFileCount"]) == ("RUNNING", 0)
    assert "oldestPendingFilePath" not in status
    assert rows(cur, "SELECT COUNT(*) AS N FROM T") == [{"N": 2}]


class Dependency(NamedTuple):
    statement: str  # run once the pipe has loaded a.csv
    state: str  # executionState afterwards
    error: str | None  # what SYSTEM$PIPE_STATUS's "error" says (a part of it)


DEPENDENCY_CASES = [
    pytest.param(Dependency("CREATE OR REPLACE FILE FORMAT {db}.RAW.F TYPE = CSV SKIP_HEADER = 1",
                            "STOPPED_FILE_FORMAT_DROPPED", "file format {db}.RAW.F that the pipe's COPY uses was replaced"),
                 id="create-or-replace-file-format"),
    pytest.param(Dependency("DROP FILE FORMAT {db}.RAW.F", "STOPPED_FILE_FORMAT_DROPPED",
                            "file format {db}.RAW.F that the pipe's COPY uses was dropped"), id="drop-file-format"),
    pytest.param(Dependency("CREATE OR REPLACE STAGE {db}.RAW.LANDING URL = 's3://{bucket}/in/'", "STOPPED_STAGE_DROPPED",
                            "stage {db}.RAW.LANDING that the pipe's COPY uses was replaced"), id="create-or-replace-stage"),
    pytest.param(Dependency("DROP STAGE {db}.RAW.LANDING", "STOPPED_STAGE_DROPPED",
                            "stage {db}.RAW.LANDING that the pipe's COPY uses was dropped"), id="drop-stage"),
    pytest.param(Dependency("ALTER FILE FORMAT {db}.RAW.F SET SKIP_HEADER = 1 FIELD_DELIMITER = ','", "RUNNING", None),
                 id="alter-file-format-keeps-it-running"),
]


@pytest.mark.parametrize("case", DEPENDENCY_CASES)
def test_pipe_stops_when_its_file_format_or_stage_is_dropped_or_replaced(
    cur: Cursor, database: str, s3, bucket: str, case: Dependency
) -> None:
    """A pipe stops when the named file format or stage its COPY uses is dropped, or replaced: SYSTEM$PIPE_STATUS's
    executionState "could be any one of the following: ... STOPPED_STAGE_DROPPED, STOPPED_FILE_FORMAT_DROPPED, ...",
    and its "error" is the "Error message produced when the pipe was last compiled for execution (if applicable);
    often caused by problems accessing the necessary objects (i.e. table, stage, file format) due to permission
    problems or dropped objects" (https://docs.snowflake.com/en/sql-reference/functions/system_pipe_status).
    Replacing is dropping: "CREATE OR REPLACE <object> statements are atomic. That is, when an object is replaced,
    the old object is deleted and the new object is created in a single transaction"
    (https://docs.snowflake.com/en/sql-reference/sql/create). ALTER FILE FORMAT changes the same object, so the pipe
    keeps running. A stopped pipe loads nothing (queued files stay pending) and resuming it does not restart it
    (the twin's stricter reading); recreating it does ("Change the COPY INTO statement ... CREATE OR REPLACE PIPE",
    https://docs.snowflake.com/en/user-guide/data-load-snowpipe-manage)."""
    from snowseg_twin.extensions import pipes

    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(f"CREATE FILE FORMAT {database}.RAW.F TYPE = CSV SKIP_HEADER = 1")
    copy = f"COPY INTO T FROM @LANDING/sales/ FILE_FORMAT = (FORMAT_NAME = '{database}.RAW.F')"
    cur.execute(f"CREATE PIPE {database}.RAW.P AS {copy}")
    name = f"{database}.RAW.P"
    cur.execute("ALTER PIPE P REFRESH")
    assert wait_loaded(cur, name)["executionState"] == "RUNNING"

    cur.execute("ALTER PIPE P SET PIPE_EXECUTION_PAUSED = TRUE")
    upload(s3, bucket, {"in/sales/b.csv": CSV_B})
    cur.execute("ALTER PIPE P REFRESH PREFIX = 'b'")  # queued while paused: pending
    cur.execute(case.statement.format(db=database, bucket=bucket))
    cur.execute("ALTER PIPE P SET PIPE_EXECUTION_PAUSED = FALSE")
    pipes.wait_idle()  # the resumed pipe's loads (if any) have run
    status = pipe_status(cur, name)
    assert status["executionState"] == case.state
    if case.error is None:
        assert "error" not in status and status["pendingFileCount"] == 0
        assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}, {"ID": 3}]
        return
    assert case.error.format(db=database) in status["error"]
    assert (status["pendingFileCount"], status["oldestPendingFilePath"]) == (1, "b.csv")
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}]

    if case.statement.startswith("DROP FILE FORMAT"):
        cur.execute(f"CREATE FILE FORMAT {database}.RAW.F TYPE = CSV SKIP_HEADER = 1")
    if case.statement.startswith("DROP STAGE"):
        external_stage(cur, database, bucket)
    cur.execute(f"CREATE OR REPLACE PIPE {database}.RAW.P AS {copy}")
    assert pipe_status(cur, name)["executionState"] == "RUNNING"
    cur.execute("ALTER PIPE P REFRESH PREFIX = 'b'")  # a recreated pipe has no load history: only b.csv
    status = wait_loaded(cur, name)
    assert (status["executionState"], status["pendingFileCount"]) == ("RUNNING", 0)
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}, {"ID": 3}]


def test_create_pipe_needs_its_file_format_and_stage(cur: Cursor, database: str, bucket: str) -> None:
    """CREATE PIPE compiles its COPY: a named file format or stage that does not exist is 002003 "... does not exist
    or not authorized." (the COPY's own error), and no pipe is created."""
    cur.execute(TABLE.format(db=database))
    with pytest.raises(ProgrammingError) as e:
        cur.execute("CREATE PIPE P AS COPY INTO T FROM @LANDING/sales/ FILE_FORMAT = (TYPE = CSV)")
    assert (e.value.errno, message(e.value)) == (
        2003, f"SQL compilation error:\nStage '{database}.RAW.LANDING' does not exist or not authorized.")
    external_stage(cur, database, bucket)
    with pytest.raises(ProgrammingError) as e:
        cur.execute("CREATE PIPE P AS COPY INTO T FROM @LANDING/sales/ FILE_FORMAT = (FORMAT_NAME = 'NO_SUCH')")
    assert (e.value.errno, message(e.value)) == (
        2003, f"SQL compilation error:\nFile format '{database}.RAW.NO_SUCH' does not exist or not authorized.")
    assert rows(cur, f"SHOW PIPES IN SCHEMA {database}.RAW") == []


def test_pipe_default_on_error_is_skip_file(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """Snowpipe's COPY defaults to ON_ERROR = SKIP_FILE: a file with a bad row loads nothing, the others load."""
    from snowseg_twin.extensions import pipes

    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/bad.csv": CSV_BAD})
    name = setup_pipe(cur, database, bucket)
    cur.execute("ALTER PIPE P REFRESH")
    wait_loaded(cur, name)
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}]
    history = rows(
        cur,
        f"SELECT pipe_name AS P, file_path AS F, status AS S, row_parsed AS R, first_error_message AS E "
        f"FROM {pipes.PIPE_FILES} WHERE pipe_catalog = '{database}' ORDER BY file_path",
    )
    assert history == [
        {"P": "P", "F": "a.csv", "S": "LOADED", "R": 2, "E": None},
        {"P": "P", "F": "bad.csv", "S": "LOAD_FAILED", "R": 2, "E": "Numeric value 'x' is not recognized"},
    ]


def test_copy_history_shows_pipe_loads(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """INFORMATION_SCHEMA.COPY_HISTORY shows Snowpipe's loads with the pipe's name (PIPE_NAME =>  filters them)."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    name = setup_pipe(cur, database, bucket)
    cur.execute("ALTER PIPE P REFRESH")
    wait_loaded(cur, name)
    history = rows(
        cur,
        "SELECT FILE_NAME, STAGE_LOCATION, STATUS, ROW_COUNT, PIPE_CATALOG_NAME, PIPE_SCHEMA_NAME, PIPE_NAME "
        "FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'T', "
        "START_TIME => DATEADD(HOURS, -1, CURRENT_TIMESTAMP())))",
    )
    assert history == [
        {"FILE_NAME": "a.csv", "STAGE_LOCATION": f"s3://{bucket}/in/sales/", "STATUS": "Loaded", "ROW_COUNT": 2,
         "PIPE_CATALOG_NAME": database, "PIPE_SCHEMA_NAME": "RAW", "PIPE_NAME": "P"}
    ]  # fmt: skip


def test_pipe_copy_with_batch_id_transformation(cur: Cursor, database: str, s3, bucket: str) -> None:  # noqa: ANN001
    """A pipe's COPY may transform (CREATE PIPE ... AS COPY INTO t FROM (SELECT ... FROM @stage)): Snowpipe loads
    each file with SPLIT_PART(METADATA$FILENAME, '/', -2), its parent folder, as the batch id."""
    upload(s3, bucket, {"in/sales/b_001/a.csv": CSV_A, "in/sales/b_002/b.csv": CSV_B})
    cur.execute(TABLE_BATCH.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(f"create pipe {database}.RAW.P as {BATCH_COPY}")
    assert rows(cur, "ALTER PIPE P REFRESH") == [
        {"File": "b_001/a.csv", "Status": "SENT"}, {"File": "b_002/b.csv", "Status": "SENT"}
    ]  # fmt: skip
    status = wait_loaded(cur, f"{database}.RAW.P")
    assert status["pendingFileCount"] == 0 and "lastPipeErrorTimestamp" not in status
    assert rows(cur, "SELECT * FROM T ORDER BY ID") == BATCH_ROWS


# --- VALIDATION_MODE on external stages ----------------------------------------------------------------------------


def bad_error(bucket: str, key: str = "in/sales/bad.csv") -> dict:
    """VALIDATION_MODE's row for CSV_BAD's rejected record (VALIDATE's columns), the file named by its URL."""
    return {
        "ERROR": "Numeric value 'x' is not recognized", "FILE": f"s3://{bucket}/{key}", "LINE": 3, "CHARACTER": 1,
        "BYTE_OFFSET": None, "CATEGORY": "conversion", "CODE": 100038, "SQL_STATE": "22018",
        "COLUMN_NAME": '"T"["ID":1]', "ROW_NUMBER": 2, "ROW_START_LINE": 3, "REJECTED_RECORD": "x,epsilon",
    }  # fmt: skip


class ExternalModeCase(NamedTuple):
    copy: str
    errors: list[str]  # keys of the files whose rejected record is returned, in order
    rows: list[dict] | None = None  # RETURN_<n>_ROWS' rows instead


EXTERNAL_MODE_CASES = [
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING/sales/ {FORMAT} VALIDATION_MODE = RETURN_ERRORS",
                                  ["in/sales/bad.csv"]), id="return-errors-path"),
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING {FORMAT} VALIDATION_MODE = 'RETURN_ALL_ERRORS'",
                                  ["in/other/bad.csv", "in/sales/bad.csv"]), id="return-all-errors-whole-stage"),
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING/sales {FORMAT} FILES = ('a.csv', 'bad.csv') "
                                  "VALIDATION_MODE = RETURN_ERRORS", ["in/sales/bad.csv"]), id="files"),
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING {FORMAT} PATTERN = 'other/.*' "
                                  "VALIDATION_MODE = RETURN_ERRORS", ["in/other/bad.csv"]), id="pattern"),
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING {FORMAT} PATTERN = '.*/a[.]csv' "
                                  "VALIDATION_MODE = RETURN_ERRORS", []), id="no-errors"),
    pytest.param(ExternalModeCase("COPY INTO T FROM @FORMATTED/sales/ VALIDATION_MODE = RETURN_ERRORS",
                                  ["in/sales/bad.csv"]), id="stage-file-format"),
    pytest.param(ExternalModeCase(f"COPY INTO T FROM @LANDING/sales/ {FORMAT} VALIDATION_MODE = RETURN_2_ROWS", [],
                                  [{"ID": 1, "NAME": "alpha"}, {"ID": 2, "NAME": "beta"}]), id="return-rows"),
]  # fmt: skip


@pytest.mark.parametrize("case", EXTERNAL_MODE_CASES)
def test_validation_mode_on_external_stage(
    cur: Cursor, database: str, s3, bucket: str, case: ExternalModeCase  # noqa: ANN001
) -> None:
    """COPY ... VALIDATION_MODE from an external S3 stage selects files as the COPY would (FROM path, FILES,
    PATTERN, the stage's FILE_FORMAT) and returns the same rows as from an internal stage, FILE being the
    object's s3:// URL as in COPY's output; nothing is loaded and no load history is recorded."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/bad.csv": CSV_BAD, "in/other/bad.csv": CSV_BAD})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(f"CREATE STAGE {database}.RAW.FORMATTED URL = 's3://{bucket}/in/' {FORMAT}")
    expected = case.rows if case.rows is not None else [bad_error(bucket, key) for key in case.errors]
    assert rows(cur, case.copy) == expected
    assert count(cur) == 0
    assert rows(cur, "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'T'") == [{"N": 0}]
    loaded = rows(cur, f"COPY INTO T FROM @LANDING/sales/ {FORMAT} ON_ERROR = CONTINUE")
    assert [r["status"] for r in loaded] == ["LOADED", "PARTIALLY_LOADED"]


def test_validation_mode_return_rows_on_external_stage_fails_on_a_bad_record(
    cur: Cursor, database: str, s3, bucket: str  # noqa: ANN001
) -> None:
    """RETURN_<n>_ROWS fails at the first rejected record within the first n, as ON_ERROR = ABORT_STATEMENT would."""
    upload(s3, bucket, {"in/sales/bad.csv": CSV_BAD})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    with pytest.raises(ProgrammingError) as e:
        cur.execute(f"COPY INTO T FROM @LANDING/sales/ {FORMAT} VALIDATION_MODE = RETURN_5_ROWS")
    assert e.value.errno == 100038
    assert message(e.value).splitlines()[0] == "Numeric value 'x' is not recognized"
    assert count(cur) == 0


def test_validation_mode_return_errors_skips_files_the_table_loaded(
    cur: Cursor, database: str, s3, bucket: str  # noqa: ANN001
) -> None:
    """RETURN_ERRORS skips files the table's COPY load metadata has as loaded (RETURN_ALL_ERRORS and FORCE = TRUE
    don't); Snowpipe's load metadata is separate, so a file only a pipe loaded is still validated."""
    upload(s3, bucket, {"in/sales/bad.csv": CSV_BAD, "in/piped/bad.csv": CSV_BAD})
    cur.execute(TABLE.format(db=database))
    external_stage(cur, database, bucket)
    cur.execute(f"COPY INTO T FROM @LANDING/sales/ {FORMAT} ON_ERROR = CONTINUE")
    cur.execute(f"CREATE PIPE {database}.RAW.P AS COPY INTO T FROM @LANDING/piped/ {FORMAT} ON_ERROR = CONTINUE")
    cur.execute("ALTER PIPE P REFRESH")
    wait_loaded(cur, f"{database}.RAW.P")
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 4}, {"ID": 4}]
    validate = f"COPY INTO T FROM @LANDING {FORMAT} VALIDATION_MODE = "
    assert rows(cur, validate + "RETURN_ERRORS") == [bad_error(bucket, "in/piped/bad.csv")]
    both = [bad_error(bucket, "in/piped/bad.csv"), bad_error(bucket, "in/sales/bad.csv")]
    assert rows(cur, validate + "RETURN_ALL_ERRORS") == both
    assert rows(cur, validate + "RETURN_ERRORS FORCE = TRUE") == both
    assert count(cur) == 2


# --- auto-ingest ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def auto_ingest_worker(moto_endpoint: str) -> Iterator[None]:
    """The twin's auto-ingest thread, as the server starts it when AWS_ENDPOINT_URL is set."""
    from snowseg_twin.extensions import auto_ingest

    worker = auto_ingest.start(interval=0.1)
    assert worker is not None
    try:
        yield
    finally:
        worker.stop()


def wait_for(check, timeout: float = 20) -> None:  # noqa: ANN001
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for Snowpipe"
        time.sleep(0.1)


def count(cur: Cursor) -> int:
    return rows(cur, "SELECT COUNT(*) AS N FROM T")[0]["N"]


def notify(s3, bucket: str, channel: str, prefix: str = "in/") -> None:  # noqa: ANN001
    """What the pipeline does (as with real Snowpipe): point the bucket's ObjectCreated events at the pipe's
    notification_channel."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": channel,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )


def test_auto_ingest_loads_notified_objects(
    cur: Cursor, database: str, s3, bucket: str, auto_ingest_worker: None  # noqa: ANN001
) -> None:
    """S3 ObjectCreated notifications on the pipe's SQS channel make the pipe load the object (keys are
    URL-decoded; the s3:TestEvent and objects outside the pipe's location are ignored); SYSTEM$PIPE_STATUS shows
    the channel and the last forwarded file."""
    name = setup_pipe(cur, database, bucket, "AUTO_INGEST = TRUE")
    [pipe] = rows(cur, "SHOW PIPES LIKE 'P'")
    notify(s3, bucket, pipe["notification_channel"])
    upload(s3, bucket, {"in/sales/2026/a b.csv": CSV_A, "in/other/c.csv": CSV_B})
    wait_for(lambda: count(cur) == 2)
    status = wait_loaded(cur, name)
    assert status["notificationChannelName"] == pipe["notification_channel"]
    assert status["lastIngestedFilePath"] == "2026/a b.csv"
    assert status["lastForwardedFilePath"] == f"{bucket}/in/sales/2026/a b.csv"
    assert {"lastReceivedMessageTimestamp", "lastPulledFromChannelTimestamp"} <= set(status)
    assert rows(cur, "SELECT ID FROM T ORDER BY ID") == [{"ID": 1}, {"ID": 2}]


def test_auto_ingest_paused_pipe_loads_after_resume(
    cur: Cursor, database: str, s3, bucket: str, auto_ingest_worker: None  # noqa: ANN001
) -> None:
    """Notifications for a paused pipe leave the files pending; resuming the pipe loads them."""
    name = setup_pipe(cur, database, bucket, "AUTO_INGEST = TRUE")
    [pipe] = rows(cur, "SHOW PIPES LIKE 'P'")
    notify(s3, bucket, pipe["notification_channel"])
    cur.execute("ALTER PIPE P SET PIPE_EXECUTION_PAUSED = TRUE")
    upload(s3, bucket, {"in/sales/a.csv": CSV_A})
    wait_for(lambda: pipe_status(cur, name)["pendingFileCount"] == 1)
    assert pipe_status(cur, name)["executionState"] == "PAUSED" and count(cur) == 0
    cur.execute("ALTER PIPE P SET PIPE_EXECUTION_PAUSED = FALSE")
    wait_for(lambda: count(cur) == 2)
    assert wait_loaded(cur, name)["pendingFileCount"] == 0


# --- Snowpipe REST ----------------------------------------------------------------------------------------------


@pytest.fixture()
def rest():  # noqa: ANN201
    """An HTTP client on the twin's Snowpipe REST routes (as build_app serves them), with a bearer JWT."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from snowseg_twin.extensions import snowpipe_rest

    with TestClient(Starlette(routes=snowpipe_rest.routes)) as client:
        client.headers["Authorization"] = "BEARER any.jwt.token"
        yield client


def wait_report(rest, pipe: str, n: int, timeout: float = 20) -> dict:  # noqa: ANN001
    import time

    deadline = time.monotonic() + timeout
    while len((report := rest.get(f"/v1/data/pipes/{pipe}/insertReport").json())["files"]) < n:
        assert time.monotonic() < deadline, f"insertReport: {report}"
        time.sleep(0.1)
    return report


def test_rest_insert_files_from_internal_stage(cur: Cursor, database: str, tmp_path, rest) -> None:  # noqa: ANN001
    """As the snowflake-ingest SDK's SimpleIngestManager does: PUT to a named internal stage, insertFiles answers
    responseCode SUCCESS with the requestId, insertReport then lists the file LOADED with its row counts."""
    cur.execute(TABLE.format(db=database))
    cur.execute("CREATE STAGE S")
    path = tmp_path / "a.csv"
    path.write_text(CSV_A)
    cur.execute(f"PUT 'file://{path}' @S")
    cur.execute(f"CREATE PIPE {database}.RAW.P AS COPY INTO T FROM @S {FORMAT}")
    pipe = f"{database}.RAW.P"
    answer = rest.post(f"/v1/data/pipes/{pipe}/insertFiles?requestId=r-1", json={"files": [{"path": "a.csv.gz"}]})
    assert (answer.status_code, answer.json()) == (200, {"requestId": "r-1", "responseCode": "SUCCESS"})
    report = wait_report(rest, pipe, 1)
    [entry] = report["files"]
    assert (report["pipe"], report["completeResult"], report["statistics"]) == (pipe, True, {"activeFilesCount": 0})
    assert {k: entry[k] for k in ("path", "status", "rowsInserted", "rowsParsed", "errorsSeen", "complete")} == {
        "path": "a.csv.gz", "status": "LOADED", "rowsInserted": 2, "rowsParsed": 2, "errorsSeen": 0, "complete": True,
    }  # fmt: skip
    assert rows(cur, "SELECT COUNT(*) AS N FROM T") == [{"N": 2}]
    again = rest.get(f"/v1/data/pipes/{pipe}/insertReport", params={"beginMark": report["nextBeginMark"]}).json()
    assert again["files"] == []


def test_rest_reports_failed_file_and_history_scan(
    cur: Cursor, database: str, s3, bucket: str, rest  # noqa: ANN001
) -> None:
    """insertFiles on an S3 pipe; a file with a bad row is LOAD_FAILED (Snowpipe's SKIP_FILE) with its first
    error; loadHistoryScan returns the loads in [startTimeInclusive, endTimeExclusive)."""
    import datetime

    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/bad.csv": CSV_BAD})
    pipe = setup_pipe(cur, database, bucket)
    start = datetime.datetime.now(datetime.UTC).isoformat()
    files = {"files": [{"path": "a.csv", "size": len(CSV_A)}, {"path": "bad.csv"}]}
    assert rest.post(f"/v1/data/pipes/{pipe}/insertFiles", json=files).json()["responseCode"] == "SUCCESS"
    report = wait_report(rest, pipe, 2)
    by_path = {f["path"]: f for f in report["files"]}
    assert by_path["a.csv"]["status"] == "LOADED" and by_path["a.csv"]["fileSize"] == len(CSV_A)
    assert by_path["a.csv"]["stageLocation"] == f"s3://{bucket}/in/sales/"
    bad = by_path["bad.csv"]
    assert (bad["status"], bad["rowsInserted"], bad["firstError"], bad["firstErrorLineNum"]) == (
        "LOAD_FAILED", 0, "Numeric value 'x' is not recognized", 3,
    )  # fmt: skip
    scan = rest.get(f"/v1/data/pipes/{pipe}/loadHistoryScan", params={"startTimeInclusive": start}).json()
    assert sorted(f["path"] for f in scan["files"]) == ["a.csv", "bad.csv"]
    assert scan["startTimeInclusive"] == start and scan["rangeStartTime"] <= scan["rangeEndTime"]
    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
    assert rest.get(f"/v1/data/pipes/{pipe}/loadHistoryScan", params={"startTimeInclusive": future}).json()[
        "files"
    ] == []


class RestErrorCase(NamedTuple):
    headers: dict
    pipe: str
    body: dict
    status: int


REST_ERROR_CASES = [
    pytest.param(RestErrorCase({"Authorization": ""}, "{db}.RAW.P", {"files": []}, 401), id="no-bearer-token"),
    pytest.param(RestErrorCase({}, "{db}.RAW.NOPE", {"files": []}, 404), id="unknown-pipe"),
    pytest.param(
        RestErrorCase({}, "{db}.RAW.P", {"files": [{"path": f"f{i}.csv"} for i in range(5001)]}, 400),
        id="more-than-5000-files",
    ),
]


@pytest.mark.parametrize("case", REST_ERROR_CASES)
def test_rest_errors(cur: Cursor, database: str, bucket: str, rest, case: RestErrorCase) -> None:  # noqa: ANN001
    """insertFiles needs a bearer JWT, an existing fully qualified pipe, and at most 5,000 files."""
    setup_pipe(cur, database, bucket)
    answer = rest.post(f"/v1/data/pipes/{case.pipe.format(db=database)}/insertFiles", json=case.body,
                       headers=case.headers)  # fmt: skip
    assert answer.status_code == case.status and answer.json()["success"] is False


# --- ALTER PIPE ... REFRESH: what it queues (watch_loads' reconciliation relies on it) ---------------------------------


class RefreshCase(NamedTuple):
    statement: str
    queued: list[str]


REFRESH_CASES = [
    pytest.param(RefreshCase("ALTER PIPE P REFRESH PREFIX = 'x/a.csv'", ["x/a.csv"]), id="a-file-s-own-path"),
    pytest.param(RefreshCase("ALTER PIPE P REFRESH PREFIX = 'x/'", ["x/a.csv", "x/b.csv"]), id="its-folder"),
    pytest.param(RefreshCase("ALTER PIPE P REFRESH MODIFIED_AFTER = '2999-01-01T00:00:00Z'", []), id="modified-after"),
    pytest.param(RefreshCase("ALTER PIPE P REFRESH PREFIX = 'x/' MODIFIED_AFTER = '2000-01-01T00:00:00Z'",
                             ["x/a.csv", "x/b.csv"]), id="modified-after-past-is-the-7-days"),
]


@pytest.mark.parametrize("case", REFRESH_CASES)
def test_refresh_prefix_and_modified_after(cur: Cursor, database: str, s3, bucket: str, case: RefreshCase) -> None:
    """ALTER PIPE (https://docs.snowflake.com/en/sql-reference/sql/alter-pipe): PREFIX = '<path>' is the "Path (or
    prefix) appended to the stage reference in the pipe definition"; MODIFIED_AFTER the "Timestamp (in ISO-8601
    format) of the oldest data files to copy into the Snowpipe ingest queue based on the LAST_MODIFIED date". Files
    "staged within the previous 7 days" only ("Manage Snowpipe"): an earlier MODIFIED_AFTER does not reach further
    (the stricter reading)."""
    upload(s3, bucket, {"in/sales/x/a.csv": CSV_A, "in/sales/x/b.csv": CSV_B, "in/sales/y/c.csv": CSV_B})
    setup_pipe(cur, database, bucket)
    assert [r["File"] for r in rows(cur, case.statement)] == case.queued


def test_refresh_skips_files_the_tables_load_metadata_has(cur: Cursor, database: str, s3, bucket: str) -> None:
    """REFRESH "checks the load history of both the target table and the pipe to ensure the same files are not loaded
    twice" ("Manage Snowpipe", loading historic data): a file a bulk COPY loaded into the table is not queued, nor one
    the pipe loaded; a file whose load failed is."""
    upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/b.csv": CSV_B})
    name = setup_pipe(cur, database, bucket)
    cur.execute(f"COPY INTO T FROM @LANDING/sales/ FILES = ('a.csv') {FORMAT}")
    assert rows(cur, "ALTER PIPE P REFRESH") == [{"File": "b.csv", "Status": "SENT"}]
    wait_loaded(cur, name)
    assert rows(cur, "ALTER PIPE P REFRESH") == [] and count(cur) == 3


def test_lost_events_fault_discards_the_matching_objects_events(
    cur: Cursor, database: str, s3, bucket: str, auto_ingest_worker: None
) -> None:
    """The twin's lost-events fault (dev only, docs/twin.md): the ObjectCreated event of an object matching a pattern
    is consumed and discarded, so the pipe never hears of it (as when S3 loses the event); the others load, and
    REFRESH on the lost file's path queues it."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from snowseg_twin.extensions import auto_ingest

    name = setup_pipe(cur, database, bucket, "AUTO_INGEST = TRUE")
    [pipe] = rows(cur, "SHOW PIPES LIKE 'P'")
    notify(s3, bucket, pipe["notification_channel"])
    with TestClient(Starlette(routes=auto_ingest.routes)) as client:
        assert client.put("/twin/faults/lost-events", json={"patterns": "b.csv"}).status_code == 400
        assert client.put("/twin/faults/lost-events", json={"patterns": [f"{bucket}/*/b.csv"]}).status_code == 200
        try:
            upload(s3, bucket, {"in/sales/a.csv": CSV_A, "in/sales/b.csv": CSV_B})
            wait_for(lambda: count(cur) == 2)
            wait_for(lambda: client.get("/twin/faults/lost-events").json()["lost"] == [f"{bucket}/in/sales/b.csv"])
        finally:
            assert client.delete("/twin/faults/lost-events").json() == {"patterns": [], "lost": []}
    assert wait_loaded(cur, name)["pendingFileCount"] == 0 and count(cur) == 2
    assert rows(cur, "ALTER PIPE P REFRESH PREFIX = 'b.csv'") == [{"File": "b.csv", "Status": "SENT"}]
    wait_for(lambda: count(cur) == 3)
