"""Is a Snowflake connection ready for the DAGs? Each check in plain words, with the exact fix.

The day a team points the DAGs at real Snowflake, ``python -m snowseg.readiness --conn snowflake_default`` (or
``make check-connection CONN=...``) tells them what is missing instead of a DAG failing deep inside a task. It
logs in through the Snowflake provider's ``SnowflakeHook`` (:func:`snowseg.warehouse.connect`) and checks, in
order:

1. **login**: the login works, with which auth (key pair from ``private_key_file`` / ``private_key_content``, or a
   password fallback, which is a warning), and as which user, role and warehouse;
2. **warehouse**: ``USE WAREHOUSE`` works for the connection's warehouse;
3. **database**: it exists and the role may use it (the DAGs create nothing: an admin's ``admin_setup.sql``
   creates it);
4. **setup**: the versioned setup (``make setup-warehouse``) is recorded in ``AUDIT.SCHEMA_VERSION`` for the
   database and the contract's dataset (with its Snowpipe objects when ``snowpipe``);
5. **stages** the DAGs use: the intake table's stage (the small path; the role must own that table), the bulk
   stage and the writeback stage (READ and WRITE): a tiny file PUT under a probe path, LISTed and REMOVEd;
6. **landing stage** ``RAW.SNOWSEG_LANDING``: it exists on the landing URL and LIST reaches the bucket;
7. **storage integration**: the role can see (use) it, it is enabled and allows the landing URL;
8. **pipe** ``RAW.<TABLE>_PIPE``: it exists, has a notification channel and is running (``SYSTEM$PIPE_STATUS``);
9. **S3**: the AWS connection reaches the landing bucket and prefix (HeadBucket, ListObjectsV2,
   GetBucketNotificationConfiguration; no object is written, as a probe object would reach the pipe).

No check creates an object: the role the DAGs run as may not, and a missing object is the setup's to make.
Checks 6-9 are for load_s3_snowpipe only (``snowpipe=False`` / ``--no-snowpipe`` leaves them out). Each check
runs whatever the others found; without a login only the S3 check can run. A failure's ``fix`` is the SQL to run
(with the connection's real names) or what to do; Snowflake's error codes are turned into plain words
(:func:`explain`). Secrets are never printed: no password, passphrase or private key, only the key file's path
and the public key's fingerprint.

Examples
--------
>>> print(format_checks([Check("warehouse SNOWSEG_WH", False, "does not exist", "GRANT USAGE ON WAREHOUSE ...;")]))
FAIL warehouse SNOWSEG_WH  does not exist
       fix: GRANT USAGE ON WAREHOUSE ...;
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowseg import warehouse as wh
from snowseg.config import contract_path, load_contract
from snowseg.loading.audit import error_text
from snowseg.migrations import SETUP_COMMAND
from snowseg.objects import BULK_STAGE, LANDING_STAGE, WRITEBACK_STAGE, dataset_objects
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

ADMIN_SCRIPT = "include/sql/admin/admin_setup.sql"
DEFAULT_AWS_CONN_ID = "aws_default"
PROBE_PATH = "snowseg_readiness_probe/"  # a path under the landing stage that holds nothing: LIST stays cheap

# Snowflake error codes -> what they mean, in plain words (the message's first line follows in brackets)
_CODES = {
    606: "no warehouse is in use in the session",
    2002: "it already exists, but the role cannot see it",
    2003: "it does not exist, or the role is not authorized to use it (Snowflake does not say which)",
    2043: "it does not exist, or the role is not authorized to use it (Snowflake does not say which)",
    3001: "the role lacks the privilege for it",
    91003: "Snowflake could not read the stage's storage (check the storage integration and the IAM role)",
    250001: "Snowflake could not be reached (network, proxy, or the account identifier)",
    251005: "the connection has no user (login)",
    251006: "the connection has no password",
    390100: "Snowflake refused the user name or password",
    390101: "the user is disabled",
    390144: "Snowflake refused the key pair: the JWT signed with the connection's private key is invalid",
    390189: "the connection's role is not granted to the user",
}


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether the DAGs can work with it, what was found, and the fix.

    A warning is ``ok`` (it does not fail the run) with ``warning=True``: something the DAGs create themselves
    on their first run, or something that works but should change. A check that could not run for a reason that
    is no failure (``make test-snowflake`` without an AWS connection) is ``ok`` with ``skipped=True``, and its
    ``fix`` says how to run it.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    skipped: bool = False

    @property
    def status(self) -> str:
        """``OK``, ``WARN``, ``SKIP`` or ``FAIL``."""
        return "FAIL" if not self.ok else "SKIP" if self.skipped else "WARN" if self.warning else "OK"


@dataclass(frozen=True)
class _Target:
    """What the DAGs will use: the names, the landing place and the pipe, as the pipeline resolves them."""

    names: Names
    landing_url: str | None
    integration: str | None
    landing_error: str | None
    pipe: str
    aws_conn_id: str
    contract: Any


@dataclass
class _Session:
    user: str
    role: str
    warehouse_wanted: str | None  # the connection's warehouse
    warehouse: str | None  # the session's current warehouse after login
    auth: str


def explain(error: BaseException) -> str:
    """A Snowflake (or key-loading, or network) error in plain words, with Snowflake's code and first line.

    Parameters
    ----------
    error : BaseException
        Usually a ``snowflake.connector.errors.Error`` (``errno``, ``msg``).

    Returns
    -------
    str

    Examples
    --------
    >>> from snowflake.connector.errors import ProgrammingError
    >>> explain(ProgrammingError(msg="SQL access control error:\\nInsufficient privileges to operate on schema 'RAW'",
    ...                          errno=3001))
    "the role lacks the privilege for it (Snowflake 003001: Insufficient privileges to operate on schema 'RAW')"
    >>> explain(ValueError("Bad decrypt. Incorrect password?"))
    'Bad decrypt. Incorrect password?'
    """
    errno = getattr(error, "errno", None)
    msg = error_text(error)
    msg = re.sub(r"^\d{6}(?: \(\w+\))?: (?:(?:None|[0-9a-f-]{36}): )?", "", msg)  # the connector's errno prefix
    msg = re.sub(r"^Failed to connect to DB: \S+?:\d+\. ", "", msg)
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.rstrip(":").lower().endswith(("compilation error", "access control error"))]
    first = lines[0] if lines else msg.strip()
    if not isinstance(errno, int) or errno <= 0:
        return first
    plain = _CODES.get(errno)
    return f"{plain} (Snowflake {errno:06d}: {first})" if plain else f"Snowflake {errno:06d}: {first}"


def _errno(error: BaseException) -> int | None:
    errno = getattr(error, "errno", None)
    return errno if isinstance(errno, int) else None


def _is_missing(error: BaseException) -> bool:
    return _errno(error) in (2003, 2043)


def _is_privilege(error: BaseException) -> bool:
    return _errno(error) == 3001


def _rows(cur: Any, name: str, params: dict | None = None, **fragments: str) -> list[dict[str, Any]]:  # noqa: ANN401
    rows = wh.run(cur, name, params, **fragments)
    cols = [d[0].lower() for d in cur.description] if cur.description else []
    return [dict(zip(cols, r, strict=False)) for r in rows]


def _hook_field(hook: Any, extra: dict, name: str) -> Any:  # noqa: ANN401
    return hook._get_field(extra, name)  # noqa: SLF001  (the hook's own resolution of prefixed and plain extras)


def auth_method(extra: dict[str, Any], hook: Any = None) -> str:  # noqa: ANN401
    """How the SnowflakeHook will sign in for a connection's extras, in words.

    Examples
    --------
    >>> auth_method({"private_key_file": "/secrets/k.p8"})
    'key pair (private_key_file /secrets/k.p8)'
    >>> auth_method({"private_key_content": "..."}), auth_method({}), auth_method({"authenticator": "oauth"})
    ('key pair (private_key_content)', 'password', 'authenticator oauth')
    """
    get = (lambda n: _hook_field(hook, extra, n)) if hook is not None else extra.get
    if get("private_key_file"):
        return f"key pair (private_key_file {get('private_key_file')})"
    if get("private_key_content"):
        return "key pair (private_key_content)"
    authenticator = str(extra.get("authenticator") or "snowflake").lower()
    if authenticator != "snowflake":
        return f"authenticator {authenticator}"
    return "password"


def key_problem(error: BaseException, source: str) -> tuple[str, str]:
    """(detail, fix) for a private key the SnowflakeHook could not load (before any login).

    Examples
    --------
    >>> key_problem(ValueError("Bad decrypt. Incorrect password?"), "private_key_file /k.p8")[0]
    "the connection's password is not the passphrase of the private key (private_key_file /k.p8): Bad decrypt. Incorrect password?"
    """
    text = str(error)
    low = text.lower()
    if "empty or invalid file" in low or isinstance(error, FileNotFoundError):
        return (f"the private key file does not exist, or is empty ({source})",
                "point the connection's extra private_key_file at the PKCS#8 key file, readable where Airflow runs")
    if "incorrect password" in low or "bad decrypt" in low:
        return (f"the connection's password is not the passphrase of the private key ({source}): {text}",
                "put the key's passphrase in the connection's password field")
    if "password was not given" in low:
        return (f"the private key is encrypted but the connection has no password to decrypt it ({source})",
                "put the key's passphrase in the connection's password field")
    if "password was given but private key is not encrypted" in low:
        return (f"the connection has a password but the private key is not encrypted ({source}); the hook uses "
                "the password as the key's passphrase",
                "remove the password from the connection, or encrypt the key (openssl pkcs8 -topk8 -v2 aes256)")
    if "mutually exclusive" in low:
        return (f"the connection has both private_key_file and private_key_content ({text})",
                "keep one of the two extras")
    return (f"the private key could not be loaded ({source}): {text}",
            "use an RSA key in PKCS#8 PEM (-----BEGIN [ENCRYPTED] PRIVATE KEY-----), eg: openssl genrsa 2048 | "
            "openssl pkcs8 -topk8 -v2 aes256 -inform PEM -out rsa_key.p8")  # fmt: skip


def public_key_of(private_key: Any) -> tuple[str, str]:  # noqa: ANN401
    """(PEM body, ``SHA256:`` fingerprint) of a private key's public key: what ``RSA_PUBLIC_KEY`` takes and what
    ``DESC USER`` shows as ``RSA_PUBLIC_KEY_FP``. Public, so safe to print."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization

    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode(), "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def login_failure(error: BaseException, user: str, role: str | None, auth: str, hook: Any = None) -> Check:  # noqa: ANN401
    """The login check for a connector error at login: plain words and the fix."""
    errno = _errno(error)
    detail = f"user {user} could not log in with {auth}: {explain(error)}"
    fix = ""
    if errno == 390144:
        fix = f"set the public key of the connection's private key on the user (as a user admin):\n" \
              f"ALTER USER {user} SET RSA_PUBLIC_KEY = '<public key of the connection's private key>';"
        try:
            key = hook.get_private_key() if hook is not None else None
        except Exception:  # noqa: BLE001
            key = None
        if key is not None:
            body, fp = public_key_of(key)
            detail += (f"; the connection's key has fingerprint {fp}, which `DESC USER {user}` must show as "
                       "RSA_PUBLIC_KEY_FP or RSA_PUBLIC_KEY_2_FP")
            fix = f"set the connection's public key on the user (as a user admin):\n" \
                  f"ALTER USER {user} SET RSA_PUBLIC_KEY = '{body}';"
    elif errno == 390100:
        fix = ("check the connection's login and password; better, use key-pair auth: ALTER USER "
               f"{user} SET RSA_PUBLIC_KEY = '<public key>'; and set the extra private_key_file")
    elif errno == 390189 and role:
        fix = f"GRANT ROLE {role} TO USER {user};"
    elif errno == 390101:
        fix = f"ALTER USER {user} SET DISABLED = FALSE;"
    elif errno == 250001:
        fix = ("check the connection's extra account (orgname-accountname, eg: myorg-myaccount), and that this "
               "machine reaches https://<account>.snowflakecomputing.com (proxy, firewall)")
    return Check("login", False, detail, fix)


