"""External S3 stages: CREATE STAGE ... URL = 's3://...', LIST and COPY INTO read S3 through boto3.

Emulates Snowflake's external stages on Amazon S3:
- `CREATE [OR REPLACE] [TEMPORARY] STAGE s URL = 's3://bucket/prefix/' [CREDENTIALS = (AWS_KEY_ID = '..'
  AWS_SECRET_KEY = '..' [AWS_TOKEN = '..']) | STORAGE_INTEGRATION = i] [FILE_FORMAT = (...)]`: fakesnow
  records the stage and its URL; this module also keeps the credentials, the storage integration and
  the stage's FILE_FORMAT (for any stage, internal ones too) in
  ``_fs_global._fs_information_schema._twin_stage_options``.
- `LIST @s[/path] [PATTERN = '<regex>']` lists the objects under the stage URL + path (a key prefix,
  not a directory): name as ``s3://bucket/key``, size, md5 (the object's ETag) and last_modified in
  Snowflake's ``Fri, 27 Nov 2026 17:00:00 GMT`` form.
- COPY INTO <table> FROM @s[/path] (plain or transformation; FILES relative to the FROM location;
  PATTERN matched against the whole path relative to the stage URL): copy_csv asks select_files for
  the objects, which are downloaded to a cache directory and parsed by the twin's CSV engine. COPY's
  output shows each file as ``s3://bucket/key``; METADATA$FILENAME is the key relative to the stage
  URL (eg: ``sales/a.csv`` for ``s3://bucket/prefix/sales/a.csv`` in a stage on ``s3://bucket/prefix/``);
  load history keys on the ``s3://`` URL. PURGE = TRUE deletes the loaded objects from the bucket.
  COPY ... VALIDATION_MODE (validation_mode) selects and reads the objects the same way.
- A COPY without FILE_FORMAT uses the stage's FILE_FORMAT (Snowflake's precedence: COPY, then stage;
  options are not merged).

The boto3 client uses the endpoint in env AWS_ENDPOINT_URL (moto in development and tests; unset for
real S3), region AWS_DEFAULT_REGION / AWS_REGION (default us-east-1), and the stage's CREDENTIALS, or
the environment's credentials for a STORAGE_INTEGRATION or no credentials.

Differs from Snowflake: a storage integration is not checked (the environment's credentials are
used); objects are downloaded whole on every COPY; S3 errors are reported with the twin's own text
(errno 91016 for a missing FILES entry, as Snowflake); only s3:// URLs are supported (gcs://,
azure:// stages raise NotImplementedError through fakesnow's own COPY).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snowflake.connector.errors
import sqlglot
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import lookup_file_format
from snowseg_twin.extensions._fakesnow_compat import parse_options
from sqlglot import exp

from snowseg_twin.extensions._staged_files import StagedFile
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

OPTIONS_TABLE = "_fs_global._fs_information_schema._twin_stage_options"

_CREATE_STAGE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?STAGE\b", re.IGNORECASE)
_LIST = re.compile(
    r"""^\s*(?:LIST|LS)\s+
        (?P<target>'(?:[^']|'')*'|@[^\s;]+)
        (?:\s+PATTERN\s*=\s*'(?P<pattern>(?:[^'\\]|\\.|'')*)')?
        \s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Credentials:
    key_id: str | None = None
    secret_key: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class ExternalStage:
    fqname: str  # DB.SCHEMA.NAME
    url: str  # as created, eg: s3://bucket/prefix/
    credentials: Credentials

    @property
    def bucket(self) -> str:
        return self.url[len("s3://") :].partition("/")[0]

    @property
    def root(self) -> str:
        """The key prefix of the stage URL, eg: 'prefix/'."""
        return self.url[len("s3://") :].partition("/")[2]

    def key(self, path: str) -> str:
        """The key (prefix) of a path relative to the stage URL."""
        if not path:
            return self.root
        root = self.root if not self.root or self.root.endswith("/") else f"{self.root}/"
        return f"{root}{path}"

    def name(self, key: str) -> str:
        """METADATA$FILENAME of an object: its key relative to the stage URL."""
        return key[len(self.root) :].lstrip("/") if key.startswith(self.root) else key

    def url_of(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    last_modified: Any  # datetime


# --- stage options -----------------------------------------------------------------------------------------------


def _ensure_options_table(duck_conn: DuckDBPyConnection) -> None:
    """Create the options table if missing, in its own transaction (a session's may be writing elsewhere)."""
    exists = duck_conn.execute(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = '_fs_global' AND table_name = '_twin_stage_options'"
    ).fetchall()
    if exists:
        return
    with duck_conn.cursor() as own:
        _create_options_table(own)


def _create_options_table(duck_conn: DuckDBPyConnection) -> None:
    duck_conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {OPTIONS_TABLE} (
            database_name VARCHAR, schema_name VARCHAR, name VARCHAR, aws_key_id VARCHAR,
            aws_secret_key VARCHAR, aws_token VARCHAR, storage_integration VARCHAR, file_format VARCHAR
        )
        """
    )


def _stage_row(duck_conn: DuckDBPyConnection, catalog: str, schema: str, name: str) -> tuple | None:
    return next(
        iter(
            duck_conn.execute(
                "SELECT url FROM _fs_global._fs_information_schema._fs_stages "
                "WHERE database_name = ? AND schema_name = ? AND name = ?",
                [catalog, schema, name],
            ).fetchall()
        ),
        None,
    )


def _options_row(duck_conn: DuckDBPyConnection, catalog: str, schema: str, name: str) -> tuple | None:
    _ensure_options_table(duck_conn)
    rows = duck_conn.execute(
        f"SELECT aws_key_id, aws_secret_key, aws_token, storage_integration, file_format FROM {OPTIONS_TABLE} "
        "WHERE database_name = ? AND schema_name = ? AND name = ?",
        [catalog, schema, name],
    ).fetchall()
    return rows[0] if rows else None


def record_stage_options(expression: exp.Create, duck_conn: DuckDBPyConnection, catalog: str, schema: str) -> None:
    """Keep what fakesnow drops from a CREATE STAGE: credentials, storage integration, FILE_FORMAT."""
    table = expression.find(exp.Table)
    assert table is not None
    name = table.name if table.this.quoted else table.name.upper()
    catalog = (table.catalog or catalog).upper()
    schema = (table.db or schema).upper()
    creds: dict[str, Any] = {}
    integration = None
    file_format = None
    for prop in expression.args.get("properties") or []:
        if isinstance(prop, exp.CredentialsProperty):
            creds = parse_options(prop.expressions)
        elif isinstance(prop, exp.FileFormatProperty):
            file_format = json.dumps(parse_options(prop.expressions))
        elif isinstance(prop, exp.Property) and prop.name.upper() == "STORAGE_INTEGRATION":
            integration = prop.args["value"].name
    with duck_conn.cursor() as meta:
        _create_options_table(meta)
        meta.execute(
            f"DELETE FROM {OPTIONS_TABLE} WHERE database_name = ? AND schema_name = ? AND name = ?",
            [catalog, schema, name],
        )
        meta.execute(
            f"INSERT INTO {OPTIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                catalog, schema, name, creds.get("AWS_KEY_ID"), creds.get("AWS_SECRET_KEY"), creds.get("AWS_TOKEN"),
                integration, file_format,
            ],
        )  # fmt: skip


def resolve(var: str, duck_conn: DuckDBPyConnection, current_database: str | None, current_schema: str | None) -> (
    tuple[ExternalStage, str] | None
):
    """The external S3 stage a stage reference (without @) names, and the path after it; None if not one."""
    stage_var, _, path = var.partition("/")
    if stage_var.startswith("~"):
        return None
    catalog, schema, name = compat.parts_from_var(stage_var, current_database, current_schema)
    if compat.is_table_stage(name):
        return None
    row = _stage_row(duck_conn, catalog, schema, name)
    if row is None or not row[0] or not str(row[0]).lower().startswith("s3://"):
        return None
    opts = _options_row(duck_conn, catalog, schema, name)
    creds = Credentials(*opts[:3]) if opts else Credentials()
    return ExternalStage(f"{catalog}.{schema}.{name}", row[0], creds), path


def stage_file_format(
    var: str, duck_conn: DuckDBPyConnection, current_database: str | None, current_schema: str | None
) -> dict[str, Any]:
    """The FILE_FORMAT options a named stage was created with ({} if none, or not a named stage)."""
    stage_var = var.partition("/")[0]
    if stage_var.startswith("~"):
        return {}
    catalog, schema, name = compat.parts_from_var(stage_var, current_database, current_schema)
    if compat.is_table_stage(name):
        return {}
    opts = _options_row(duck_conn, catalog, schema, name)
    if not opts or not opts[4]:
        return {}
    options = json.loads(opts[4])
    if format_name := options.pop("FORMAT_NAME", None):
        options = {**lookup_file_format(duck_conn, str(format_name), current_database, current_schema), **options}
    return options


# --- S3 ----------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _client_for(endpoint: str | None, region: str, creds: Credentials) -> Any:  # noqa: ANN401
    import boto3

    kwargs: dict[str, Any] = {"region_name": region}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if creds.key_id:
        kwargs.update(
            aws_access_key_id=creds.key_id, aws_secret_access_key=creds.secret_key, aws_session_token=creds.token
        )
    return boto3.client("s3", **kwargs)


def client(creds: Credentials = Credentials()) -> Any:  # noqa: ANN401
    """A boto3 S3 client for the twin's endpoint (env AWS_ENDPOINT_URL), with the stage's credentials if any."""
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    return _client_for(os.environ.get("AWS_ENDPOINT_URL") or None, region, creds)


def _s3_error(ext: ExternalStage, e: Exception) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Failure using stage area. Cause: [{e}] (stage {ext.fqname}, URL {ext.url})",
        errno=91003,
        sqlstate="22000",
    )


def list_objects(ext: ExternalStage, prefix: str) -> list[S3Object]:
    """Every object whose key starts with prefix, in key order (folder markers ending in / excluded)."""
    s3 = client(ext.credentials)
    out = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ext.bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                if not o["Key"].endswith("/"):
                    out.append(S3Object(o["Key"], o["Size"], o["ETag"].strip('"'), o["LastModified"]))
    except Exception as e:  # botocore errors: missing bucket, bad credentials, no endpoint
        raise _s3_error(ext, e) from e
    return out


def _cache_root() -> Path:
    if env := os.environ.get("SNOWSEG_TWIN_S3_CACHE"):
        return Path(env)
    home = getattr(compat.shared_fs(), "home", None)
    return Path(home) / "s3_cache" if home else Path(_temp_cache())


@functools.cache
def _temp_cache() -> str:
    return tempfile.mkdtemp(prefix="snowseg_twin_s3_")


def _download(ext: ExternalStage, key: str) -> str:
    target = _cache_root() / ext.bucket / key
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{id(target)}.part")
    client(ext.credentials).download_file(ext.bucket, key, str(partial))
    os.replace(partial, target)
    return str(target)


def staged_object(ext: ExternalStage, key: str) -> StagedFile:
    """Download one object and describe it as COPY reads it."""
    url = ext.url_of(key)
    return StagedFile(path=_download(ext, key), name=ext.name(key), listed_name=url, source=url)


def select_files(
    var: str,
    files: list[str] | None,
    pattern: str | None,
    duck_conn: DuckDBPyConnection,
    current_database: str | None,
    current_schema: str | None,
) -> list[StagedFile]:
    """The objects a COPY FROM @var reads given FILES / PATTERN, downloaded to the cache."""
    resolved = resolve(var, duck_conn, current_database, current_schema)
    assert resolved is not None, f"@{var} is not an external S3 stage"
    ext, path = resolved
    location = ext.key(path)
    if files:
        base = location if not location or location.endswith("/") else f"{location}/"
        keys = []
        s3 = client(ext.credentials)
        for name in files:
            key = f"{base}{name}"
            try:
                s3.head_object(Bucket=ext.bucket, Key=key)
            except Exception as e:
                raise snowflake.connector.errors.ProgrammingError(
                    msg=f"Remote file '{ext.url_of(key)}' was not found. There are several potential causes. "
                    "The file might not exist. The required credentials may be missing or invalid.",
                    errno=91016,
                    sqlstate="22000",
                ) from e
            keys.append(key)
    else:
        keys = [o.key for o in list_objects(ext, location)]
    if pattern is not None:
        regex = re.compile(pattern)
        keys = [k for k in keys if regex.fullmatch(ext.name(k))]
    return sorted((staged_object(ext, k) for k in keys), key=lambda f: f.name)


def remove_object(f: StagedFile) -> None:
    """PURGE of a loaded S3 object."""
    bucket, _, key = f.source[len("s3://") :].partition("/")
    client().delete_object(Bucket=bucket, Key=key)


# --- statements --------------------------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'") if s.startswith("'") else s


def list_sql(cursor: Any, command: str) -> str | None:  # noqa: ANN401
    """SQL giving LIST's result for an external S3 stage, or None if the LIST is not of one."""
    m = _LIST.match(command)
    if not m:
        return None
    target = _unquote(m["target"])
    if not target.startswith("@"):
        return None
    conn = compat.connection(cursor)
    resolved = resolve(target[1:], compat.duck_conn(cursor), conn.database, conn.schema)
    if resolved is None:
        return None
    ext, path = resolved
    objects = list_objects(ext, ext.key(path))
    if m["pattern"] is not None:
        regex = re.compile(m["pattern"].replace("''", "'"))
        objects = [o for o in objects if regex.fullmatch(ext.name(o.key)) or regex.fullmatch(ext.url_of(o.key))]
    columns = (
        "CAST(name AS VARCHAR) AS name, CAST(size AS BIGINT) AS size, CAST(md5 AS VARCHAR) AS md5, "
        "CAST(last_modified AS VARCHAR) AS last_modified"
    )
    if not objects:
        nulls = "NULL AS name, NULL AS size, NULL AS md5, NULL AS last_modified"
        return f"SELECT {columns} FROM (SELECT {nulls}) WHERE false"
    rows = ", ".join(
        "("
        + ", ".join(
            literal(v)
            for v in (ext.url_of(o.key), o.size, o.etag, o.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"))
        )
        + ")"
        for o in objects
    )
    return f"SELECT {columns} FROM (VALUES {rows}) AS t(name, size, md5, last_modified)"


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run command if it is an external-stage statement this module handles; False to let fakesnow run it."""
    if _CREATE_STAGE.match(command):
        expression = sqlglot.parse_one(command, read="snowflake")
        if not isinstance(expression, exp.Create):
            return False
        conn = compat.connection(cursor)
        table = expression.find(exp.Table)
        assert table is not None
        catalog = (table.catalog or conn.database or "").upper()
        schema = (table.db or conn.schema or "").upper()
        name = table.name if table.this.quoted else table.name.upper()
        existed = _stage_row(compat.duck_conn(cursor), catalog, schema, name) is not None
        execute(cursor, command, params, *args, **kwargs)
        if expression.args.get("replace") or not existed:
            record_stage_options(expression, compat.duck_conn(cursor), catalog, schema)
        return True
    if _LIST.match(command):
        sql = list_sql(cursor, command)
        if sql is None:
            return False
        compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
        return True
    return False
