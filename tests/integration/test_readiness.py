"""snowseg.readiness on the twin: every check passes, and each missing piece is said in plain words with its fix.

The twin answers what real Snowflake does for these checks (warehouses, storage integrations, users with key
pairs, SHOW / DESC, DROP STAGE: devstack/snowseg_twin/extensions/account.py and tests/twin/test_account_conformance.py).
The twin checks privileges as Snowflake does; error texts it does not produce are tested at the function level with
the connector's own error objects.
Each test defines its own Airflow connection (AIRFLOW_CONN_<ID>) from the twin's and uses its own database.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector.errors import DatabaseError, ProgrammingError

from snowseg.readiness import Check, check_connection
from snowseg.readiness.checks import landing_failure, stage_failure, warehouse_failure
from snowseg.readiness.connection import resolve_target
from snowseg.readiness.login import login_failure, public_key_of
from snowseg.readiness.s3 import check_s3
from snowseg.warehouse import Names
from tests.conftest import REPO
from tests.integration.conftest import query

pytestmark = pytest.mark.integration



def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture()
def connection(twin, monkeypatch):
    """Define an Airflow Snowflake connection like the twin's with some changes; return its id.

    Keyword arguments change the connection's login / password / port, or its extras (None removes one).
    """

    def make(**changes) -> str:
        conn = json.loads(twin.connection_json())
        for key in ("login", "password"):
            if key in changes:
                conn[key] = changes.pop(key)
        for key, value in changes.items():
            if value is None:
                conn["extra"].pop(key, None)
            else:
                conn["extra"][key] = value
        conn_id = f"readiness_{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make


def _key_file(path: Path, passphrase: str | None = None) -> tuple[Path, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else \
        serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return path, key


def _public(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


SAMPLE_LANDING = "s3://snowseg-landing/sales/"


def _set_up(snowpipe: bool = True) -> None:
    """The versioned setup of this test's database (with its Snowpipe objects on SNOWSEG_LANDING_URL)."""
    from tests.conftest import set_up_warehouse

    set_up_warehouse(Names.from_env().database, landing=os.environ["SNOWSEG_LANDING_URL"], snowpipe=snowpipe)


def _landing() -> str:
    """The landing URL the checks use: the test database's own (bare_database sets it), else the default."""
    return os.environ.get("SNOWSEG_LANDING_URL", SAMPLE_LANDING)


def _names(db: str) -> list[str]:
    return [
        "login", "warehouse SNOWSEG_WH", f"database {db}", f"setup of {db} for supermarket_sales",
        f"stage {db}.RAW.%SALES_RAW_INTAKE", f"stage {db}.RAW.SNOWSEG_BULK", f"stage {db}.ANALYTICS.SNOWSEG_WRITEBACK",
        f"landing stage {db}.RAW.SNOWSEG_LANDING", "storage integration SNOWSEG_S3_INT",
        f"pipe {db}.RAW.SALES_RAW_PIPE", f"S3 {_landing()} (aws_default)",
    ]  # fmt: skip


SETUP = "make setup-warehouse CONN=<admin connection> (or trigger the setup_warehouse DAG)"


# --- on the twin, every check passes -------------------------------------------------------------------------------


def test_every_check_passes_once_the_setup_is_applied(database: str, sf) -> None:
    checks = check_connection()
    assert [c.name for c in checks] == _names(database)
    assert [(c.name, c.status, c.detail) for c in checks if c.status != "OK"] == []
    found = _by_name(checks)
    assert found["login"].detail.startswith(
        "logged in as user SNOWSEG with role SNOWSEG_ROLE and warehouse SNOWSEG_WH, by key pair (private_key_file "
    )
    assert found[f"pipe {database}.RAW.SALES_RAW_PIPE"].detail.startswith("running, auto-ingest on arn:aws:sqs:")
    assert found[f"landing stage {database}.RAW.SNOWSEG_LANDING"].detail == (
        f"exists on {_landing()} through SNOWSEG_S3_INT; LIST reaches the bucket"
    )
    assert found[f"stage {database}.RAW.%SALES_RAW_INTAKE"].detail == (
        "role SNOWSEG_ROLE can PUT, LIST and REMOVE (OWNERSHIP of the intake table)"
    )
    # no probe file is left behind
    assert query(sf, f"list @{database}.RAW.SNOWSEG_BULK") == []