def _account_endpoint(params: dict[str, Any]) -> tuple[str, int] | None:
    """Where the connector will connect when the connection names no host: <account>[.<region>].snowflakecomputing.com."""
    if params.get("host"):
        return None
    account = str(params.get("account") or "")
    if not account:
        return None
    region = str(params.get("region") or "")
    host = f"{account}.{region}" if region and region not in account else account
    return f"{host}.snowflakecomputing.com", 443


def _proxied(params: dict[str, Any]) -> bool:
    return bool(params.get("proxy_host") or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"))


def _login(conn_id: str) -> tuple[Any, Check, _Session | None, Any]:  # noqa: ANN401
    """(connection or None, the login check, the session, the hook)."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=conn_id)
    try:
        airflow_conn = hook.get_connection(conn_id)
    except Exception as e:  # noqa: BLE001  (AirflowNotFoundException, or a secrets backend's error)
        fix = (f"define the Airflow connection {conn_id!r}, eg: export AIRFLOW_CONN_{conn_id.upper()}='{{\"conn_type\": "
               "\"snowflake\", \"login\": \"SNOWSEG_SVC\", \"schema\": \"RAW\", \"extra\": {\"account\": "
               "\"myorg-myaccount\", \"warehouse\": \"SNOWSEG_WH\", \"database\": \"SNOWSEG\", \"role\": "
               "\"SNOWSEG_ROLE\", \"private_key_file\": \"/secrets/snowseg_rsa_key.p8\"}}'")
        return None, Check("login", False, f"no Airflow connection {conn_id!r}: {e}", fix), None, hook
    extra = airflow_conn.extra_dejson
    auth = auth_method(extra, hook)
    user = str(airflow_conn.login or "").upper()
    role = str(_hook_field(hook, extra, "role") or "").upper() or None
    host = _hook_field(hook, extra, "host")
    if host:  # first, so a local twin that is down says so, whatever else is wrong
        try:
            wh._check_reachable(conn_id, str(host), int(_hook_field(hook, extra, "port") or 443))  # noqa: SLF001
        except wh.WarehouseUnreachable as e:
            return None, Check("login", False, str(e), "make twin-up (for the local twin), or fix the connection's "
                                                         "host/port extras"), None, hook
    try:
        params = hook._get_conn_params()  # noqa: SLF001  (loads the private key, as get_conn() will)
    except (ValueError, TypeError, OSError) as e:
        detail, fix = key_problem(e, auth.removeprefix("key pair (").rstrip(")"))
        return None, Check("login", False, detail, fix), None, hook
    endpoint = _account_endpoint(params)
    if endpoint and not _proxied(params):
        try:
            with socket.create_connection(endpoint, timeout=5):
                pass
        except OSError as e:
            detail = f"cannot reach {endpoint[0]}:{endpoint[1]} ({e})"
            fix = ("check the connection's extra account: Snowflake's account identifier (orgname-accountname, eg: "
                   "myorg-myaccount, or the account locator with its region), and this machine's network and proxy")
            return None, Check("login", False, detail, fix), None, hook
    try:
        conn = wh.connect(conn_id)
    except wh.WarehouseUnreachable as e:
        return None, Check("login", False, str(e), "make twin-up (for the local twin), or fix the connection's "
                                                       "host/port extras"), None, hook
    except Exception as e:  # noqa: BLE001  (the connector's errors, whatever their class)
        return None, login_failure(e, user, role, auth, hook), None, hook
    with conn.cursor() as cur:
        ((cur_user, cur_role, cur_wh),) = wh.run(cur, "readiness/select_session.sql")
    wanted = str(params.get("warehouse") or "").upper() or None
    session = _Session(str(cur_user or user), str(cur_role or role or "PUBLIC"), wanted, cur_wh, auth)
    detail = (f"logged in as user {session.user} with role {session.role} and warehouse "
              f"{cur_wh or 'none'}, by {auth}")  # fmt: skip
    if not role:
        detail += f" (the connection names no role: the user's default role {session.role} is used)"
    if auth == "password":
        fix = (f"use key-pair auth: generate a key (openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes256 -inform PEM "
               f"-out rsa_key.p8), set its public key on the user: ALTER USER {session.user} SET RSA_PUBLIC_KEY = "
               "'<public key>'; and put private_key_file (and the key's passphrase as the password) in the "
               "connection")
        detail += ("; the connection has no private_key_file or private_key_content, so the hook falls back to "
                   "password auth: Snowflake is phasing out password sign-in for service users, and Snowpipe REST "
                   "(notify=rest) accepts key pairs only")
        return conn, Check("login", True, detail, fix, warning=True), session, hook
    return conn, Check("login", True, detail), session, hook


# --- warehouse, database, schemas ----------------------------------------------------------------------------------


def _create_warehouse_sql(name: str) -> str:
    return (f"CREATE WAREHOUSE IF NOT EXISTS {name} WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE "
            "INITIALLY_SUSPENDED = TRUE;")


def warehouse_failure(error: BaseException, warehouse: str, role: str) -> Check:
    """The warehouse check when ``USE WAREHOUSE`` failed."""
    name = f"warehouse {warehouse}"
    if _is_missing(error) or _is_privilege(error) or _errno(error) == 606:
        return Check(name, False, f"role {role} cannot use warehouse {warehouse}: {explain(error)}",
                     f"GRANT USAGE ON WAREHOUSE {warehouse} TO ROLE {role};\n"
                     f"(if it does not exist, an admin creates it first: {_create_warehouse_sql(warehouse)})")
    return Check(name, False, f"USE WAREHOUSE {warehouse} failed: {explain(error)}")


def check_warehouse(cur: Any, session: _Session) -> Check:  # noqa: ANN401
    """``USE WAREHOUSE`` for the connection's warehouse, then the session must be on it."""
    warehouse = session.warehouse_wanted
    if not warehouse:
        if session.warehouse:
            return Check(f"warehouse {session.warehouse}", True,
                         f"the connection names no warehouse; the user's default warehouse {session.warehouse} is used",
                         f"name it in the connection's extra: \"warehouse\": \"{session.warehouse}\"", warning=True)
        return Check("warehouse", False, "the connection names no warehouse and the user has no default warehouse",
                     "set the connection's extra warehouse (eg: \"warehouse\": \"SNOWSEG_WH\") and "
                     f"GRANT USAGE ON WAREHOUSE SNOWSEG_WH TO ROLE {session.role};")
    try:
        wh.run(cur, "readiness/use_warehouse.sql", warehouse=quote_ident(warehouse))
    except Exception as e:  # noqa: BLE001
        return warehouse_failure(e, warehouse, session.role)
    current = wh.run(cur, "readiness/select_session.sql")[0][2]
    if str(current or "").upper() != warehouse:
        return Check(f"warehouse {warehouse}", False, f"USE WAREHOUSE {warehouse} ran but the session's warehouse is "
                     f"{current or 'none'}", f"GRANT USAGE ON WAREHOUSE {warehouse} TO ROLE {session.role};")
    return Check(f"warehouse {warehouse}", True, f"role {session.role} can use it")


def _schemas(cur: Any, database: str) -> set[str] | None:  # noqa: ANN401
    """The schemas of a database the role can see, or None if it cannot see the database."""
    try:
        rows = _rows(cur, "readiness/show_schemas.sql", database=database)
    except Exception as e:  # noqa: BLE001
        if _is_missing(e) or _is_privilege(e):
            return None
        raise
    names = {str(r.get("name", "")).upper() for r in rows}
    return names or None  # every real database has INFORMATION_SCHEMA: no schema at all means no database


def check_database(cur: Any, names: Names, role: str) -> Check:  # noqa: ANN401
    """The database exists and the role may use it (the DAGs never create it)."""
    name = f"database {names.database}"
    if _schemas(cur, names.database) is None:
        return Check(name, False, f"does not exist, or role {role} has no USAGE on it",
                     f"an admin runs step 3 of {ADMIN_SCRIPT} (CREATE DATABASE and GRANT USAGE to {role}), then "
                     f"{SETUP_COMMAND}")
    return Check(name, True, f"exists; role {role} may use it")


def check_setup(cur: Any, names: Names, contract: Any, role: str, *, snowpipe: bool) -> Check:  # noqa: ANN401
    """The versioned setup is applied for the database and the dataset (and its Snowpipe objects)."""
    from snowseg import migrations
    from snowseg.errors import WarehouseNotSetUp

    name = f"setup of {names.database} for {contract.name}"
    try:
        migrations.require(cur, names, contract, snowpipe=snowpipe)
    except WarehouseNotSetUp as e:
        return Check(name, False, f"not applied: missing {', '.join(e.missing)}", e.command)
    done = migrations.applied_versions(cur, names) or {}
    return Check(name, True, f"{len(done)} migrations recorded in {names.audit}.SCHEMA_VERSION, every one the DAGs "
                 f"need{' (Snowpipe objects included)' if snowpipe else ''}; role {role} creates nothing")


def stage_failure(error: BaseException, stage: str, role: str, step: str, privilege: str) -> Check:
    """The stage check when a step (put / list / remove) failed."""
    name = f"stage {stage}"
    if _is_privilege(error) or _is_missing(error):
        return Check(name, False, f"{step} refused for role {role}: {explain(error)} (the DAGs need {privilege})",
                     f"{SETUP_COMMAND}: its migrations create the stage and grant {privilege} to {role}")
    fix = ""
    if step in ("put", "list"):
        fix = ("PUT uploads straight to Snowflake's cloud storage: allow HTTPS from this machine to the account's "
               "stage bucket (SYSTEM$ALLOWLIST() lists the hosts), and check the proxy settings")
    return Check(name, False, f"{step} failed: {explain(error)}", fix)


def check_stage(cur: Any, stage: str, role: str, privilege: str) -> Check:  # noqa: ANN401
    """A tiny file PUT under a probe path of a stage the DAGs use, LISTed and REMOVEd (no object is created)."""
    
    path = f"@{stage}/{PROBE_PATH}"
    step = "put"
    with tempfile.TemporaryDirectory(prefix="snowseg-readiness-") as tmp:
        local = Path(tmp) / "readiness_probe.csv"
        local.write_text("ok\ntrue\n", encoding="utf-8")
        try:
            wh.run(cur, "loading/put_file.sql", file_url=wh.put_file_url(local), stage_path=path, parallel="1")
            step = "list"
            listed = wh.run(cur, "readiness/list_stage.sql", stage_path=path)
            if not any("readiness_probe.csv" in str(r[0]) for r in listed):
                return Check(f"stage {stage}", False, f"PUT to {path} ran but LIST does not show the file: {listed!r}")
            step = "remove"
            wh.run(cur, "loading/remove_staged_files.sql", stage_path=path)
        except Exception as e:  # noqa: BLE001
            return stage_failure(e, stage, role, step, privilege)
    return Check(f"stage {stage}", True, f"role {role} can PUT, LIST and REMOVE ({privilege})")


# --- load_s3_snowpipe: landing stage, storage integration, pipe, S3 -------------------------------------------------


def _iam_fix(integration: str, url: str) -> str:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return (f"check the IAM role of storage integration {integration}: its trust policy must name the "
            f"STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID that `DESC INTEGRATION {integration};` shows, and "
            f"its policy must allow s3:GetObject and s3:GetObjectVersion on arn:aws:s3:::{bucket}/{prefix}* and "
            f"s3:ListBucket on arn:aws:s3:::{bucket}")


def landing_failure(error: BaseException, names: Names, target: _Target, role: str, step: str) -> Check:
    """The landing stage check when a step failed (show / create / list)."""
    stage = f"{names.database}.{names.raw}.{LANDING_STAGE}"
    name = f"landing stage {stage}"
    integration, url = str(target.integration), str(target.landing_url)
    msg = error_text(error)
    if step == "list" or _errno(error) == 91003 or "access denied" in msg.lower() or "assumerole" in msg.lower():
        return Check(name, False, f"Snowflake cannot read {url} through {integration}: {explain(error)}",
                     _iam_fix(integration, url))
    if _is_missing(error) or _is_privilege(error):
        return Check(name, False, f"role {role} cannot use it: {explain(error)}", SETUP_COMMAND)
    return Check(name, False, f"{step} failed: {explain(error)}")


def check_landing_stage(cur: Any, names: Names, target: _Target, role: str) -> Check:  # noqa: ANN401
    """The landing stage (made by the setup) exists on the landing URL, and LIST reaches the bucket."""
    stage = f"{names.database}.{names.raw}.{LANDING_STAGE}"
    name = f"landing stage {stage}"
    url, integration = str(target.landing_url), str(target.integration)
    step = "show"
    try:
        rows = _rows(cur, "snowpipe/show_stage_landing.sql", database=names.database, schema=names.raw,
                     stage_pattern=quote_literal(LANDING_STAGE))
        found = [r for r in rows if str(r.get("name", "")).upper() == LANDING_STAGE]
        if found:
            have = str(found[0].get("url") or "")
            if have != url:
                return Check(name, False, f"points at {have or 'no URL (an internal stage)'} but the landing URL is "
                             f"{url}: the pipe would never see the files",
                             f"an admin runs DROP STAGE {stage}; DROP PIPE IF EXISTS {names.database}.{names.raw}."
                             f"{target.pipe}; then SNOWSEG_LANDING_URL={url} {SETUP_COMMAND}; or set "
                             f"SNOWSEG_LANDING_URL={have}")
            step = "list"
            wh.run(cur, "readiness/list_stage.sql", stage_path=f"@{stage}/{PROBE_PATH}")
            via = found[0].get("storage_integration") or integration
            return Check(name, True, f"exists on {url} through {via}; LIST reaches the bucket")
    except Exception as e:  # noqa: BLE001
        return landing_failure(e, names, target, role, step)
    return Check(name, False, f"does not exist: the versioned setup makes it on {url} through {integration}",
                 f"SNOWSEG_LANDING_URL={url} {SETUP_COMMAND}")


def _covers(location: str, url: str) -> bool:
    """Whether a STORAGE_ALLOWED/BLOCKED_LOCATIONS entry covers url.

    Examples
    --------
    >>> _covers("s3://b/sales/", "s3://b/sales/in/"), _covers("s3://b", "s3://b/x/"), _covers("s3://b/x/", "s3://b/y/")
    (True, True, False)
    """
    location = location.strip().strip("'\"")
    if location == "*":
        return True
    base = location if location.endswith("/") else f"{location}/"
    return url == location or url.startswith(base)


def _create_integration_sql(integration: str, url: str) -> str:
    return (f"CREATE STORAGE INTEGRATION IF NOT EXISTS {integration} TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' "
            f"ENABLED = TRUE STORAGE_AWS_ROLE_ARN = '<AWS_ROLE_ARN>' STORAGE_ALLOWED_LOCATIONS = ('{url}');")


def check_integration(cur: Any, target: _Target, role: str) -> Check:  # noqa: ANN401
    """The role can see (use) the storage integration; it is enabled and allows the landing URL."""
    integration, url = str(target.integration), str(target.landing_url)
    name = f"storage integration {integration}"
    rows = _rows(cur, "readiness/show_integrations.sql")
    found = [r for r in rows if str(r.get("name", "")).upper() == integration]
    if not found:
        return Check(name, False, f"does not exist, or role {role} has no USAGE on it (SHOW INTEGRATIONS lists only "
                     "the integrations a role may use)",
                     f"an admin (ACCOUNTADMIN) runs:\n{_create_integration_sql(integration, url)}\n"
                     f"GRANT USAGE ON INTEGRATION {integration} TO ROLE {role};\n"
                     f"then puts the STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID of `DESC INTEGRATION "
                     f"{integration};` in the IAM role's trust policy (see {ADMIN_SCRIPT})")
    if str(found[0].get("enabled", "true")).lower() not in ("true", "1"):
        return Check(name, False, "exists but is disabled", f"ALTER STORAGE INTEGRATION {integration} SET ENABLED = TRUE;")
    try:
        props = {str(r.get("property", "")).upper(): str(r.get("property_value") or "")
                 for r in _rows(cur, "readiness/describe_integration.sql", storage_integration=integration)}
    except Exception as e:  # noqa: BLE001
        if _is_privilege(e) or _is_missing(e):
            return Check(name, True, f"exists, is enabled and role {role} may use it (DESC INTEGRATION is not allowed "
                         "for the role, so its allowed locations were not checked)")
        raise
    provider = props.get("STORAGE_PROVIDER", "S3").upper()
    if not provider.startswith("S3"):
        return Check(name, False, f"is for {provider}, not S3", f"use an S3 storage integration: "
                     f"{_create_integration_sql(integration, url)}")
    allowed = [x for x in props.get("STORAGE_ALLOWED_LOCATIONS", "").split(",") if x.strip()]
    blocked = [x for x in props.get("STORAGE_BLOCKED_LOCATIONS", "").split(",") if x.strip()]
    if not any(_covers(loc, url) for loc in allowed):
        listed = ", ".join(f"'{x.strip()}'" for x in [*allowed, url])
        return Check(name, False, f"does not allow {url} (STORAGE_ALLOWED_LOCATIONS: {', '.join(allowed) or 'none'})",
                     f"an admin runs: ALTER STORAGE INTEGRATION {integration} SET STORAGE_ALLOWED_LOCATIONS = "
                     f"({listed});")
    if any(_covers(loc, url) for loc in blocked):
        return Check(name, False, f"blocks {url} (STORAGE_BLOCKED_LOCATIONS: {', '.join(blocked)})",
                     f"an admin runs: ALTER STORAGE INTEGRATION {integration} UNSET STORAGE_BLOCKED_LOCATIONS;")
    return Check(name, True, f"exists, is enabled, role {role} may use it and it allows {url}")


def check_pipe(cur: Any, names: Names, target: _Target, role: str) -> Check:  # noqa: ANN401
    """The pipe has a notification channel and is running; missing is a warning (load_s3_snowpipe creates it)."""
    qualified = f"{names.database}.{names.raw}.{target.pipe}"
    name = f"pipe {qualified}"
    try:
        rows = _rows(cur, "readiness/show_pipes.sql", database=names.database, schema=names.raw)
    except Exception as e:  # noqa: BLE001
        if _is_missing(e):
            return Check(name, False, f"role {role} cannot use schema {names.database}.{names.raw}: {explain(e)}",
                         f"GRANT USAGE ON SCHEMA {names.database}.{names.raw} TO ROLE {role};")
        raise
    found = [r for r in rows if str(r.get("name", "")).upper() == target.pipe]
    if not found:
        return Check(name, False, f"does not exist, or role {role} has no MONITOR on it: the versioned setup makes "
                     "it (AUTO_INGEST = TRUE) and grants OPERATE and MONITOR", f"{SETUP_COMMAND} (with Snowpipe)")
    channel = found[0].get("notification_channel")
    if not channel:
        return Check(name, False, "exists but has no notification channel (it is not AUTO_INGEST): notify=auto "
                     "cannot tell it about new files",
                     f"an admin runs DROP PIPE {qualified}; then {SETUP_COMMAND} recreates it with AUTO_INGEST = "
                     "TRUE; or run the DAG with notify=rest")
    ((raw,),) = wh.run(cur, "snowpipe/select_pipe_status.sql", {"pipe": qualified})
    status = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    state = str(status.get("executionState", "UNKNOWN"))
    pending = status.get("pendingFileCount", 0)
    if state == "PAUSED":
        return Check(name, False, f"is paused (executionState PAUSED, {pending} files pending): files land in S3 "
                     "but are not loaded", f"ALTER PIPE {qualified} SET PIPE_EXECUTION_PAUSED = FALSE;")
    if state != "RUNNING":
        from snowseg.loading import pipe_states

        said = f"; Snowflake says: {status['error']}" if status.get("error") else ""
        return Check(name, False, f"executionState {state} ({pending} files pending){said}",
                     pipe_states.advice(qualified, state))
    return Check(name, True, f"running, auto-ingest on {channel}, {pending} files pending")


def s3_failure(error: BaseException, target: _Target, step: str) -> Check:
    """The S3 check when a call failed: plain words for botocore's errors, and the IAM policy to grant."""
    url = str(target.landing_url)
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    name = f"S3 {url} ({target.aws_conn_id})"
    kind = type(error).__name__
    code = ""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketNotification", "s3:PutBucketNotification"],
         "Resource": f"arn:aws:s3:::{bucket}"}]}, separators=(",", ":"))  # fmt: skip
    if kind in ("NoCredentialsError", "PartialCredentialsError"):
        return Check(name, False, f"no AWS credentials for connection {target.aws_conn_id!r} ({error})",
                     "give the connection credentials (a role, a profile, or keys in a secrets backend)")
    if kind in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return Check(name, False, f"cannot reach S3: {error}",
                     "if this is the local twin, start it with `make twin-up`; otherwise check the connection's "
                     "endpoint_url / region and the network")
    if code in ("404", "NoSuchBucket", "NotFound"):
        return Check(name, False, f"bucket {bucket} does not exist ({step}: {code})",
                     f"an AWS admin creates bucket {bucket}, or set SNOWSEG_LANDING_URL to the landing bucket")
    if code in ("403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return Check(name, False, f"the AWS identity of {target.aws_conn_id!r} may not {step} on {bucket} ({code})",
                     f"attach this IAM policy to it: {policy}")
    return Check(name, False, f"{step} failed: {kind}: {error}")


