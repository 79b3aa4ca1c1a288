"""Run every check for a connection, in order, each one whatever the others found (:func:`check_connection`).

The order: login, warehouse, database, the versioned setup, the stages the DAGs use, then for load_s3_snowpipe the
landing stage, storage integration, pipe and S3. Without a login only the S3 check can run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from snowseg import settings
from snowseg import warehouse as wh
from snowseg.config import contract_path, load_contract
from snowseg.objects import BULK_STAGE, LANDING_STAGE, WRITEBACK_STAGE, dataset_objects
from snowseg.readiness.checks import (
    check_database,
    check_integration,
    check_landing_stage,
    check_pipe,
    check_setup,
    check_stage,
    check_warehouse,
)
from snowseg.readiness.errors import explain
from snowseg.readiness.fixes import granted
from snowseg.readiness.login import login
from snowseg.readiness.model import Check, Target
from snowseg.readiness.s3 import check_s3
from snowseg.warehouse import Names

log = logging.getLogger(__name__)


def resolve_target(database: str | None, landing_url: str | None, storage_integration: str | None,
                   contract: str | None, aws_conn_id: str | None) -> Target:
    """What the DAGs will use, as they resolve it: argument, then environment, then the defaults."""
    from snowseg.loading.snowpipe import Landing

    names = Names.from_env(database)
    try:
        landing = Landing.from_env(landing_url, storage_integration)
        url, integration, error = landing.url, landing.storage_integration, None
    except ValueError as e:
        url, integration, error = None, None, str(e)
    aws = aws_conn_id or settings.value("SNOWSEG_AWS_CONN_ID")
    chosen = load_contract(contract_path(contract) if contract else None)
    return Target(names, url, integration, error, dataset_objects(chosen).pipe, aws, chosen)


def _guarded(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; an error it did not expect is its own failure, never the end of the run."""
    try:
        return fn()
    except Exception as e:
        log.debug("check %s", name, exc_info=True)
        return Check(name, False, f"could not check: {explain(e)}")


@contextmanager
def _closing(conn: Any) -> Iterator[Any]:
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
    target = resolve_target(database, landing_url, storage_integration, contract, aws_conn_id)
    names = target.names
    conn, signed_in, session, _ = login(conn_id)
    checks = [signed_in]

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
        for stage, privilege in ((names.raw_qualified(f"%{objects.intake}"),
                                  f"{granted('table', 'intake_table')} of the intake table"),
                                 (names.raw_qualified(BULK_STAGE), granted("stage", BULK_STAGE)),
                                 (names.analytics_qualified(WRITEBACK_STAGE), granted("stage", WRITEBACK_STAGE))):
            checks.append(_guarded(f"stage {stage}", partial(check_stage, cur, stage, role, privilege)))
        if snowpipe:
            if target.landing_error:
                checks.append(Check("landing URL", False, target.landing_error,
                                    "set SNOWSEG_LANDING_URL to s3://<bucket>/<prefix>/"))
            else:
                stage = f"landing stage {names.raw_qualified(LANDING_STAGE)}"
                checks.append(_guarded(stage, lambda: check_landing_stage(cur, names, target, role)))
                checks.append(_guarded(f"storage integration {target.integration}",
                                       lambda: check_integration(cur, target, role)))
            checks.append(_guarded(f"pipe {names.raw_qualified(target.pipe)}",
                                   lambda: check_pipe(cur, names, target, role)))
    return checks + s3()