def test_a_database_never_set_up_fails_with_the_setup_command(bare_database: str, sf) -> None:
    """The role creates nothing: every missing piece is a failure naming the admin's step, and nothing is created."""
    database = bare_database
    checks = check_connection()
    # the integration is the account's
    assert [c.status for c in checks] == ["OK", "OK"] + ["FAIL"] * 6 + ["OK", "FAIL", "OK"]
    found = _by_name(checks)
    assert found[f"database {database}"].detail == "does not exist, or role SNOWSEG_ROLE has no USAGE on it"
    assert found[f"database {database}"].fix == (
        "an admin runs step 3 of include/sql/admin/admin_setup.sql (CREATE DATABASE and GRANT USAGE to SNOWSEG_ROLE), "
        f"then {SETUP}"
    )
    setup = found[f"setup of {database} for supermarket_sales"]
    assert (setup.detail, setup.fix) == ("not applied: missing AUDIT.SCHEMA_VERSION", SETUP)
    assert found[f"stage {database}.RAW.SNOWSEG_BULK"].fix == (
        f"{SETUP}: its migrations create the stage and grant READ and WRITE to SNOWSEG_ROLE"
    )
    assert database not in {row[1] for row in query(sf, "show databases")}


def test_landing_stage_and_pipe_missing_without_the_snowpipe_setup(bare_database: str) -> None:
    database = bare_database
    _set_up(snowpipe=False)
    found = _by_name(check_connection())
    setup = found[f"setup of {database} for supermarket_sales"]
    assert setup.status == "FAIL" and setup.detail == (
        "not applied: missing snowpipe/V001__landing_stage, snowpipe/V002__pipe"
    )
    landing = found[f"landing stage {database}.RAW.SNOWSEG_LANDING"]
    assert (landing.status, landing.detail) == (
        "FAIL", f"does not exist: the versioned setup makes it on {_landing()} through SNOWSEG_S3_INT")
    assert landing.fix == f"SNOWSEG_LANDING_URL={_landing()} {SETUP}"
    pipe = found[f"pipe {database}.RAW.SALES_RAW_PIPE"]
    assert (pipe.status, pipe.fix) == ("FAIL", f"{SETUP} (with Snowpipe)")
    assert found[f"stage {database}.RAW.SNOWSEG_BULK"].status == "OK"
    assert check_connection(snowpipe=False)[3].status == "OK"  # the setup is complete for the other paths


def test_landing_stage_on_another_url_fails(database: str, sf) -> None:
    with sf.cursor() as cur:
        cur.execute(f"drop stage {database}.RAW.SNOWSEG_LANDING")
        cur.execute(f"create stage {database}.RAW.SNOWSEG_LANDING url = 's3://snowseg-landing/other/' "
                    "storage_integration = SNOWSEG_S3_INT")
        cur.execute(f"grant usage on stage {database}.RAW.SNOWSEG_LANDING to role SNOWSEG_ROLE")
    landing = _by_name(check_connection())[f"landing stage {database}.RAW.SNOWSEG_LANDING"]
    assert landing.status == "FAIL"
    assert landing.detail == (
        f"points at s3://snowseg-landing/other/ but the landing URL is {_landing()}: the pipe would never see the "
        "files"
    )
    assert landing.fix == (
        f"an admin runs DROP STAGE {database}.RAW.SNOWSEG_LANDING; DROP PIPE IF EXISTS {database}.RAW.SALES_RAW_PIPE; "
        f"then SNOWSEG_LANDING_URL={_landing()} {SETUP}; or set SNOWSEG_LANDING_URL=s3://snowseg-landing/other/"
    )