def check_s3(target: _Target) -> Check:
    """The AWS connection reaches the landing bucket and prefix, and may read the bucket's notifications."""
    url = str(target.landing_url)
    name = f"S3 {url} ({target.aws_conn_id})"
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.config import Config

    try:
        S3Hook.get_connection(target.aws_conn_id)
    except Exception as e:  # noqa: BLE001  (AirflowNotFoundException)
        return Check(name, True, f"not checked: no Airflow connection {target.aws_conn_id!r} ({e}); load_s3_snowpipe "
                     "uploads through it", f"define it, eg: export AIRFLOW_CONN_{target.aws_conn_id.upper()}="
                     "'{\"conn_type\": \"aws\", \"extra\": {\"region_name\": \"eu-west-1\"}}' with an identity that "
                     f"may s3:PutObject under {url}", warning=True)
    quick = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    hook = S3Hook(aws_conn_id=target.aws_conn_id)
    config = hook.conn_config.botocore_config
    hook = S3Hook(aws_conn_id=target.aws_conn_id, config=config.merge(quick) if config else quick)
    step = "connect"
    try:
        client = hook.get_conn()
        step = "s3:ListBucket (HeadBucket)"
        client.head_bucket(Bucket=bucket)
        step = "s3:ListBucket (ListObjectsV2)"
        client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        step = "s3:GetBucketNotification"
        client.get_bucket_notification_configuration(Bucket=bucket)
    except Exception as e:  # noqa: BLE001  (botocore's errors)
        return s3_failure(e, target, step)
    return Check(name, True, f"bucket {bucket} and prefix {prefix or '/'} are reachable, and the bucket's "
                 "notifications readable (PutObject is not tried: a probe object would reach the pipe)")


