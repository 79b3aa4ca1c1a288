"""The smoke suite's throwaway database: its name, its versioned setup as an admin, and dropping it afterwards.

The database is ``SNOWSEG_SMOKE_<8 hex digits>``. An admin connection creates it through the versioned setup
(:func:`snowseg.migrations.apply`, exactly what ``make setup-warehouse`` runs; its first migration creates the
database and grants USAGE to the service role), because the role the DAGs run as has no CREATE DATABASE. The
Snowpipe part of the setup (landing stage, pipe) lands on a prefix of its own next to the landing prefix, never
under it: a production pipe reading the landing prefix would load the smoke suite's files too.

At the end the admin drops the database, and the files the suite landed in S3 and the bucket notification its
pipe got are removed.

Examples
--------
>>> bool(SMOKE_DATABASE.fullmatch(new_name()))
True
>>> smoke_landing_url("s3://snowseg-landing/sales/", "SNOWSEG_SMOKE_0A1B2C3D")
's3://snowseg-landing/snowseg_smoke_0a1b2c3d/'
>>> smoke_landing_url("s3://b/teams/sales/in/", "SNOWSEG_SMOKE_0A1B2C3D")
's3://b/teams/sales/snowseg_smoke_0a1b2c3d/'
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from snowseg import sf_errors
from snowseg import warehouse as wh
from snowseg.readiness import ADMIN_SCRIPT, Check, explain
from snowseg.warehouse import Names

#: The throwaway databases' names (the statement catalogue's test reads them as ``db``, as the tests' own).
SMOKE_DATABASE = re.compile(r"SNOWSEG_SMOKE_[0-9A-F]{8}", re.IGNORECASE)


class SmokeSetupFailed(Exception):
    """The throwaway database could not be set up: ``conn_id`` and ``role`` say who tried, ``errno`` Snowflake's code
    (if any), ``step`` what failed (``create``: a privilege was missing, or ``migrations``), ``fix`` what to do."""

    def __init__(self, message: str, *, conn_id: str, role: str | None, step: str, errno: int | None = None,
                 fix: str = ""):
        super().__init__(message)
        self.conn_id, self.role, self.step, self.errno, self.fix = conn_id, role, step, errno, fix


@dataclass(frozen=True)
class Throwaway:
    """The throwaway database: its names and, for Snowpipe, its own landing prefix."""

    names: Names
    landing_url: str | None

    @property
    def database(self) -> str:
        return self.names.database


def new_name() -> str:
    """A fresh throwaway database name."""
    return f"SNOWSEG_SMOKE_{uuid.uuid4().hex[:8].upper()}"


def smoke_landing_url(landing_url: str, database: str) -> str:
    """The throwaway database's landing prefix: a sibling of the landing prefix, named after the database."""
    bucket, _, prefix = landing_url.removeprefix("s3://").partition("/")
    parent = "/".join(prefix.strip("/").split("/")[:-1])
    return f"s3://{bucket}/{parent + '/' if parent else ''}{database.lower()}/"


def session_role(conn: Any) -> str:
    """The role a connection's session runs as."""
    with conn.cursor() as cur:
        ((_, role, _),) = wh.run(cur, "readiness/select_session.sql")
    return str(role)