def test_paused_pipe_fails_with_the_resume_statement(database: str, sf) -> None:
    with sf.cursor() as cur:
        cur.execute(f"alter pipe {database}.RAW.SALES_RAW_PIPE set pipe_execution_paused = true")
    pipe = _by_name(check_connection())[f"pipe {database}.RAW.SALES_RAW_PIPE"]
    assert pipe.status == "FAIL"
    assert pipe.detail == "is paused (executionState PAUSED, 0 files pending): files land in S3 but are not loaded"
    assert pipe.fix == f"ALTER PIPE {database}.RAW.SALES_RAW_PIPE SET PIPE_EXECUTION_PAUSED = FALSE;"


# --- each missing piece, on the twin ---------------------------------------------------------------------------------


def test_warehouse_missing(database: str, connection) -> None:
    missing = _unique("NO_SUCH_WH")
    checks = check_connection(connection(warehouse=missing), snowpipe=False)
    login, warehouse = checks[0], checks[1]
    assert login.status == "OK" and "and warehouse none, by key pair" in login.detail
    assert (warehouse.name, warehouse.status) == (f"warehouse {missing}", "FAIL")
    assert warehouse.detail == (
        f"role SNOWSEG_ROLE cannot use warehouse {missing}: it does not exist, or the role is not authorized to use it "
        "(Snowflake does not say which) (Snowflake 002043: Object does not exist, or operation cannot be performed.)"
    )
    assert warehouse.fix == (
        f"GRANT USAGE ON WAREHOUSE {missing} TO ROLE SNOWSEG_ROLE;\n"
        f"(if it does not exist, an admin creates it first: CREATE WAREHOUSE IF NOT EXISTS {missing} WAREHOUSE_SIZE = "
        "XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;)"
    )
    # the other checks still ran; the setup's check reads a table, which needs a warehouse (000606)
    assert [c.status for c in checks[2:]] == ["OK", "FAIL", "OK", "OK", "OK"]
    assert "no warehouse is in use" in checks[3].detail


def test_storage_integration_missing(database: str, monkeypatch) -> None:
    missing = _unique("NO_SUCH_INT")
    monkeypatch.setenv("SNOWSEG_STORAGE_INTEGRATION", missing)
    integration = _by_name(check_connection())[f"storage integration {missing}"]
    assert integration.status == "FAIL"
    assert integration.detail == (
        "does not exist, or role SNOWSEG_ROLE has no USAGE on it (SHOW INTEGRATIONS lists only the integrations a "
        "role may use)"
    )
    assert integration.fix.splitlines() == [
        "an admin (ACCOUNTADMIN) runs:",
        f"CREATE STORAGE INTEGRATION IF NOT EXISTS {missing} TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = "
        f"TRUE STORAGE_AWS_ROLE_ARN = '<AWS_ROLE_ARN>' STORAGE_ALLOWED_LOCATIONS = ('{_landing()}');",
        f"GRANT USAGE ON INTEGRATION {missing} TO ROLE SNOWSEG_ROLE;",
        f"then puts the STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID of `DESC INTEGRATION {missing};` in the "
        "IAM role's trust policy (see include/sql/admin/admin_setup.sql)",
    ]


def test_storage_integration_not_allowing_the_landing_url(database: str, monkeypatch, sf) -> None:
    name = _unique("ELSEWHERE_INT")
    with sf.cursor() as cur:
        cur.execute("use role accountadmin")  # "Only account administrators ... can create storage integrations"
        cur.execute(f"create storage integration {name} type = external_stage storage_provider = 'S3' enabled = true "
                    "storage_aws_role_arn = 'arn:aws:iam::123456789012:role/r' "
                    "storage_allowed_locations = ('s3://elsewhere/')")
        cur.execute(f"grant usage on integration {name} to role SNOWSEG_ROLE")
    monkeypatch.setenv("SNOWSEG_STORAGE_INTEGRATION", name)
    integration = _by_name(check_connection())[f"storage integration {name}"]
    assert (integration.status, integration.detail) == (
        "FAIL", f"does not allow {_landing()} (STORAGE_ALLOWED_LOCATIONS: s3://elsewhere/)"
    )
    assert integration.fix == (
        f"an admin runs: ALTER STORAGE INTEGRATION {name} SET STORAGE_ALLOWED_LOCATIONS = ('s3://elsewhere/', "
        f"'{_landing()}');"
    )


