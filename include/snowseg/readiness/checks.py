"""The checks of the objects the DAGs use: warehouse, database, the versioned setup, stages, and for
load_s3_snowpipe the landing stage, storage integration and pipe. No check creates an object.

Each check returns a :class:`~snowseg.readiness.model.Check`; a failure's fix is SQL with the connection's real names
(from the admin script and the migrations, :mod:`snowseg.readiness.fixes`) or what to do.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from snowseg import sf_errors as codes
from snowseg import warehouse as wh
from snowseg.loading import pipe_states
from snowseg.loading.audit import error_text
from snowseg.migrations import SETUP_COMMAND
from snowseg.objects import LANDING_STAGE
from snowseg.readiness.errors import explain
from snowseg.readiness.fixes import (
    ADMIN_SCRIPT,
    admin_sql,
    create_integration_sql,
    create_warehouse_sql,
    grant_list,
    granted,
    iam_fix,
)
from snowseg.readiness.model import Check, Session, Target
from snowseg.warehouse import Names, quote_ident, quote_literal

PROBE_PATH = "snowseg_readiness_probe/"  # a path under the landing stage that holds nothing: LIST stays cheap


def _rows(cur: Any, name: str, params: dict | None = None, **fragments: str) -> list[dict[str, Any]]:
    rows = wh.run(cur, name, params, **fragments)
    cols = [d[0].lower() for d in cur.description] if cur.description else []
    return [dict(zip(cols, r, strict=False)) for r in rows]


def warehouse_failure(error: BaseException, warehouse: str, role: str) -> Check:
    """The warehouse check when ``USE WAREHOUSE`` failed."""
    name = f"warehouse {warehouse}"
    if codes.is_missing(error) or codes.is_privilege(error) or codes.errno_of(error) == codes.NO_ACTIVE_WAREHOUSE:
        return Check(name, False, f"role {role} cannot use warehouse {warehouse}: {explain(error)}",
                     f"{admin_sql('grant usage on warehouse', warehouse=warehouse, role=role)}\n"
                     f"(if it does not exist, an admin creates it first: {create_warehouse_sql(warehouse)})")
    return Check(name, False, f"USE WAREHOUSE {warehouse} failed: {explain(error)}")


def check_warehouse(cur: Any, session: Session) -> Check:
    """``USE WAREHOUSE`` for the connection's warehouse, then the session must be on it."""
    warehouse = session.warehouse_wanted
    if not warehouse:
        if session.warehouse:
            return Check(f"warehouse {session.warehouse}", True,
                         f"the connection names no warehouse; the user's default warehouse {session.warehouse} is used",
                         f"name it in the connection's extra: \"warehouse\": \"{session.warehouse}\"", warning=True)
        return Check("warehouse", False, "the connection names no warehouse and the user has no default warehouse",
                     "set the connection's extra warehouse (eg: \"warehouse\": \"SNOWSEG_WH\") and "
                     + admin_sql("grant usage on warehouse", role=session.role))
    try:
        wh.run(cur, "readiness/use_warehouse.sql", warehouse=quote_ident(warehouse))
    except Exception as e:
        return warehouse_failure(e, warehouse, session.role)
    current = wh.run(cur, "readiness/select_session.sql")[0][2]
    if str(current or "").upper() != warehouse:
        return Check(f"warehouse {warehouse}", False, f"USE WAREHOUSE {warehouse} ran but the session's warehouse is "
                     f"{current or 'none'}",
                     admin_sql("grant usage on warehouse", warehouse=warehouse, role=session.role))
    return Check(f"warehouse {warehouse}", True, f"role {session.role} can use it")


def _schemas(cur: Any, database: str) -> set[str] | None:
    """The schemas of a database the role can see, or None if it cannot see the database."""
    try:
        rows = _rows(cur, "readiness/show_schemas.sql", database=database)
    except Exception as e:
        if codes.is_missing(e) or codes.is_privilege(e):
            return None
        raise
    names = {str(r.get("name", "")).upper() for r in rows}
    return names or None  # every real database has INFORMATION_SCHEMA: no schema at all means no database


def check_database(cur: Any, names: Names, role: str) -> Check:
    """The database exists and the role may use it (the DAGs never create it)."""
    name = f"database {names.database}"
    if _schemas(cur, names.database) is None:
        return Check(name, False, f"does not exist, or role {role} has no USAGE on it",
                     f"an admin runs step 3 of {ADMIN_SCRIPT} (CREATE DATABASE and GRANT USAGE to {role}), then "
                     f"{SETUP_COMMAND}")
    return Check(name, True, f"exists; role {role} may use it")


def check_setup(cur: Any, names: Names, contract: Any, role: str, *, snowpipe: bool) -> Check:
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
    if codes.is_privilege(error) or codes.is_missing(error):
        return Check(name, False, f"{step} refused for role {role}: {explain(error)} (the DAGs need {privilege})",
                     f"{SETUP_COMMAND}: its migrations create the stage and grant {privilege} to {role}")
    fix = ""
    if step in ("put", "list"):
        fix = ("PUT uploads straight to Snowflake's cloud storage: allow HTTPS from this machine to the account's "
               "stage bucket (SYSTEM$ALLOWLIST() lists the hosts), and check the proxy settings")
    return Check(name, False, f"{step} failed: {explain(error)}", fix)


def check_stage(cur: Any, stage: str, role: str, privilege: str) -> Check:
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
        except Exception as e:
            return stage_failure(e, stage, role, step, privilege)
    return Check(f"stage {stage}", True, f"role {role} can PUT, LIST and REMOVE ({privilege})")


