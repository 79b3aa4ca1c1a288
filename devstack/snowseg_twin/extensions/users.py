"""Users and key-pair login: CREATE / ALTER / DESC / DROP USER, and the login route's JWT check.

Emulates what Snowflake checks when a client signs in with a key pair (the connector's SNOWFLAKE_JWT
authenticator, which the Snowflake provider uses when the connection has a private key):
- `CREATE [OR REPLACE] USER [IF NOT EXISTS] u [TYPE = PERSON|SERVICE|LEGACY_SERVICE] [LOGIN_NAME = '..']
  [DEFAULT_ROLE = r] [DEFAULT_WAREHOUSE = w] [DEFAULT_NAMESPACE = db.s] [RSA_PUBLIC_KEY = '..']
  [RSA_PUBLIC_KEY_2 = '..'] [COMMENT = '..'] [DISPLAY_NAME | EMAIL | FIRST_NAME | LAST_NAME | PASSWORD |
  MUST_CHANGE_PASSWORD | DISABLED = ..]`: fakesnow's user table (SHOW USERS) holds the user, and
  ``_fs_global._fs_information_schema._twin_users`` its type and public keys. A public key is the PEM body
  (the ``-----BEGIN PUBLIC KEY-----`` lines may be left in) of an RSA key; anything else fails.
- `ALTER USER [IF EXISTS] u SET <property> = <value> [...]` and `ALTER USER [IF EXISTS] u UNSET <property>[, ...]`,
  eg: `ALTER USER u SET RSA_PUBLIC_KEY = '..'` (key rotation: RSA_PUBLIC_KEY_2).
- `DESC[RIBE] USER u`: property, value, default, description rows, with RSA_PUBLIC_KEY_FP and RSA_PUBLIC_KEY_2_FP
  (``SHA256:<base64 of the DER public key's SHA-256>``, as the connector computes it), 'null' for unset values.
- `DROP USER [IF EXISTS] u`.
A missing user fails with 002003 "SQL compilation error:\\nUser 'U' does not exist or not authorized."

Login (login_request, wrapping fakesnow's route): a JWT login for a user the twin knows (by LOGIN_NAME,
case-insensitive) succeeds only if the token names the fingerprint of the user's RSA_PUBLIC_KEY or
RSA_PUBLIC_KEY_2 and is signed by that key's private key and not expired; otherwise it fails as Snowflake's does,
with 390144 "JWT token is invalid. [<request id>]" (the connector raises DatabaseError errno 390144). A successful
login records the session's user, role, warehouse and account (session_context).

When privileges are enforced (access_control), a login also fails as Snowflake's does for a user the twin does not
know (390100 "Incorrect username or password was specified.") and for a role the user was not granted (390189
"Role 'R' specified in the connect string is not granted to this user. Contact your local system administrator, or
attempt to login with another role, e.g. PUBLIC."); a login warehouse the role has no USAGE on leaves the session
without a current warehouse. CREATE USER, ALTER / DESC / DROP USER are checked by access_control (CREATE USER on the
account; OWNERSHIP of the user, or the user itself for ALTER and DESC).

Differs from Snowflake: without enforcement the twin accepts any login for a user it does not know, and any password
(Snowflake: 390100); TYPE = SERVICE users may still log in with a password; DISABLED is stored, not enforced; an
invalid key is refused with the twin's own message.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions import access_control, session_context, session_params, warehouses
from snowseg_twin.extensions._account_catalog import FS_USERS, NAME, USERS, catalog, check_known, ident, properties
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions import _fakesnow_compat as compat

_CREATE = re.compile(
    rf"""^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?USER\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{NAME})
        (?P<props>.*?)\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_ALTER = re.compile(
    rf"""^\s*ALTER\s+USER\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{NAME})\s+
        (?:SET\s+(?P<set>.*?)|UNSET\s+(?P<unset>[\w\s,]+?))\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_DESC = re.compile(rf"^\s*DESC(?:RIBE)?\s+USER\s+(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)
_DROP = re.compile(rf"^\s*DROP\s+USER\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)
UNPARSABLE = [_CREATE, _ALTER, _DESC, _DROP]

# properties kept in fakesnow's user table (SHOW USERS) -> its column
_FS_COLUMNS = {
    "LOGIN_NAME": "login_name", "DISPLAY_NAME": "display_name", "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name", "EMAIL": "email", "COMMENT": "comment", "DISABLED": "disabled",
    "MUST_CHANGE_PASSWORD": "must_change_password", "DEFAULT_WAREHOUSE": "default_warehouse",
    "DEFAULT_NAMESPACE": "default_namespace", "DEFAULT_ROLE": "default_role",
}  # fmt: skip
_TWIN_COLUMNS = {"TYPE": "type", "RSA_PUBLIC_KEY": "rsa_public_key", "RSA_PUBLIC_KEY_2": "rsa_public_key_2"}
_IGNORED = {"PASSWORD", "DAYS_TO_EXPIRY", "MINS_TO_UNLOCK", "DEFAULT_SECONDARY_ROLES", "NETWORK_POLICY"}
_KNOWN = set(_FS_COLUMNS) | set(_TWIN_COLUMNS) | _IGNORED
_IDENT_VALUES = {"DEFAULT_WAREHOUSE", "DEFAULT_ROLE"}
_TYPES = {"PERSON", "SERVICE", "LEGACY_SERVICE", "NULL"}

DESC_COLUMNS = [("property", "VARCHAR"), ("value", "VARCHAR"), ("default", "VARCHAR"), ("description", "VARCHAR")]


def not_found(name: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\nUser '{name}' does not exist or not authorized.", errno=2003, sqlstate="02000"
    )


def public_key_der(text: str) -> bytes:
    """The DER bytes of an RSA public key given as Snowflake takes it: the PEM body, header lines optional.

    Raises ProgrammingError if text is not an RSA public key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    body = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", text)
    try:
        der = base64.b64decode(body, validate=True)
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as e:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"Invalid RSA public key: {e}", errno=1003, sqlstate="42000"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise snowflake.connector.errors.ProgrammingError(
            msg="Invalid RSA public key: not an RSA key", errno=1003, sqlstate="42000"
        )
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(text: str) -> str:
    """``SHA256:<base64>`` of a public key, as Snowflake's RSA_PUBLIC_KEY_FP and the connector's JWT issuer."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public_key_der(text)).digest()).decode()


def _status(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def _normalise(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key in _IGNORED:
            continue
        if key in _IDENT_VALUES and isinstance(value, str):
            value = ident(value)
        elif key == "DEFAULT_NAMESPACE" and isinstance(value, str):
            value = ".".join(ident(p) for p in value.split("."))
        elif key == "TYPE":
            value = str(value).upper()
            if value not in _TYPES:
                raise NotImplementedError(f"USER with TYPE = {value}")
            value = None if value == "NULL" else value
        elif key in ("RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2"):
            public_key_der(str(value))  # refuse a key that is not one
            value = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", str(value))
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[key] = value
    return out


def _find(meta: Any, name: str) -> bool:  # noqa: ANN401
    return bool(meta.execute(f"SELECT 1 FROM {FS_USERS} WHERE name = ?", [name]).fetchall())


def _set(meta: Any, name: str, values: dict[str, Any]) -> None:  # noqa: ANN401
    for key, value in values.items():
        if key in _FS_COLUMNS:
            meta.execute(f"UPDATE {FS_USERS} SET {_FS_COLUMNS[key]} = ? WHERE name = ?", [value, name])
        else:
            meta.execute(f"UPDATE {USERS} SET {_TWIN_COLUMNS[key]} = ? WHERE name = ?", [value, name])


def create_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    props = properties(m["props"], "CREATE USER")
    check_known(props, _KNOWN, "CREATE USER")
    values = _normalise(props)
    values.setdefault("LOGIN_NAME", name)
    values["LOGIN_NAME"] = str(values["LOGIN_NAME"]).upper()
    with catalog(compat.duck_conn(cursor)) as meta:
        if _find(meta, name):
            if m["ine"]:
                return _status(f"{name} already exists, statement succeeded.")
            if not m["replace"]:
                raise snowflake.connector.errors.ProgrammingError(
                    msg=f"SQL compilation error:\nUser '{name}' already exists.", errno=2002, sqlstate="42710"
                )
        meta.execute(f"DELETE FROM {FS_USERS} WHERE name = ?", [name])
        meta.execute(f"DELETE FROM {USERS} WHERE name = ?", [name])
        meta.execute(f"INSERT INTO {FS_USERS} (name, created_on, owner) VALUES (?, now(), 'USERADMIN')", [name])
        meta.execute(f"INSERT INTO {USERS} (name) VALUES (?)", [name])
        _set(meta, name, values)
    return _status(f"User {name} successfully created.")


def alter_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    if m["set"] is not None:
        props = properties(m["set"], "ALTER USER SET")
        check_known(props, _KNOWN, "ALTER USER SET")
        values = _normalise(props)
        if "LOGIN_NAME" in values:
            values["LOGIN_NAME"] = str(values["LOGIN_NAME"]).upper()
    else:
        keys = [k.strip().upper() for k in m["unset"].split(",") if k.strip()]
        check_known(dict.fromkeys(keys), _KNOWN, "ALTER USER UNSET")
        values = {k: (name if k == "LOGIN_NAME" else None) for k in keys if k not in _IGNORED}
    with catalog(compat.duck_conn(cursor)) as meta:
        if not _find(meta, name):
            if m["ie"]:
                return _status("Statement executed successfully.")
            raise not_found(name)
        _set(meta, name, values)
    return _status("Statement executed successfully.")


def _user(meta: Any, name: str) -> dict[str, Any] | None:  # noqa: ANN401
    rows = meta.execute(
        "SELECT u.name, u.login_name, u.display_name, u.comment, u.disabled, u.default_warehouse, "
        "u.default_namespace, u.default_role, t.type, t.rsa_public_key, t.rsa_public_key_2 "
        f"FROM {FS_USERS} u LEFT JOIN {USERS} t USING (name) WHERE u.name = ?",
        [name],
    ).fetchall()
    if not rows:
        return None
    keys = ["name", "login_name", "display_name", "comment", "disabled", "default_warehouse", "default_namespace",
            "default_role", "type", "rsa_public_key", "rsa_public_key_2"]  # fmt: skip
    return dict(zip(keys, rows[0], strict=True))


def by_login(duck_conn: Any, login: str) -> dict[str, Any] | None:  # noqa: ANN401
    """The user whose LOGIN_NAME is login (case-insensitive), or None if the twin does not know one."""
    with catalog(duck_conn) as meta:
        rows = meta.execute(
            f"SELECT name FROM {FS_USERS} WHERE upper(coalesce(login_name, name)) = ?", [login.upper()]
        ).fetchall()
        return _user(meta, rows[0][0]) if rows else None


def desc_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    with catalog(compat.duck_conn(cursor)) as meta:
        user = _user(meta, name)
    if user is None:
        raise not_found(name)

    def v(x: object) -> str:
        return "null" if x in (None, "") else str(x)

    rows = [
        ["NAME", user["name"], "null", "Name"],
        ["TYPE", v(user["type"]), "null", "Specifies the type of user."],
        ["COMMENT", v(user["comment"]), "null", "user comment associated to an object in the dictionary"],
        ["DISPLAY_NAME", v(user["display_name"] or user["name"]), "null", "Display name of the associated object"],
        ["LOGIN_NAME", v(user["login_name"]), "null", "Login name of the user"],
        ["DISABLED", v(user["disabled"] or "false"), "false", "Whether the user is disabled"],
        ["DEFAULT_WAREHOUSE", v(user["default_warehouse"]), "null", "Default warehouse for this user"],
        ["DEFAULT_NAMESPACE", v(user["default_namespace"]), "null", "Default database namespace prefix for this user"],
        ["DEFAULT_ROLE", v(user["default_role"]), "null", "Primary principal of user session will be set to this role"],
        ["RSA_PUBLIC_KEY", v(user["rsa_public_key"]), "null", "RSA public key of the user"],
        ["RSA_PUBLIC_KEY_FP", v(user["rsa_public_key"] and fingerprint(user["rsa_public_key"])), "null",
         "Fingerprint of user's RSA public key."],
        ["RSA_PUBLIC_KEY_2", v(user["rsa_public_key_2"]), "null", "Second RSA public key of the user"],
        ["RSA_PUBLIC_KEY_2_FP", v(user["rsa_public_key_2"] and fingerprint(user["rsa_public_key_2"])), "null",
         "Fingerprint of user's second RSA public key."],
    ]  # fmt: skip
    return values_sql(DESC_COLUMNS, rows)


def drop_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    with catalog(compat.duck_conn(cursor)) as meta:
        if not _find(meta, name):
            if m["ie"]:
                return _status(f"Drop statement executed successfully ({name} already dropped).")
            raise not_found(name)
        meta.execute(f"DELETE FROM {FS_USERS} WHERE name = ?", [name])
        meta.execute(f"DELETE FROM {USERS} WHERE name = ?", [name])
    return _status(f"{name} successfully dropped.")


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a user statement; False if command is not one."""
    sql = None
    if m := _CREATE.match(command):
        sql = create_sql(cursor, m)
    elif m := _ALTER.match(command):
        sql = alter_sql(cursor, m)
    elif m := _DESC.match(command):
        sql = desc_sql(cursor, m)
    elif m := _DROP.match(command):
        sql = drop_sql(cursor, m)
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True


# --- login -----------------------------------------------------------------------------------------------------------


def jwt_accepted(token: str | None, user: dict[str, Any]) -> bool:
    """Whether a login JWT names and is signed by one of the user's public keys, for this user, and is current."""
    import jwt
    from cryptography.hazmat.primitives import serialization

    keys = [k for k in (user["rsa_public_key"], user["rsa_public_key_2"]) if k]
    if not token or not keys:
        return False
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    except jwt.PyJWTError:
        return False
    login = str(user["login_name"] or user["name"]).upper()
    if subject.partition(".")[2].upper() != login or not issuer.upper().startswith(f"{subject.upper()}."):
        return False
    named = issuer[len(subject) + 1 :]
    for key in keys:
        if fingerprint(key) != named:
            continue
        public = serialization.load_der_public_key(public_key_der(key))
        try:
            jwt.decode(token, public, algorithms=["RS256"], leeway=60)
        except jwt.PyJWTError:
            return False
        return True
    return False


def _login_params(body: bytes, headers: Any) -> dict[str, Any]:  # noqa: ANN401
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body).get("data") or {}