def test_key_pair_login_failing_with_a_wrong_key(twin, connection, sf, tmp_path: Path) -> None:
    user = _unique("SNOWSEG_SVC")
    _, registered = _key_file(tmp_path / "registered.p8")
    wrong_path, wrong = _key_file(tmp_path / "wrong.p8")
    with sf.cursor() as cur:
        cur.execute("use role useradmin")  # CREATE USER is USERADMIN's (or a role with CREATE USER on the account)
        cur.execute(f"create user {user} type = service default_role = SNOWSEG_ROLE "
                    f"rsa_public_key = '{_public(registered)}'")
        cur.execute("use role securityadmin")  # a default role is not a grant: the role is granted to the user too
        cur.execute(f"grant role SNOWSEG_ROLE to user {user}")
    checks = check_connection(connection(login=user, password="", private_key_file=str(wrong_path)))
    assert [(c.name, c.status) for c in checks] == [("login", "FAIL"), (f"S3 {_landing()} (aws_default)", "OK")]
    login = checks[0]
    _, fingerprint = public_key_of(wrong)
    assert re.fullmatch(
        re.escape(f"user {user} could not log in with key pair (private_key_file {wrong_path}): Snowflake refused the "
                  "key pair: the JWT signed with the connection's private key is invalid (Snowflake 390144: JWT token "
                  "is invalid. [") + r"[0-9a-f-]{36}" + re.escape(f"]); the connection's key has fingerprint "
                  f"{fingerprint}, which `DESC USER {user}` must show as RSA_PUBLIC_KEY_FP or RSA_PUBLIC_KEY_2_FP"),
        login.detail,
    ), login.detail
    assert login.fix == (
        "set the connection's public key on the user (as a user admin):\n"
        f"ALTER USER {user} SET RSA_PUBLIC_KEY = '{_public(wrong)}';"
    )
    # the fix works
    with sf.cursor() as cur:
        cur.execute("use role useradmin")
        cur.execute(login.fix.splitlines()[1])
    conn_id = connection(login=user, password="", private_key_file=str(wrong_path))
    assert check_connection(conn_id, snowpipe=False)[0].status == "OK"


def test_private_key_with_another_passphrase(connection, tmp_path: Path) -> None:
    path, _ = _key_file(tmp_path / "other.p8", passphrase="another-passphrase")
    checks = check_connection(connection(private_key_file=str(path)), snowpipe=False)
    assert [(c.name, c.status) for c in checks] == [("login", "FAIL")]
    assert checks[0].detail == (
        f"the connection's password is not the passphrase of the private key (private_key_file {path}): Incorrect "
        "password, could not decrypt key"
    )
    assert checks[0].fix == "put the key's passphrase in the connection's password field"


def test_password_fallback_is_a_warning(connection) -> None:
    login = check_connection(connection(private_key_file=None), snowpipe=False)[0]
    assert (login.ok, login.status) == (True, "WARN")
    assert login.detail.endswith(
        "by password; the connection has no private_key_file or private_key_content, so the hook falls back to "
        "password auth: Snowflake is phasing out password sign-in for service users, and Snowpipe REST "
        "(notify=rest) accepts key pairs only"
    )
    assert login.fix.startswith("use key-pair auth: generate a key (openssl genrsa 2048 | openssl pkcs8 -topk8")