# --- load_s3_snowpipe: landing stage, storage integration, pipe ------------------------------------------------------


def landing_failure(error: BaseException, names: Names, target: Target, role: str, step: str) -> Check:
    """The landing stage check when a step failed (show / create / list)."""
    stage = names.raw_qualified(LANDING_STAGE)
    name = f"landing stage {stage}"
    integration, url = str(target.integration), str(target.landing_url)
    msg = error_text(error)
    unreadable = codes.errno_of(error) == codes.STAGE_STORAGE_UNREADABLE
    if step == "list" or unreadable or "access denied" in msg.lower() or "assumerole" in msg.lower():
        return Check(name, False, f"Snowflake cannot read {url} through {integration}: {explain(error)}",
                     iam_fix(integration, url))
    if codes.is_missing(error) or codes.is_privilege(error):
        return Check(name, False, f"role {role} cannot use it: {explain(error)}", SETUP_COMMAND)
    return Check(name, False, f"{step} failed: {explain(error)}")


def check_landing_stage(cur: Any, names: Names, target: Target, role: str) -> Check:
    """The landing stage (made by the setup) exists on the landing URL, and LIST reaches the bucket."""
    stage = names.raw_qualified(LANDING_STAGE)
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
                             f"an admin runs DROP STAGE {stage}; DROP PIPE IF EXISTS "
                             f"{names.raw_qualified(target.pipe)}; then SNOWSEG_LANDING_URL={url} {SETUP_COMMAND}; "
                             "or set "
                             f"SNOWSEG_LANDING_URL={have}")
            step = "list"
            wh.run(cur, "readiness/list_stage.sql", stage_path=f"@{stage}/{PROBE_PATH}")
            via = found[0].get("storage_integration") or integration
            return Check(name, True, f"exists on {url} through {via}; LIST reaches the bucket")
    except Exception as e:
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


def check_integration(cur: Any, target: Target, role: str) -> Check:
    """The role can see (use) the storage integration; it is enabled and allows the landing URL."""
    integration, url = str(target.integration), str(target.landing_url)
    name = f"storage integration {integration}"
    rows = _rows(cur, "readiness/show_integrations.sql")
    found = [r for r in rows if str(r.get("name", "")).upper() == integration]
    if not found:
        return Check(name, False, f"does not exist, or role {role} has no USAGE on it (SHOW INTEGRATIONS lists only "
                     "the integrations a role may use)",
                     f"an admin (ACCOUNTADMIN) runs:\n{create_integration_sql(integration, url)}\n"
                     f"{admin_sql('grant usage on integration', integration=integration, role=role)}\n"
                     f"then puts the STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID of `DESC INTEGRATION "
                     f"{integration};` in the IAM role's trust policy (see {ADMIN_SCRIPT})")
    if str(found[0].get("enabled", "true")).lower() not in ("true", "1"):
        return Check(name, False, "exists but is disabled",
                     f"ALTER STORAGE INTEGRATION {integration} SET ENABLED = TRUE;")
    try:
        props = {str(r.get("property", "")).upper(): str(r.get("property_value") or "")
                 for r in _rows(cur, "readiness/describe_integration.sql", storage_integration=integration)}
    except Exception as e:
        if codes.is_privilege(e) or codes.is_missing(e):
            return Check(name, True, f"exists, is enabled and role {role} may use it (DESC INTEGRATION is not allowed "
                         "for the role, so its allowed locations were not checked)")
        raise
    provider = props.get("STORAGE_PROVIDER", "S3").upper()
    if not provider.startswith("S3"):
        return Check(name, False, f"is for {provider}, not S3", f"use an S3 storage integration: "
                     f"{create_integration_sql(integration, url)}")
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


def check_pipe(cur: Any, names: Names, target: Target, role: str) -> Check:
    """The pipe has a notification channel and is running; missing is a warning (load_s3_snowpipe creates it)."""
    qualified = names.raw_qualified(target.pipe)
    name = f"pipe {qualified}"
    try:
        rows = _rows(cur, "readiness/show_pipes.sql", database=names.database, schema=names.raw)
    except Exception as e:
        if codes.is_missing(e):
            schema = f"{names.database}.{names.raw}"
            return Check(name, False, f"role {role} cannot use schema {schema}: {explain(e)}",
                         f"GRANT {', '.join(grant_list('schema', 'raw'))} ON SCHEMA {schema} TO ROLE {role};")
        raise
    found = [r for r in rows if str(r.get("name", "")).upper() == target.pipe]
    if not found:
        return Check(name, False, f"does not exist, or role {role} has no MONITOR on it: the versioned setup makes "
                     f"it (AUTO_INGEST = TRUE) and grants {granted('pipe', 'pipe')}",
                     f"{SETUP_COMMAND} (with Snowpipe)")
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
    if state == pipe_states.PAUSED:
        return Check(name, False, f"is paused (executionState PAUSED, {pending} files pending): files land in S3 "
                     "but are not loaded", f"{pipe_states.resume_command(qualified)};")
    if state != pipe_states.RUNNING:
        said = f"; Snowflake says: {status['error']}" if status.get("error") else ""
        return Check(name, False, f"executionState {state} ({pending} files pending){said}",
                     pipe_states.advice(qualified, state))
    return Check(name, True, f"running, auto-ingest on {channel}, {pending} files pending")
