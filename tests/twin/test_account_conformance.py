"""Conformance of the twin's account objects with Snowflake: warehouses, storage integrations, users and key-pair
login, the session's context functions, DROP STAGE / DROP FILE FORMAT.

What Snowflake does, as these tests state it:
- A login naming a warehouse that does not exist succeeds; the session then has no current warehouse
  (CURRENT_WAREHOUSE() is NULL), and ``USE WAREHOUSE`` of it fails with 002043 "Object does not exist, or operation
  cannot be performed." CREATE WAREHOUSE makes the new warehouse the session's current one.
- CURRENT_USER() is the login's user, CURRENT_ROLE() the login's role (else the user's DEFAULT_ROLE, else PUBLIC).
- SHOW INTEGRATIONS lists storage integrations as type EXTERNAL_STAGE, category STORAGE; DESC INTEGRATION gives
  one row per property, including STORAGE_ALLOWED_LOCATIONS and the generated STORAGE_AWS_IAM_USER_ARN and
  STORAGE_AWS_EXTERNAL_ID; a missing integration is 002003 "Integration 'X' does not exist or not authorized."
- A key-pair (JWT) login succeeds only with the private key of the user's RSA_PUBLIC_KEY or RSA_PUBLIC_KEY_2;
  another key fails with 390144 "JWT token is invalid." DESC USER shows RSA_PUBLIC_KEY_FP, the fingerprint the
  connector puts in the JWT.
- DROP STAGE / DROP FILE FORMAT remove the object; a missing one is 002003 unless IF EXISTS.

Each test uses its own names (the conformance server is shared by the session).
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import NamedTuple

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import DictCursor
from snowflake.connector.auth import AuthByKeyPair
from snowflake.connector.errors import DatabaseError, ProgrammingError


def _message(error: Exception) -> str:
    """The error's message as Snowflake words it, without the connector's "<errno> (<sqlstate>): " prefix."""
    return re.sub(r"^\d{6} \(\w{5}\): (?:(?:None|[0-9a-f-]{36}): )?", "", error.raw_msg or "")


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8].upper()}"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _connect(twin_kwargs: dict, **kwargs) -> snowflake.connector.SnowflakeConnection:
    args = {**twin_kwargs, **kwargs}
    if "private_key" in kwargs:
        args.pop("password", None)
    return snowflake.connector.connect(**args)


def _one(conn: snowflake.connector.SnowflakeConnection, sql: str) -> dict:
    with conn.cursor(DictCursor) as cur:
        cur.execute(sql)
        return cur.fetchone()


# --- warehouses and the session context -------------------------------------------------------------------------


def test_login_sets_user_role_and_an_existing_warehouse(twin_kwargs: dict) -> None:
    with _connect(twin_kwargs, user="etl_user", role="snowseg_role", warehouse="snowseg_wh") as conn:
        row = _one(conn, "select current_user(), current_role(), current_warehouse()")
    assert row == {"CURRENT_USER()": "ETL_USER", "CURRENT_ROLE()": "SNOWSEG_ROLE", "CURRENT_WAREHOUSE()": "SNOWSEG_WH"}


def test_login_without_a_role_is_public(twin_kwargs: dict) -> None:
    with _connect(twin_kwargs) as conn:
        assert _one(conn, "select current_role() as r")["R"] == "PUBLIC"


def test_missing_warehouse_login_succeeds_without_a_warehouse_and_use_fails(twin_kwargs: dict) -> None:
    missing = _name("NO_SUCH_WH")
    with _connect(twin_kwargs, warehouse=missing) as conn:
        assert _one(conn, "select current_warehouse() as w")["W"] is None
        with pytest.raises(ProgrammingError) as e, conn.cursor() as cur:
            cur.execute(f"use warehouse {missing}")
    assert (e.value.errno, _message(e.value)) == (
        2043, "SQL compilation error:\nObject does not exist, or operation cannot be performed."
    )


def test_create_warehouse_becomes_current_and_is_shown(twin_kwargs: dict) -> None:
    wh = _name("WH")
    with _connect(twin_kwargs) as conn, conn.cursor(DictCursor) as cur:
        cur.execute(f"create warehouse if not exists {wh} warehouse_size = xsmall auto_suspend = 60 "
                    "auto_resume = true initially_suspended = true")
        assert cur.fetchone() == {"status": f"Warehouse {wh} successfully created."}
        assert _one(conn, "select current_warehouse() as w")["W"] == wh
        cur.execute(f"create warehouse if not exists {wh}")
        assert cur.fetchone() == {"status": f"{wh} already exists, statement succeeded."}
        cur.execute(f"show warehouses like '{wh.lower()}'")
        (row,) = cur.fetchall()
        assert {k: row[k] for k in ("name", "state", "size", "auto_suspend", "auto_resume", "is_current")} == {
            "name": wh, "state": "SUSPENDED", "size": "X-Small", "auto_suspend": 60, "auto_resume": "true",
            "is_current": "Y",
        }
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"create warehouse {wh}")
        assert (e.value.errno, _message(e.value)) == (2002, f"SQL compilation error:\nObject '{wh}' already exists.")
        cur.execute(f"drop warehouse {wh}")
        assert _one(conn, "select current_warehouse() as w")["W"] is None
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"use warehouse {wh}")
        assert e.value.errno == 2043


def test_new_account_has_the_provisioned_warehouses(twin_kwargs: dict) -> None:
    with _connect(twin_kwargs) as conn, conn.cursor(DictCursor) as cur:
        cur.execute("show warehouses")
        assert {"COMPUTE_WH", "SNOWSEG_WH"} <= {r["name"] for r in cur.fetchall()}


def test_use_role_changes_current_role(twin_kwargs: dict) -> None:
    with _connect(twin_kwargs, role="SNOWSEG_ROLE") as conn, conn.cursor() as cur:
        cur.execute("use role sysadmin")
        assert _one(conn, "select current_role() as r")["R"] == "SYSADMIN"


# --- storage integrations --------------------------------------------------------------------------------------------


def test_storage_integration_create_show_desc_drop(twin_kwargs: dict) -> None:
    name = _name("S3_INT")
    with _connect(twin_kwargs) as conn, conn.cursor(DictCursor) as cur:
        cur.execute(
            f"create storage integration if not exists {name} type = external_stage storage_provider = 'S3' "
            "enabled = true storage_aws_role_arn = 'arn:aws:iam::123456789012:role/r' "
            "storage_allowed_locations = ('s3://landing/sales/', 's3://landing/more/') comment = 'landing'"
        )
        assert cur.fetchone() == {"status": f"Integration {name} successfully created."}
        cur.execute(f"show integrations like '{name.lower()}'")
        (shown,) = cur.fetchall()
        assert {k: shown[k] for k in ("name", "type", "category", "enabled", "comment")} == {
            "name": name, "type": "EXTERNAL_STAGE", "category": "STORAGE", "enabled": "true", "comment": "landing",
        }
        cur.execute(f"desc integration {name}")
        props = {r["property"]: (r["property_type"], r["property_value"]) for r in cur.fetchall()}
        assert props["STORAGE_ALLOWED_LOCATIONS"] == ("List", "s3://landing/sales/,s3://landing/more/")
        assert props["STORAGE_PROVIDER"] == ("String", "S3")
        assert props["ENABLED"] == ("Boolean", "true")
        assert props["STORAGE_AWS_ROLE_ARN"] == ("String", "arn:aws:iam::123456789012:role/r")
        assert props["STORAGE_AWS_IAM_USER_ARN"][1].startswith("arn:aws:iam::")
        assert "_SFCRole=" in props["STORAGE_AWS_EXTERNAL_ID"][1]
        cur.execute(f"drop integration {name}")
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"describe storage integration {name}")
    assert (e.value.errno, _message(e.value)) == (
        2003, f"SQL compilation error:\nIntegration '{name}' does not exist or not authorized."
    )


def test_new_account_has_the_provisioned_storage_integration(twin_kwargs: dict) -> None:
    with _connect(twin_kwargs) as conn, conn.cursor(DictCursor) as cur:
        cur.execute("show storage integrations like 'SNOWSEG_S3_INT'")
        assert [r["name"] for r in cur.fetchall()] == ["SNOWSEG_S3_INT"]


# --- users and key-pair login ----------------------------------------------------------------------------------------


class KeyCase(NamedTuple):
    registered: str  # which keys the user has: "key" (RSA_PUBLIC_KEY), "key_2", "both", "none"
    login_with: str  # "right" or "wrong"
    accepted: bool


KEY_CASES = [
    pytest.param(KeyCase("key", "right", True), id="rsa_public_key"),
    pytest.param(KeyCase("key_2", "right", True), id="rsa_public_key_2-rotation"),
    pytest.param(KeyCase("key", "wrong", False), id="another-key-is-refused"),
    pytest.param(KeyCase("none", "right", False), id="user-without-a-key-is-refused"),
]


@pytest.mark.parametrize("case", KEY_CASES)
def test_key_pair_login_needs_the_users_key(twin_kwargs: dict, case: KeyCase) -> None:
    user, right, wrong = _name("SVC"), _key(), _key()
    props = {"key": f"rsa_public_key = '{_public(right)}'", "key_2": f"rsa_public_key_2 = '{_public(right)}'",
             "none": "", "both": ""}[case.registered]  # fmt: skip
    with _connect(twin_kwargs) as admin, admin.cursor() as cur:
        cur.execute(f"create user {user} type = service default_role = SNOWSEG_ROLE {props}")
    key = right if case.login_with == "right" else wrong
    if case.accepted:
        with _connect(twin_kwargs, user=user.lower(), private_key=key) as conn:
            assert _one(conn, "select current_user() as u, current_role() as r") == {"U": user, "R": "SNOWSEG_ROLE"}
        return
    with pytest.raises(DatabaseError) as e:
        _connect(twin_kwargs, user=user, private_key=key)
    assert e.value.errno == 390144
    assert "JWT token is invalid." in _message(e.value)


def test_alter_user_sets_the_key_and_desc_user_shows_its_fingerprint(twin_kwargs: dict) -> None:
    user, old, new = _name("SVC"), _key(), _key()
    with _connect(twin_kwargs) as admin, admin.cursor(DictCursor) as cur:
        cur.execute(f"create user if not exists {user} rsa_public_key = '{_public(old)}'")
        assert cur.fetchone() == {"status": f"User {user} successfully created."}
        cur.execute(f"alter user {user} set rsa_public_key = '-----BEGIN PUBLIC KEY-----\n{_public(new)}\n"
                    "-----END PUBLIC KEY-----'")
        cur.execute(f"desc user {user}")
        props = {r["property"]: r["value"] for r in cur.fetchall()}
    assert props["RSA_PUBLIC_KEY"] == _public(new)
    assert props["RSA_PUBLIC_KEY_FP"] == AuthByKeyPair.calculate_public_key_fingerprint(new)
    assert props["RSA_PUBLIC_KEY_2_FP"] == "null"
    with pytest.raises(DatabaseError) as e:
        _connect(twin_kwargs, user=user, private_key=old)
    assert e.value.errno == 390144
    with _connect(twin_kwargs, user=user, private_key=new) as conn:
        assert _one(conn, "select current_user() as u")["U"] == user


def test_missing_user_and_invalid_key_are_refused(twin_kwargs: dict) -> None:
    missing = _name("NOBODY")
    with _connect(twin_kwargs) as admin, admin.cursor() as cur:
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"desc user {missing}")
        assert (e.value.errno, _message(e.value)) == (
            2003, f"SQL compilation error:\nUser '{missing}' does not exist or not authorized."
        )
        with pytest.raises(ProgrammingError, match="Invalid RSA public key"):
            cur.execute(f"create user {missing} rsa_public_key = 'not a key'")


def test_twin_accepts_any_key_for_a_user_it_does_not_know(twin_kwargs: dict) -> None:
    """A difference from Snowflake, stated: the twin's own connections log in as users nobody created."""
    with _connect(twin_kwargs, user=_name("ANYONE"), private_key=_key()) as conn:
        assert _one(conn, "select 1 as one")["ONE"] == 1