def test_unreachable_host(connection) -> None:
    from snowseg_twin.process import free_port

    port = free_port()
    conn_id = connection(port=port)
    checks = check_connection(conn_id, snowpipe=False)
    assert [(c.name, c.status) for c in checks] == [("login", "FAIL")]
    assert checks[0].detail.startswith(f"Snowflake connection {conn_id!r} points at 127.0.0.1:{port}, which does not "
                                       "answer (")
    assert "start it with `make twin-up`" in checks[0].detail
    assert checks[0].fix == "make twin-up (for the local twin), or fix the connection's host/port extras"


def test_s3_bucket_missing_and_aws_connection_missing(database: str, monkeypatch) -> None:
    monkeypatch.setenv("SNOWSEG_LANDING_URL", "s3://no-such-landing/sales/")
    s3 = check_connection()[-1]
    assert (s3.name, s3.status) == ("S3 s3://no-such-landing/sales/ (aws_default)", "FAIL")
    assert s3.detail == "bucket no-such-landing does not exist (s3:ListBucket (HeadBucket): 404)"
    assert s3.fix == "an AWS admin creates bucket no-such-landing, or set SNOWSEG_LANDING_URL to the landing bucket"
    monkeypatch.delenv("SNOWSEG_LANDING_URL")
    s3 = check_s3(resolve_target(None, None, None, None, "no_such_aws"))
    assert (s3.status, s3.fix.split(",")[0]) == ("WARN", "define it")
    assert s3.detail.startswith("not checked: no Airflow connection 'no_such_aws' (")


# --- the admin script, run on the twin as an admin, then checked as its service user ---------------------------------


def _admin_statements(**replace: str) -> list[str]:
    text = (REPO / "include" / "sql" / "admin" / "admin_setup.sql").read_text(encoding="utf-8")
    header = text.split("\n\n", 1)[0]
    placeholders = set(re.findall(r"<[A-Z_]+>", text))
    assert placeholders == {"<RSA_PUBLIC_KEY>", "<AWS_ROLE_ARN>", "<BUCKET>", "<PREFIX>"}
    assert all(p in header for p in placeholders), "every placeholder is documented at the top"
    for old, new in replace.items():
        text = re.sub(rf"\b{re.escape(old)}\b" if old[0].isalpha() else re.escape(old), new, text)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def test_admin_script_then_the_setup_then_every_check_passes(bare_database: str, connection, sf, tmp_path: Path,
                                                              monkeypatch) -> None:
    """An admin runs admin_setup.sql (role, warehouse, database, service user, integration), then the versioned setup
    as SYSADMIN: the new service user, with only the grants these give, passes every check."""
    database = bare_database
    user, integration = _unique("SNOWSEG_SVC"), _unique("SNOWSEG_S3_INT")
    key_path, key = _key_file(tmp_path / "svc.p8", passphrase="svc-passphrase")
    statements = _admin_statements(**{
        "<RSA_PUBLIC_KEY>": _public(key), "<AWS_ROLE_ARN>": "arn:aws:iam::123456789012:role/snowseg-snowflake-s3",
        "<BUCKET>": "snowseg-landing", "<PREFIX>": database.lower(), "SNOWSEG": database, "SNOWSEG_SVC": user,
        "SNOWSEG_S3_INT": integration,
    })  # fmt: skip
    with sf.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    monkeypatch.setenv("SNOWSEG_STORAGE_INTEGRATION", integration)
    _set_up()
    conn_id = connection(login=user, password="svc-passphrase", private_key_file=str(key_path), role=None,
                         warehouse=None)
    checks = check_connection(conn_id)
    assert [(c.name, c.status) for c in checks if c.status != "OK"] == [
        ("warehouse SNOWSEG_WH", "WARN"),  # the connection names none: the user's default is used
    ]
    login = checks[0]
    assert login.detail.startswith(f"logged in as user {user} with role SNOWSEG_ROLE and warehouse SNOWSEG_WH, by key "
                                   f"pair (private_key_file {key_path}) (the connection names no role: the user's "
                                   "default role SNOWSEG_ROLE is used)")
    assert _by_name(checks)[f"landing stage {database}.RAW.SNOWSEG_LANDING"].detail == (
        f"exists on {_landing()} through {integration}; LIST reaches the bucket"
    )
    assert _by_name(checks)[f"storage integration {integration}"].detail == (
        f"exists, is enabled, role SNOWSEG_ROLE may use it and it allows {_landing()}"
    )