# --- the run ---------------------------------------------------------------------------------------------------------


def _target(database: str | None, landing_url: str | None, storage_integration: str | None,
            contract: str | None, aws_conn_id: str | None) -> _Target:  # fmt: skip
    from snowseg.loading.snowpipe import Landing

    names = Names.from_env(database)
    try:
        landing = Landing.from_env(landing_url, storage_integration)
        url, integration, error = landing.url, landing.storage_integration, None
    except ValueError as e:
        url, integration, error = None, None, str(e)
    aws = aws_conn_id or os.environ.get("SNOWSEG_AWS_CONN_ID") or DEFAULT_AWS_CONN_ID
    chosen = load_contract(contract_path(contract) if contract else None)
    return _Target(names, url, integration, error, dataset_objects(chosen).pipe, aws, chosen)


def _guarded(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; an error it did not expect is its own failure, never the end of the run."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        log.debug("check %s", name, exc_info=True)
        return Check(name, False, f"could not check: {explain(e)}")


@contextmanager
def _closing(conn: Any) -> Iterator[Any]:  # noqa: ANN401
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def check_connection(
    conn_id: str | None = None,
    *,
    aws_conn_id: str | None = None,
    database: str | None = None,
    landing_url: str | None = None,
    storage_integration: str | None = None,
    contract: str | None = None,
    snowpipe: bool = True,
) -> list[Check]:
    """Check that an Airflow Snowflake connection (and the AWS one) can run the DAGs.

    Parameters
    ----------
    conn_id : str, optional
        Snowflake connection id; default ``SNOWSEG_SNOWFLAKE_CONN_ID`` or ``snowflake_default``.
    aws_conn_id : str, optional
        AWS connection id for the S3 check; default ``SNOWSEG_AWS_CONN_ID`` or ``aws_default``.
    database, landing_url, storage_integration, contract : str, optional
        As the DAGs resolve them: argument, then ``SNOWSEG_DATABASE`` / ``SNOWSEG_LANDING_URL`` /
        ``SNOWSEG_STORAGE_INTEGRATION``, then the defaults; the contract names the raw table and so the pipe.
    snowpipe : bool, default True
        Also check what load_s3_snowpipe needs: landing stage, storage integration, pipe and S3.

    Returns
    -------
    list of Check
        In order: login, warehouse, database, the three schemas, file format and stage in RAW and ANALYTICS,
        then (snowpipe) landing stage, storage integration, pipe and S3. Without a login: the login check and S3.

    Raises
    ------
    snowseg.config.ContractError
        If `contract` does not name a dataset contract.

    Examples
    --------
    >>> Check("pipe", True, "does not exist yet", warning=True).status
    'WARN'
    """
    conn_id = wh.conn_id_from_env(conn_id)
    target = _target(database, landing_url, storage_integration, contract, aws_conn_id)
    names = target.names
    conn, login, session, _ = _login(conn_id)
    checks = [login]

    def s3() -> list[Check]:
        if not snowpipe:
            return []
        if target.landing_error:
            return [Check(f"S3 ({target.aws_conn_id})", False, target.landing_error,
                          "set SNOWSEG_LANDING_URL to s3://<bucket>/<prefix>/")]
        return [_guarded(f"S3 {target.landing_url} ({target.aws_conn_id})", lambda: check_s3(target))]

    if conn is None or session is None:
        return checks + s3()
    role = session.role
    with _closing(conn) as cur:
        checks.append(_guarded("warehouse", lambda: check_warehouse(cur, session)))
        checks.append(_guarded(f"database {names.database}", lambda: check_database(cur, names, role)))
        checks.append(_guarded(f"setup of {names.database} for {target.contract.name}",
                               lambda: check_setup(cur, names, target.contract, role, snowpipe=snowpipe)))
        objects = dataset_objects(target.contract)
        for stage, privilege in ((f"{names.database}.{names.raw}.%{objects.intake}", "OWNERSHIP of the intake table"),
                                 (f"{names.database}.{names.raw}.{BULK_STAGE}", "READ and WRITE"),
                                 (f"{names.database}.{names.analytics}.{WRITEBACK_STAGE}", "READ and WRITE")):
            checks.append(_guarded(f"stage {stage}", lambda s=stage, p=privilege: check_stage(cur, s, role, p)))
        if snowpipe:
            if target.landing_error:
                checks.append(Check("landing URL", False, target.landing_error,
                                    "set SNOWSEG_LANDING_URL to s3://<bucket>/<prefix>/"))
            else:
                stage = f"landing stage {names.database}.{names.raw}.{LANDING_STAGE}"
                checks.append(_guarded(stage, lambda: check_landing_stage(cur, names, target, role)))
                checks.append(_guarded(f"storage integration {target.integration}",
                                       lambda: check_integration(cur, target, role)))
            checks.append(_guarded(f"pipe {names.database}.{names.raw}.{target.pipe}",
                                   lambda: check_pipe(cur, names, target, role)))
    return checks + s3()


def format_checks(checks: list[Check], width: int | None = None) -> str:
    """One line per check (``OK  `` / ``WARN`` / ``SKIP`` / ``FAIL``, name, detail), the fix indented under the others.

    Names are padded to `width` (default: the longest name), so that checks printed one at a time line up too.
    """
    width = max((len(c.name) for c in checks), default=0) if width is None else width
    lines = []
    for c in checks:
        lines.append(f"{c.status:<4} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status != "OK":
            fix_lines = c.fix.splitlines()
            lines.append(f"       fix: {fix_lines[0]}")
            lines.extend(f"            {ln}" for ln in fix_lines[1:])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the checks; exit 1 if any failed."""
    parser = argparse.ArgumentParser(
        prog="python -m snowseg.readiness",
        description="Check that a Snowflake connection (and the AWS one) is ready for the Snowseg DAGs.",
    )
    parser.add_argument("--conn", default=None, help="Airflow Snowflake connection id (default: "
                        "SNOWSEG_SNOWFLAKE_CONN_ID or snowflake_default)")
    parser.add_argument("--aws-conn", default=None, help="Airflow AWS connection id for the S3 check (default: "
                        "SNOWSEG_AWS_CONN_ID or aws_default)")
    parser.add_argument("--no-snowpipe", action="store_true",
                        help="leave out what only load_s3_snowpipe needs (landing stage, integration, pipe, S3)")
    args = parser.parse_args(argv)
    # the report is the output: Airflow's and the connector's logs (stdout, for Airflow) only for errors, unless asked
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    for noisy in ("snowflake.connector", "botocore", "airflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    conn_id = wh.conn_id_from_env(args.conn)
    checks = check_connection(conn_id, aws_conn_id=args.aws_conn, snowpipe=not args.no_snowpipe)
    print(f"Snowflake connection {conn_id!r}:")
    print(format_checks(checks))
    failed = [c for c in checks if c.status == "FAIL"]
    warned = [c for c in checks if c.status == "WARN"]
    print(f"{len(checks) - len(failed) - len(warned)} ok, {len(warned)} warnings, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