def wrap_login(login: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
    """fakesnow's login route with the JWT check and the session's context."""
    from starlette.responses import JSONResponse

    @functools.wraps(login)
    async def login_request(request: Any) -> Any:  # noqa: ANN401
        data = _login_params(await request.body(), request.headers)
        response = await login(request)
        answer = json.loads(response.body)
        if not answer.get("success"):
            return response
        token = answer["data"]["token"]
        conn = compat.session(token)
        if conn is None:
            raise KeyError(token)
        login_name = str(data.get("LOGIN_NAME") or "")
        user = by_login(compat.duck_conn(conn), login_name) if login_name else None
        if user is not None and str(data.get("AUTHENTICATOR", "")).upper() == "SNOWFLAKE_JWT":
            if not jwt_accepted(data.get("TOKEN"), user):
                compat.end_session(token)
                conn.close()
                return JSONResponse(
                    {"data": None, "code": "390144", "message": f"JWT token is invalid. [{uuid.uuid4()}]",
                     "success": False}
                )  # fmt: skip
        params = request.query_params
        role = ident(params["roleName"]) if params.get("roleName") else (user or {}).get("default_role") or "PUBLIC"
        wanted = ident(params["warehouse"]) if params.get("warehouse") else (user or {}).get("default_warehouse")
        warehouse = wanted if wanted and warehouses.exists(compat.duck_conn(conn), wanted) else None
        account = str(data.get("ACCOUNT_NAME") or "").upper() or None
        name = user["name"] if user else (login_name.upper() or None)
        if access_control.enforcing():
            refused = _login_refused(conn, user, role, params.get("roleName"))
            if refused is not None:
                compat.end_session(token)
                conn.close()
                return refused
            if warehouse is not None and not _may_use_warehouse(conn, name, role, warehouse):
                warehouse = None  # as in Snowflake: the login succeeds without a current warehouse
        session_context.set_login(conn, session_context.Session(name, role, warehouse, account))
        session_params.apply_login(conn, data.get("SESSION_PARAMETERS") or {})
        return response

    login_request.__snowseg_users__ = True  # type: ignore[attr-defined]
    return login_request


def _login_refused(conn: Any, user: dict[str, Any] | None, role: str, asked: str | None) -> Any:  # noqa: ANN401
    """The error response Snowflake gives this login when privileges are enforced, or None if it may log in."""
    from starlette.responses import JSONResponse

    from snowseg_twin.extensions import _grants
    from snowseg_twin.extensions._account_catalog import catalog

    if user is None:
        # Snowflake knows no such user: https://docs.snowflake.com/en/user-guide/key-pair-auth-troubleshooting
        return JSONResponse({"data": None, "code": "390100", "success": False,
                             "message": "Incorrect username or password was specified."})  # fmt: skip
    with catalog(compat.duck_conn(conn)) as meta:
        usable = _grants.user_roles(meta, user["name"])
    if role in usable:
        return None
    shown = ident(asked) if asked else role
    return JSONResponse(
        {"data": None, "code": "390189", "success": False,
         "message": f"Role '{shown}' specified in the connect string is not granted to this user. Contact your local "
                    "system administrator, or attempt to login with another role, e.g. PUBLIC."}
    )  # fmt: skip


def _may_use_warehouse(conn: Any, user: str | None, role: str, warehouse: str) -> bool:  # noqa: ANN401
    from snowseg_twin.extensions import _grants
    from snowseg_twin.extensions._account_catalog import catalog

    with catalog(compat.duck_conn(conn)) as meta:
        held = _grants.held(meta, _grants.inherited(meta, role), "WAREHOUSE", warehouse)
    return "USAGE" in held or "OWNERSHIP" in held


def install_login() -> None:
    """Route fakesnow's login requests through wrap_login, in its route list and its app (idempotent)."""
    wrapped = compat.wrap("server.login_request", wrap_login, "__snowseg_users__")
    compat.replace_route("/session/v1/login-request", wrapped)