# --- the error -> plain words mapping, with the connector's own error objects ----------------------------------------

NAMES = Names()
ROLE = "SNOWSEG_ROLE"
NO_PRIVILEGE_SCHEMA = ProgrammingError(msg="SQL access control error:\nInsufficient privileges to operate on schema "
                                       "'RAW'", errno=3001, sqlstate="42501")  # fmt: skip
NO_SCHEMA = ProgrammingError(msg="SQL compilation error:\nSchema 'SNOWSEG.RAW' does not exist or not authorized.",
                             errno=2003, sqlstate="02000")


class Mapped(NamedTuple):
    check: Check
    detail: str
    fix: str


MAPPED = [
    pytest.param(Mapped(
        stage_failure(NO_PRIVILEGE_SCHEMA, "SNOWSEG.RAW.SNOWSEG_BULK", ROLE, "put", "READ and WRITE"),
        "put refused for role SNOWSEG_ROLE: the role lacks the privilege for it (Snowflake 003001: Insufficient "
        "privileges to operate on schema 'RAW') (the DAGs need READ and WRITE)",
        "make setup-warehouse CONN=<admin connection> (or trigger the setup_warehouse DAG): its migrations create the "
        "stage and grant READ and WRITE to SNOWSEG_ROLE",
    ), id="stage-not-writable"),
    pytest.param(Mapped(
        stage_failure(NO_SCHEMA, "SNOWSEG.RAW.%SALES_RAW_INTAKE", ROLE, "list",
                      "OWNERSHIP of the intake table"),
        "list refused for role SNOWSEG_ROLE: it does not exist, or the role is not authorized to use it (Snowflake "
        "does not say which) (Snowflake 002003: Schema 'SNOWSEG.RAW' does not exist or not authorized.) (the DAGs need "
        "OWNERSHIP of the intake table)",
        "make setup-warehouse CONN=<admin connection> (or trigger the setup_warehouse DAG): its migrations create the "
        "stage and grant OWNERSHIP of the intake table to SNOWSEG_ROLE",
    ), id="intake-stage-not-owned"),
    pytest.param(Mapped(
        warehouse_failure(ProgrammingError(msg="No active warehouse selected in the current session.  Select "
                                           "an active warehouse with the 'use warehouse' command.",
                                           errno=606, sqlstate="57P03"), "SNOWSEG_WH", ROLE),
        "role SNOWSEG_ROLE cannot use warehouse SNOWSEG_WH: no warehouse is in use in the session (Snowflake 000606: "
        "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' "
        "command.)",
        "GRANT USAGE ON WAREHOUSE SNOWSEG_WH TO ROLE SNOWSEG_ROLE;\n(if it does not exist, an admin creates it first: "
        "CREATE WAREHOUSE IF NOT EXISTS SNOWSEG_WH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE "
        "INITIALLY_SUSPENDED = TRUE;)",
    ), id="no-active-warehouse"),
    pytest.param(Mapped(
        landing_failure(
            ProgrammingError(msg="Failure using stage area. Cause: [Access Denied (Status Code: 403; Error Code: "
                             "AccessDenied)]", errno=91003, sqlstate="XX000"),
            NAMES, resolve_target("SNOWSEG", SAMPLE_LANDING, "SNOWSEG_S3_INT", None, None), ROLE, "list"),
        f"Snowflake cannot read {SAMPLE_LANDING} through SNOWSEG_S3_INT: Snowflake could not read the stage's storage "
        "(check the storage integration and the IAM role) (Snowflake 091003: Failure using stage area. Cause: [Access "
        "Denied (Status Code: 403; Error Code: AccessDenied)])",
        "check the IAM role of storage integration SNOWSEG_S3_INT: its trust policy must name the "
        "STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID that `DESC INTEGRATION SNOWSEG_S3_INT;` shows, and its "
        "policy must allow s3:GetObject and s3:GetObjectVersion on arn:aws:s3:::snowseg-landing/sales/* and "
        "s3:ListBucket on arn:aws:s3:::snowseg-landing",
    ), id="bucket-access-denied"),
    pytest.param(Mapped(
        login_failure(DatabaseError(msg="Failed to connect to DB: myorg-acct.snowflakecomputing.com:443. "
                                    "Incorrect username or password was specified.", errno=390100,
                                    sqlstate="28000"), "SNOWSEG_SVC", ROLE, "password"),
        "user SNOWSEG_SVC could not log in with password: Snowflake refused the user name or password (Snowflake "
        "390100: Incorrect username or password was specified.)",
        "check the connection's login and password; better, use key-pair auth: ALTER USER SNOWSEG_SVC SET "
        "RSA_PUBLIC_KEY = '<public key>'; and set the extra private_key_file",
    ), id="wrong-password"),
    pytest.param(Mapped(
        login_failure(DatabaseError(msg="Failed to connect to DB: myorg-acct.snowflakecomputing.com:443. "
                                    "Role 'SNOWSEG_ROLE' specified in the connect string is not granted to "
                                    "this user. Contact your local system administrator, or attempt to "
                                    "login with another role, e.g. PUBLIC.", errno=390189, sqlstate="08004"),
                      "SNOWSEG_SVC", ROLE, "key pair (private_key_file /secrets/k.p8)"),
        "user SNOWSEG_SVC could not log in with key pair (private_key_file /secrets/k.p8): the connection's role is "
        "not granted to the user (Snowflake 390189: Role 'SNOWSEG_ROLE' specified in the connect string is not granted "
        "to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.)",
        "GRANT ROLE SNOWSEG_ROLE TO USER SNOWSEG_SVC;",
    ), id="role-not-granted"),
]


