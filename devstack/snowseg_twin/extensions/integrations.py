"""Storage integrations: CREATE / SHOW / DESC / DROP STORAGE INTEGRATION.

Emulates Snowflake's storage integrations for Amazon S3 as objects of the account:
- `CREATE [OR REPLACE] STORAGE INTEGRATION [IF NOT EXISTS] i TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE|FALSE STORAGE_AWS_ROLE_ARN = '..' STORAGE_ALLOWED_LOCATIONS = ('s3://b/p/', ..)
  [STORAGE_BLOCKED_LOCATIONS = (..)] [STORAGE_AWS_OBJECT_ACL = '..'] [COMMENT = '..']` records it in
  ``_fs_global._fs_information_schema._twin_integrations`` with a generated STORAGE_AWS_IAM_USER_ARN and
  STORAGE_AWS_EXTERNAL_ID (what an AWS admin puts in the IAM role's trust policy). Result "Integration I
  successfully created."; an existing name fails with 002002 unless IF NOT EXISTS or OR REPLACE.
- `SHOW [STORAGE] INTEGRATIONS [LIKE '..']`: name, type (EXTERNAL_STAGE), category (STORAGE), enabled ('true' |
  'false'), comment, created_on.
- `DESC[RIBE] [STORAGE] INTEGRATION i`: one row per property (property, property_type, property_value,
  property_default): ENABLED, STORAGE_PROVIDER, STORAGE_ALLOWED_LOCATIONS and STORAGE_BLOCKED_LOCATIONS
  (comma-separated), STORAGE_AWS_IAM_USER_ARN, STORAGE_AWS_ROLE_ARN, STORAGE_AWS_EXTERNAL_ID, COMMENT.
- `DROP [STORAGE] INTEGRATION [IF EXISTS] i`.
A missing integration fails as in Snowflake: 002003 "SQL compilation error:\\nIntegration 'I' does not exist or not
authorized." Privileges (access_control, when enforced): CREATE needs CREATE INTEGRATION on the account
(ACCOUNTADMIN's), DESC needs USAGE, DROP needs OWNERSHIP, CREATE STAGE ... STORAGE_INTEGRATION = i needs USAGE on i.

A new twin account has the integration named by env SNOWSEG_STORAGE_INTEGRATION (default SNOWSEG_S3_INT), with
STORAGE_ALLOWED_LOCATIONS = ('*') (_account_catalog).

Differs from Snowflake: without enforcement every integration is listed whatever the role (Snowflake, and the twin
when enforcing, lists those the role has USAGE or OWNERSHIP on); only S3 providers are accepted; CREATE STAGE does not check its STORAGE_INTEGRATION, nor the
URL against the allowed locations (s3_stages reads S3 with the environment's credentials); a missing required
option is refused with the twin's own message.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions import access_control
from snowseg_twin.extensions._account_catalog import INTEGRATIONS, NAME, catalog, check_known, ident, like_clause
from snowseg_twin.extensions._account_catalog import like_matches, properties
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions import _fakesnow_compat as compat

_CREATE = re.compile(
    rf"""^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?STORAGE\s+INTEGRATION\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?
        (?P<name>{NAME})(?P<props>.*?)\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SHOW = re.compile(rf"^\s*SHOW\s+(?:STORAGE\s+)?INTEGRATIONS{like_clause()}\s*;?\s*$", re.IGNORECASE)
