"""The login check: how the connection signs in (key pair or password), a private key that does not load, and a
refused login, each in plain words with the fix.

Secrets are never printed: no password, passphrase or private key, only the key file's path and the public key's
fingerprint.

Examples
--------
>>> auth_method({"private_key_file": "/secrets/k.p8"})
'key pair (private_key_file /secrets/k.p8)'
"""

from __future__ import annotations

import os
import socket
from typing import Any

from snowseg import sf_errors as codes
from snowseg import warehouse as wh
from snowseg.readiness.errors import explain
from snowseg.readiness.fixes import admin_sql
from snowseg.readiness.model import Check, Session


def _hook_field(hook: Any, extra: dict, name: str) -> Any:
    return hook._get_field(extra, name)  # (the hook's own resolution of prefixed and plain extras)


def auth_method(extra: dict[str, Any], hook: Any = None) -> str:
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
    >>> key_problem(ValueError("Bad decrypt. Incorrect password?"), "private_key_file /k.p8")[0].split(": ")[0]
    "the connection's password is not the passphrase of the private key (private_key_file /k.p8)"
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
        return ((f"the connection has a password but the private key is not encrypted ({source}); the hook uses "
                 "the password as the key's passphrase"),
                "remove the password from the connection, or encrypt the key (openssl pkcs8 -topk8 -v2 aes256)")
    if "mutually exclusive" in low:
        return (f"the connection has both private_key_file and private_key_content ({text})",
                "keep one of the two extras")
    return (f"the private key could not be loaded ({source}): {text}",
            ("use an RSA key in PKCS#8 PEM (-----BEGIN [ENCRYPTED] PRIVATE KEY-----), eg: openssl genrsa 2048 | "
             "openssl pkcs8 -topk8 -v2 aes256 -inform PEM -out rsa_key.p8"))


def public_key_of(private_key: Any) -> tuple[str, str]:
    """(PEM body, ``SHA256:`` fingerprint) of a private key's public key: what ``RSA_PUBLIC_KEY`` takes and what
    ``DESC USER`` shows as ``RSA_PUBLIC_KEY_FP``. Public, so safe to print."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization

    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode(), "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def login_failure(error: BaseException, user: str, role: str | None, auth: str, hook: Any = None) -> Check:
    """The login check for a connector error at login: plain words and the fix."""
    errno = codes.errno_of(error)
    detail = f"user {user} could not log in with {auth}: {explain(error)}"
    fix = ""
    if errno == codes.INVALID_JWT:
        fix = f"set the public key of the connection's private key on the user (as a user admin):\n" \
              f"ALTER USER {user} SET RSA_PUBLIC_KEY = '<public key of the connection's private key>';"
        try:
            key = hook.get_private_key() if hook is not None else None
        except Exception:
            key = None
        if key is not None:
            body, fp = public_key_of(key)
            detail += (f"; the connection's key has fingerprint {fp}, which `DESC USER {user}` must show as "
                       "RSA_PUBLIC_KEY_FP or RSA_PUBLIC_KEY_2_FP")
            fix = f"set the connection's public key on the user (as a user admin):\n" \
                  f"ALTER USER {user} SET RSA_PUBLIC_KEY = '{body}';"
    elif errno == codes.BAD_USER_OR_PASSWORD:
        fix = ("check the connection's login and password; better, use key-pair auth: ALTER USER "
               f"{user} SET RSA_PUBLIC_KEY = '<public key>'; and set the extra private_key_file")
    elif errno == codes.ROLE_NOT_GRANTED and role:
        fix = admin_sql(r"grant role \w+ to user", role=role, user=user)
    elif errno == codes.USER_DISABLED:
        fix = f"ALTER USER {user} SET DISABLED = FALSE;"
    elif errno == codes.UNREACHABLE:
        fix = ("check the connection's extra account (orgname-accountname, eg: myorg-myaccount), and that this "
               "machine reaches https://<account>.snowflakecomputing.com (proxy, firewall)")
    return Check("login", False, detail, fix)


def _account_endpoint(params: dict[str, Any]) -> tuple[str, int] | None:
    """Where the connector will connect when the connection names no host:
    ``<account>[.<region>].snowflakecomputing.com``."""
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


def login(conn_id: str) -> tuple[Any, Check, Session | None, Any]:
    """(connection or None, the login check, the session, the hook)."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=conn_id)
    try:
        airflow_conn = hook.get_connection(conn_id)
    except Exception as e:  # (AirflowNotFoundException, or a secrets backend's error)
        fix = (f"define the Airflow connection {conn_id!r}, eg: export AIRFLOW_CONN_{conn_id.upper()}="
               "'{\"conn_type\": \"snowflake\", \"login\": \"SNOWSEG_SVC\", \"schema\": \"RAW\", \"extra\": "
               "{\"account\": \"myorg-myaccount\", \"warehouse\": \"SNOWSEG_WH\", \"database\": \"SNOWSEG\", \"role\": "
               "\"SNOWSEG_ROLE\", \"private_key_file\": \"/secrets/snowseg_rsa_key.p8\"}}'")
        return None, Check("login", False, f"no Airflow connection {conn_id!r}: {e}", fix), None, hook
    extra = airflow_conn.extra_dejson
    auth = auth_method(extra, hook)
    user = str(airflow_conn.login or "").upper()
    role = str(_hook_field(hook, extra, "role") or "").upper() or None
    host = _hook_field(hook, extra, "host")
    if host:  # first, so a local twin that is down says so, whatever else is wrong
        try:
            wh._check_reachable(conn_id, str(host), int(_hook_field(hook, extra, "port") or 443))
        except wh.WarehouseUnreachable as e:
            return None, Check("login", False, str(e), "make twin-up (for the local twin), or fix the connection's "
                                                         "host/port extras"), None, hook
    try:
        params = hook._get_conn_params()  # (loads the private key, as get_conn() will)
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
    except Exception as e:  # (the connector's errors, whatever their class)
        return None, login_failure(e, user, role, auth, hook), None, hook
    with conn.cursor() as cur:
        ((cur_user, cur_role, cur_wh),) = wh.run(cur, "readiness/select_session.sql")
    wanted = str(params.get("warehouse") or "").upper() or None
    session = Session(str(cur_user or user), str(cur_role or role or "PUBLIC"), wanted, cur_wh, auth)
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
