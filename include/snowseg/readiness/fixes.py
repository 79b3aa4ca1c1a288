"""The fixes the checks print, taken from the scripts that own them: the admin script and the versioned setup.

Who grants what has two owners, and the checks read both instead of restating them:

- ``include/sql/admin/admin_setup.sql``, run once by an account admin: the role, the warehouse, the database, the
  service user and the storage integration (:func:`admin_sql` prints one of its statements with the connection's
  names);
- the migrations under ``include/sql/migrations/`` (:mod:`snowseg.migrations`), which grant the service role
  what the DAGs use on each object (:func:`granted`).

Examples
--------
>>> admin_sql("grant usage on warehouse", warehouse="MY_WH", role="MY_ROLE")
'GRANT USAGE ON WAREHOUSE MY_WH TO ROLE MY_ROLE;'
>>> granted("stage", "SNOWSEG_BULK"), granted("table", "intake_table"), granted("pipe", "pipe")
('READ and WRITE', 'OWNERSHIP', 'OPERATE and MONITOR')
"""

from __future__ import annotations

import json
import re
from functools import cache

from snowseg import warehouse as wh

#: The admin script, as the fixes name it (relative to the repository).
ADMIN_SCRIPT = "include/sql/admin/admin_setup.sql"
_ADMIN_FILE = wh.SQL_DIR / "admin" / "admin_setup.sql"
#: The names the admin script uses, which a fix replaces with the connection's own.
ADMIN_NAMES = {"role": "SNOWSEG_ROLE", "warehouse": "SNOWSEG_WH", "user": "SNOWSEG_SVC",
               "integration": "SNOWSEG_S3_INT", "location": "s3://<BUCKET>/<PREFIX>/"}

_GRANT = re.compile(r"^grant (?P<privileges>[a-z, ]+?) on (?P<kind>database|schema|table|view|stage|file format|pipe) "
                    r"(?P<object>\S+) to role \{service_role\}", re.IGNORECASE | re.MULTILINE)


@cache
def _admin_statements() -> tuple[str, ...]:
    from snowseg.migrations import split_statements

    text = "\n".join(ln for ln in _ADMIN_FILE.read_text(encoding="utf-8").splitlines()
                     if not ln.lstrip().startswith("--"))
    return tuple(" ".join(s.split()) for s in split_statements(text))


def admin_sql(start: str, **names: str) -> str:
    """The admin script's statement that `start` (a regular expression) matches at its beginning, with the connection's
    names (keys of
    :data:`ADMIN_NAMES`) for the script's: one line, upper case outside its literals, without its comment.

    Raises
    ------
    LookupError
        If the admin script has no such statement.

    Examples
    --------
    >>> admin_sql(r"grant role \\w+ to user", role="R", user="U")
    'GRANT ROLE R TO USER U;'
    >>> print(admin_sql("create warehouse", warehouse="WH2").replace(" AUTO_SUSPEND", "\\nAUTO_SUSPEND"))
    CREATE WAREHOUSE IF NOT EXISTS WH2 WAREHOUSE_SIZE = XSMALL
    AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;
    """
    found = [s for s in _admin_statements() if re.match(start, s, re.IGNORECASE)]
    if not found:
        raise LookupError(f"{ADMIN_SCRIPT} has no statement starting with {start!r}")
    statement = re.sub(r" comment = '[^']*'", "", found[0])
    for key, value in names.items():
        default = ADMIN_NAMES[key]
        if key == "location":
            statement = statement.replace(default, value)
        else:
            statement = re.sub(rf"\b{re.escape(default)}\b", value, statement)
    parts = statement.split("'")  # literals (odd parts) stay as they are
    return "'".join(p.upper() if i % 2 == 0 else p for i, p in enumerate(parts)) + ";"


@cache
def _grants() -> dict[tuple[str, str], tuple[str, ...]]:
    """{(object kind, object name): privileges} the migrations grant the service role; a dataset's object is named
    by its placeholder (``intake_table``, ``pipe``...), a schema by its (``raw``...)."""
    from snowseg.migrations import discover

    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for migration in discover():
        for g in _GRANT.finditer(migration.path.read_text(encoding="utf-8")):
            name = g["object"].rsplit(".", 1)[-1].strip("{}")
            out[(g["kind"].lower(), name)] = tuple(p.strip().upper() for p in g["privileges"].split(","))
    return out


def grant_list(kind: str, name: str) -> tuple[str, ...]:
    """The privileges the versioned setup grants the service role on an object, eg: ``('READ', 'WRITE')``.

    Raises
    ------
    LookupError
        If no migration grants the service role anything on it.
    """
    try:
        return _grants()[(kind.lower(), name)]
    except KeyError:
        raise LookupError(f"no migration grants the service role a privilege on {kind} {name}") from None


def granted(kind: str, name: str) -> str:
    """:func:`grant_list` in words: ``READ and WRITE``."""
    privileges = grant_list(kind, name)
    return " and ".join([", ".join(privileges[:-1]), privileges[-1]] if len(privileges) > 1 else privileges)


def create_warehouse_sql(warehouse: str) -> str:
    """The admin script's CREATE WAREHOUSE for another warehouse name."""
    return admin_sql("create warehouse", warehouse=warehouse)


def create_integration_sql(integration: str, url: str) -> str:
    """The admin script's CREATE STORAGE INTEGRATION for the connection's integration and landing URL."""
    return admin_sql("create storage integration", integration=integration, location=url)


def iam_fix(integration: str, url: str) -> str:
    """What the IAM role behind a storage integration needs to read the landing URL."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return (f"check the IAM role of storage integration {integration}: its trust policy must name the "
            f"STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID that `DESC INTEGRATION {integration};` shows, and "
            f"its policy must allow s3:GetObject and s3:GetObjectVersion on arn:aws:s3:::{bucket}/{prefix}* and "
            f"s3:ListBucket on arn:aws:s3:::{bucket}")


def s3_policy(url: str) -> str:
    """The IAM policy Airflow's AWS identity needs on the landing URL (upload, and the bucket's notifications)."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketNotification", "s3:PutBucketNotification"],
         "Resource": f"arn:aws:s3:::{bucket}"}]}, separators=(",", ":"))  # fmt: skip