DESC = re.compile(rf"^\s*DESC(?:RIBE)?\s+(?:STORAGE\s+)?INTEGRATION\s+(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)
_DROP = re.compile(
    rf"^\s*DROP\s+(?:STORAGE\s+)?INTEGRATION\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE
)
UNPARSABLE = [_CREATE, _SHOW, DESC, _DROP]

_KNOWN = {
    "TYPE", "STORAGE_PROVIDER", "ENABLED", "STORAGE_AWS_ROLE_ARN", "STORAGE_AWS_OBJECT_ACL", "STORAGE_AWS_EXTERNAL_ID",
    "STORAGE_ALLOWED_LOCATIONS", "STORAGE_BLOCKED_LOCATIONS", "USE_PRIVATELINK_ENDPOINT", "COMMENT",
}  # fmt: skip
_REQUIRED = ("TYPE", "STORAGE_PROVIDER", "ENABLED", "STORAGE_AWS_ROLE_ARN", "STORAGE_ALLOWED_LOCATIONS")
_PROVIDERS = {"S3", "S3GOV", "S3CHINA"}

SHOW_COLUMNS = [
    ("name", "VARCHAR"),
    ("type", "VARCHAR"),
    ("category", "VARCHAR"),
    ("enabled", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("created_on", "TIMESTAMPTZ"),
]
DESC_COLUMNS = [
    ("property", "VARCHAR"),
    ("property_type", "VARCHAR"),
    ("property_value", "VARCHAR"),
    ("property_default", "VARCHAR"),
]


def iam_user_arn() -> str:
    """The IAM user Snowflake's account assumes the integration's role with (one per account)."""
    return "arn:aws:iam::123456789012:user/snowseg-twin-sf-s3"


def external_id(name: str) -> str:
    """The external id an AWS admin puts in the trust policy, shaped as Snowflake's ``<ACCOUNT>_SFCRole=..``."""
    return f"TWIN_SFCRole=2_{hashlib.sha256(name.encode()).hexdigest()[:28]}"


def not_found(name: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\nIntegration '{name}' does not exist or not authorized.",
        errno=2003,
        sqlstate="02000",
    )


def _status(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def _locations(value: Any, option: str) -> list[str]:  # noqa: ANN401
    if not isinstance(value, list) or not value:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\n{option} must be a non-empty list of quoted locations", errno=1003,
            sqlstate="42000",
        )
    return value


def create_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    props = properties(m["props"], "CREATE STORAGE INTEGRATION")
    check_known(props, _KNOWN, "CREATE STORAGE INTEGRATION")
    missing = [k for k in _REQUIRED if k not in props]
    if missing:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nmissing option(s) {', '.join(missing)}", errno=1003, sqlstate="42000"
        )
    if str(props["TYPE"]).upper() != "EXTERNAL_STAGE":
        raise NotImplementedError(f"CREATE STORAGE INTEGRATION with TYPE = {props['TYPE']}")
    provider = str(props["STORAGE_PROVIDER"]).upper()
    if provider not in _PROVIDERS:
        raise NotImplementedError(f"CREATE STORAGE INTEGRATION with STORAGE_PROVIDER = '{provider}'")
    allowed = _locations(props["STORAGE_ALLOWED_LOCATIONS"], "STORAGE_ALLOWED_LOCATIONS")
    blocked = _locations(props["STORAGE_BLOCKED_LOCATIONS"], "STORAGE_BLOCKED_LOCATIONS") if (
        "STORAGE_BLOCKED_LOCATIONS" in props
    ) else []
    row = [name, bool(props["ENABLED"]), provider, props["STORAGE_AWS_ROLE_ARN"], allowed, blocked,
           props.get("COMMENT", ""), iam_user_arn(), props.get("STORAGE_AWS_EXTERNAL_ID") or external_id(name)]  # fmt: skip
    with catalog(compat.duck_conn(cursor)) as meta:
        found = bool(meta.execute(f"SELECT 1 FROM {INTEGRATIONS} WHERE name = ?", [name]).fetchall())
        if found and m["ine"]:
            return _status(f"{name} already exists, statement succeeded.")
        if found and not m["replace"]:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nObject '{name}' already exists.", errno=2002, sqlstate="42710"
            )
        meta.execute(f"DELETE FROM {INTEGRATIONS} WHERE name = ?", [name])
        meta.execute(f"INSERT INTO {INTEGRATIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())", row)
    return _status(f"Integration {name} successfully created.")


def _row(duck_conn: Any, name: str) -> tuple | None:  # noqa: ANN401
    with catalog(duck_conn) as meta:
        rows = meta.execute(
            "SELECT name, enabled, provider, aws_role_arn, allowed_locations, blocked_locations, comment, "
            f"iam_user_arn, external_id, created_on FROM {INTEGRATIONS} WHERE name = ?",
            [name],
        ).fetchall()
    return rows[0] if rows else None


def show_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    with catalog(compat.duck_conn(cursor)) as meta:
        rows = meta.execute(f"SELECT name, enabled, comment, created_on FROM {INTEGRATIONS} ORDER BY name").fetchall()
    out = [
        [name, "EXTERNAL_STAGE", "STORAGE", "true" if enabled else "false", comment, created_on]
        for name, enabled, comment, created_on in rows
        if like_matches(m["like"], name) and access_control.visible(cursor, "INTEGRATION", name)
    ]
    return values_sql(SHOW_COLUMNS, out)


def desc_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    row = _row(compat.duck_conn(cursor), name)
    if row is None:
        raise not_found(name)
    _, enabled, provider, role_arn, allowed, blocked, comment, user_arn, ext_id, _ = row
    props = [
        ["ENABLED", "Boolean", "true" if enabled else "false", "false"],
        ["STORAGE_PROVIDER", "String", provider, ""],
        ["STORAGE_ALLOWED_LOCATIONS", "List", ",".join(allowed), "[]"],
        ["STORAGE_BLOCKED_LOCATIONS", "List", ",".join(blocked), "[]"],
        ["STORAGE_AWS_IAM_USER_ARN", "String", user_arn, ""],
        ["STORAGE_AWS_ROLE_ARN", "String", role_arn, ""],
        ["STORAGE_AWS_EXTERNAL_ID", "String", ext_id, ""],
        ["COMMENT", "String", comment or "", ""],
    ]
    return values_sql(DESC_COLUMNS, props)


def drop_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    with catalog(compat.duck_conn(cursor)) as meta:
        found = bool(meta.execute(f"SELECT 1 FROM {INTEGRATIONS} WHERE name = ?", [name]).fetchall())
        if not found:
            if m["ie"]:
                return _status(f"Drop statement executed successfully ({name} already dropped).")
            raise not_found(name)
        meta.execute(f"DELETE FROM {INTEGRATIONS} WHERE name = ?", [name])
    return _status(f"{name} successfully dropped.")


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a storage integration statement; False if command is not one."""
    sql = None
    if m := _CREATE.match(command):
        sql = create_sql(cursor, m)
    elif m := _SHOW.match(command):
        sql = show_sql(cursor, m)
    elif m := DESC.match(command):
        sql = desc_sql(cursor, m)
    elif m := _DROP.match(command):
        sql = drop_sql(cursor, m)
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True