@pytest.mark.parametrize("case", MAPPED)
def test_error_mapping(case: Mapped) -> None:
    assert (case.check.status, case.check.detail, case.check.fix) == ("FAIL", case.detail, case.fix)


# --- the CLI ---------------------------------------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(REPO / "include"), str(REPO / "devstack"), str(REPO / "devstack" / "sitecustomize")])
    return subprocess.run(
        [sys.executable, "-m", "snowseg.readiness", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": path, **(env or {})}, cwd=REPO,
    )  # fmt: skip


def test_cli_exit_codes(database: str, connection) -> None:
    ok = _cli("--conn", "snowflake_default", "--aws-conn", "aws_default")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0] == "Snowflake connection 'snowflake_default':"
    assert [ln.split()[0] for ln in lines[1:-1]] == ["OK"] * 11
    assert lines[-1] == "11 ok, 0 warnings, 0 failed"
    assert "local-twin-no-secret" not in ok.stdout + ok.stderr  # the key's passphrase is never printed

    from snowseg_twin.process import free_port

    down = _cli("--conn", connection(port=free_port()), "--no-snowpipe")
    assert down.returncode == 1, down.stdout + down.stderr
    assert down.stdout.splitlines()[1].startswith("FAIL login  Snowflake connection 'readiness_")
    assert "       fix: make twin-up (for the local twin), or fix the connection's host/port extras" in down.stdout


def test_make_target_runs_the_cli_with_the_connection() -> None:
    dry = subprocess.run(["make", "-n", "check-connection", "CONN=my_conn", "AWS_CONN=my_aws"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert f"{REPO}/.venv/bin/python -m snowseg.readiness --conn my_conn --aws-conn my_aws" in dry.stdout
    default = subprocess.run(["make", "-n", "check-connection"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert f"{REPO}/.venv/bin/python -m snowseg.readiness --conn snowflake_default" in default.stdout