def set_up(admin_conn: Any, admin_conn_id: str, throwaway: Throwaway, contract: Any, *,
           service_role: str) -> Check:
    """Create the database with the versioned setup, as the admin, granting `service_role` what the DAGs need.

    Raises
    ------
    SmokeSetupFailed
        Naming the connection, its role and Snowflake's error; a privilege error says that an admin connection
        (``ADMIN_CONN=``) is needed.
    """
    from snowseg import migrations
    from snowseg.loading.snowpipe import Landing

    landing = Landing.from_env(throwaway.landing_url) if throwaway.landing_url else None
    role = None
    try:
        role = session_role(admin_conn)
        results = migrations.apply(admin_conn, throwaway.names, [contract], service_role=service_role,
                                   landing=landing)
    except Exception as e:
        errno = sf_errors.errno_of(e)
        who = f"connection {admin_conn_id!r}" + (f" (role {role})" if role else "")
        if sf_errors.is_privilege(e) or sf_errors.is_missing(e):
            raise SmokeSetupFailed(
                f"{who} cannot create database {throwaway.database} and its objects: {explain(e)}",
                conn_id=admin_conn_id, role=role, step="create", errno=errno,
                fix=(f"the role the DAGs run as has no CREATE DATABASE: give a connection of a role that has it (eg: "
                     f"SYSADMIN, see {ADMIN_SCRIPT}): make test-snowflake CONN=... ADMIN_CONN=<admin connection>"),
            ) from e
        raise SmokeSetupFailed(f"{who}: the versioned setup of {throwaway.database} failed: {explain(e)}",
                               conn_id=admin_conn_id, role=role, step="migrations",
                               errno=errno,
                               fix="make setup-warehouse shows the same failure on a database of your choice") from e
    applied = sum(r.status == "APPLIED" for r in results)
    snowpipe = f", Snowpipe objects on {throwaway.landing_url}" if landing else " (no Snowpipe objects)"
    return Check("setup", True, f"{admin_conn_id!r} (role {role}) created {throwaway.database} and applied "
                 f"{applied} migrations{snowpipe}; the DAGs run as {service_role}")


def drop(admin_conn: Any, admin_conn_id: str, database: str) -> Check:
    """Drop the throwaway database, as the admin who created it (its owner)."""
    name = f"drop {database}"
    try:
        with admin_conn.cursor() as cur:
            rows = wh.run(cur, "smoke/drop_database.sql", database=wh.quote_ident(database))
    except Exception as e:
        return Check(name, False, f"{admin_conn_id!r} could not drop it: {explain(e)}",
                     f"DROP DATABASE IF EXISTS {database};  (as its owner, the admin role)")
    said = str(rows[0][0]) if rows and rows[0] else "done"
    return Check(name, True, f"{admin_conn_id!r}: {said}")


def clean_landing(aws_conn_id: str, landing_url: str, pipe: Any) -> Check:
    """Remove the pipe's bucket notification and delete what the suite landed under its prefix.

    The notification must go (it would point at a pipe that no longer exists); objects left behind are only
    clutter, and the AWS identity the DAGs use needs no s3:DeleteObject, so failing to delete them is a SKIP with
    what to remove by hand, not a failure.
    """
    from snowseg.loading import snowpipe

    landing = snowpipe.Landing.from_env(landing_url)
    name = f"clean {landing_url}"
    try:
        client = snowpipe.s3_hook(aws_conn_id).get_conn()
        removed = snowpipe.remove_notification(client, landing, pipe) if pipe is not None else False
    except Exception as e:
        return Check(name, False, f"could not remove the bucket notification of pipe {getattr(pipe, 'qualified', '')} "
                     f"with {aws_conn_id!r}: {type(e).__name__}: {e}",
                     f"remove the bucket notification with the Id {snowpipe.notification_id(pipe)} by hand")
    note = ", the pipe's bucket notification removed" if removed else ""
    deleted = 0
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=landing.bucket, Prefix=landing.prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                answer = client.delete_objects(Bucket=landing.bucket, Delete={"Objects": keys, "Quiet": True})
                if errors := answer.get("Errors"):  # S3 answers per key (eg: AccessDenied) instead of raising
                    raise PermissionError(f"{errors[0].get('Code')}: {errors[0].get('Message')}")
                deleted += len(keys)
    except Exception as e:
        return Check(name, True, f"{deleted} objects deleted, the others not ({type(e).__name__}: {e}){note}",
                     f"delete the objects under {landing_url} by hand (the AWS identity of {aws_conn_id!r} may not "
                     "s3:DeleteObject, which the DAGs do not need)", skipped=True)
    return Check(name, True, f"{deleted} objects deleted{note}")