# --- DROP STAGE / DROP FILE FORMAT -----------------------------------------------------------------------------------


def test_drop_stage_and_file_format(cur: DictCursor, database: str) -> None:
    cur.execute(f"create temporary file format {database}.RAW.FF type = csv")
    cur.execute(f"create temporary stage {database}.RAW.ST file_format = (format_name = '{database}.RAW.FF')")
    cur.execute(f"drop stage {database}.RAW.ST")
    assert cur.fetchone() == {"status": "ST successfully dropped."}
    cur.execute(f"drop file format if exists {database}.RAW.FF")
    assert cur.fetchone() == {"status": "FF successfully dropped."}
    cur.execute(f"show stages in schema {database}.RAW")
    assert cur.fetchall() == []
    cur.execute(f"drop stage if exists {database}.RAW.ST")
    assert cur.fetchone() == {"status": "Drop statement executed successfully (ST already dropped)."}
    with pytest.raises(ProgrammingError) as e:
        cur.execute("drop file format RAW.FF")
    assert (e.value.errno, _message(e.value)) == (
        2003, f"SQL compilation error:\nFile format '{database}.RAW.FF' does not exist or not authorized."
    )


# --- DROP DATABASE ---------------------------------------------------------------------------------------------------


def test_drop_database_takes_every_object_in_it(twin_kwargs: dict, tmp_path) -> None:
    """``DROP DATABASE [IF EXISTS] <name> [CASCADE | RESTRICT]`` "Removes a database from the system" and, by default
    (CASCADE), "drops the database and all objects in the database" (https://docs.snowflake.com/en/sql-reference/sql/
    drop-database): its tables, stages (with their staged files), file formats and pipes go with it, and a database
    created again under the same name is empty. A missing database is 002003 unless IF EXISTS. (The twin keeps no
    Time Travel copy for UNDROP DATABASE.)"""
    name = _name("DROPPED")
    local = tmp_path / "one.csv"
    local.write_text("a\n1\n", encoding="utf-8")
    with _connect(twin_kwargs) as conn, conn.cursor(DictCursor) as cur:
        for sql in (f"create database {name}", f"create schema {name}.RAW", f"create table {name}.RAW.T (a int)",
                    f"create stage {name}.RAW.ST", f"create file format {name}.RAW.FF type = csv",
                    f"create pipe {name}.RAW.P as copy into {name}.RAW.T from @{name}.RAW.ST",
                    f"put 'file://{local}' @{name}.RAW.ST/in/", f"put 'file://{local}' @{name}.RAW.%T/in/"):
            cur.execute(sql)
        cur.execute(f"use database {name}")  # the session goes on without a current database
        cur.execute(f"drop database {name} cascade")
        assert cur.fetchone() == {"status": f"{name} successfully dropped."}
        cur.execute("show databases")
        assert name not in [d["name"] for d in cur.fetchall()]
        cur.execute("show pipes like 'P' in account")
        assert [p for p in cur.fetchall() if p["database_name"] == name] == []
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"select * from {name}.RAW.T")
        assert e.value.errno == 2003
        cur.execute(f"create database {name}")
        cur.execute(f"create schema {name}.RAW")
        cur.execute(f"show stages in schema {name}.RAW")
        assert cur.fetchall() == []
        cur.execute(f"show file formats in schema {name}.RAW")
        assert cur.fetchall() == []
        cur.execute(f"create table {name}.RAW.T (a int)")
        cur.execute(f"list @{name}.RAW.%T")
        assert cur.fetchall() == []  # the old table stage's files went with the database
        cur.execute(f"drop database {name} restrict")
        assert cur.fetchone() == {"status": f"{name} successfully dropped."}
        cur.execute(f"drop database if exists {name}")
        assert cur.fetchone() == {"status": f"Drop statement executed successfully ({name} already dropped)."}
        with pytest.raises(ProgrammingError) as e:
            cur.execute(f"drop database {name}")
    assert (e.value.errno, _message(e.value)) == (
        2003, f"SQL compilation error:\nDatabase '{name}' does not exist or not authorized."
    )
