"""The smoke suite's order of work: set up a throwaway database, check, load, segment, drop it.

1. log in as the service connection (the DAGs' own) and as the admin connection;
2. the admin applies the versioned setup into a new ``SNOWSEG_SMOKE_<id>`` database (:mod:`snowseg.smoke.database`),
   granting the service connection's role what the DAGs need;
3. the connection checks of ``make check-connection`` (:mod:`snowseg.readiness`) on that database;
4. one statement of every form the pipeline sends (:mod:`snowseg.smoke.forms`);
5. the three load DAGs and ``segment_customers`` with ``dag.test()`` (:mod:`snowseg.smoke.dag_runs`);
6. the admin drops the database, and the suite's S3 objects and bucket notification go (unless ``keep``), also
   after a failure.

Each check is reported as soon as it is done. A check that fails does not stop the others (they report what they
find), except that nothing runs without a login or without the throwaway database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from snowseg import settings
from snowseg import warehouse as wh
from snowseg.readiness import Check, check_connection, explain
from snowseg.smoke import dag_runs, forms
from snowseg.smoke.database import (
    SmokeSetupFailed,
    Throwaway,
    clean_landing,
    drop,
    new_name,
    session_role,
    set_up,
    smoke_landing_url,
)
from snowseg.smoke.samples import write_samples
from snowseg.warehouse import Names

log = logging.getLogger(__name__)

Emit = Callable[[Check], None]


@dataclass(frozen=True)
class Options:
    """What to run against.

    ``admin_conn_id`` None means the service connection sets up the database itself (it then needs CREATE
    DATABASE); ``aws_conn_id`` None leaves out everything Snowpipe needs. ``landing_url`` is the landing prefix the
    suite's own prefix goes next to (default ``SNOWSEG_LANDING_URL``), or with ``own_landing`` the prefix itself.
    """

    conn_id: str
    admin_conn_id: str | None
    aws_conn_id: str | None
    database: str | None = None  # default: a new SNOWSEG_SMOKE_<id>
    landing_url: str | None = None
    own_landing: bool = False
    keep: bool = False
    rows: int = 1000
    poll_seconds: float = 2.0
    wait_seconds: float = 600.0


def _guarded(name: str, fn: Callable[[], str]) -> Check:
    """Run one check: OK with what it found, or FAIL with why (the traceback goes to the suite's log)."""
    try:
        return Check(name, True, fn())
    except Exception as e:
        log.exception("check %s failed", name)
        return Check(name, False, explain(e) or type(e).__name__)


def _connection_check(check: Check) -> Check:
    """A ``make check-connection`` check as a suite line: a warning is OK here, and says where its fix is."""
    name = f"connection: {check.name}"
    if check.status == "WARN":
        return Check(name, True, f"{check.detail} (warning: `make check-connection` prints the fix)")
    return Check(name, check.ok, check.detail, check.fix, skipped=check.skipped)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The pipeline's settings for the suite's DAG runs (they read them from the environment), restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(options: Options, emit: Emit, quiet: Callable[[], AbstractContextManager], workdir: Any,
        prepare_dags: Callable[[], None] = lambda: None) -> list[Check]:
    """Run the suite; every check is passed to `emit` as it is done, and returned.

    `quiet` keeps the DAG runs' logs out of the report, `workdir` takes the sample files, and `prepare_dags` readies
    Airflow for ``dag.test()`` (the command's private metadata database), just before the DAGs run.
    """
    from snowseg.config import load_contract
    from snowseg.loading.snowpipe import Landing

    checks: list[Check] = []

    def report(check: Check) -> Check:
        checks.append(check)
        emit(check)
        return check

    database = options.database or new_name()
    landing = None
    if options.aws_conn_id:
        base = Landing.from_env(options.landing_url).url
        landing = base if options.own_landing else smoke_landing_url(base, database)
    throwaway = Throwaway(Names.from_env(database), landing)
    contract = load_contract()
    try:
        conn = wh.connect(options.conn_id)
    except Exception as e:
        report(Check("login", False, f"{options.conn_id!r} could not log in: {explain(e)}",
                     f"make check-connection CONN={options.conn_id} says why, with the fix"))
        return checks
    admin_conn, admin_id = conn, options.conn_id
    try:
        if options.admin_conn_id:
            try:
                admin_conn, admin_id = wh.connect(options.admin_conn_id), options.admin_conn_id
            except Exception as e:
                report(Check("login", False, f"admin connection {options.admin_conn_id!r} could not log in: "
                             f"{explain(e)}", f"make check-connection CONN={options.admin_conn_id} says why"))
                return checks
        _set_up_and_run(options, conn, admin_conn, admin_id, throwaway, contract, report, quiet, workdir,
                        prepare_dags)
    finally:
        if admin_conn is not conn:
            admin_conn.close()
        conn.close()
    return checks


def _set_up_and_run(options: Options, conn: Any, admin_conn: Any, admin_id: str, throwaway: Throwaway,
                    contract: Any, report: Callable[[Check], Check], quiet: Callable[[], AbstractContextManager],
                    workdir: Any, prepare_dags: Callable[[], None]) -> None:
    from snowseg.loading.snowpipe import Landing

    role = session_role(conn)
    ctx = forms.Context(conn=conn, names=throwaway.names, contract=contract, samples=write_samples(
        workdir, rows=options.rows, contract=contract), aws_conn_id=options.aws_conn_id,
        landing=Landing.from_env(throwaway.landing_url) if throwaway.landing_url else None,
        poll_seconds=options.poll_seconds, wait_seconds=options.wait_seconds)
    try:
        try:
            report(set_up(admin_conn, admin_id, throwaway, contract, service_role=role))
        except SmokeSetupFailed as e:
            report(Check("setup", False, str(e), e.fix))
            return
        roots = os.pathsep.join(filter(None, [str(workdir), settings.get("SNOWSEG_INPUT_ROOTS")]))
        env = {"SNOWSEG_DATABASE": throwaway.database, "SNOWSEG_SNOWFLAKE_CONN_ID": options.conn_id,
               "SNOWSEG_INPUT_ROOTS": roots}
        if options.aws_conn_id and throwaway.landing_url:
            env.update(SNOWSEG_AWS_CONN_ID=options.aws_conn_id, SNOWSEG_LANDING_URL=throwaway.landing_url)
        with _environment(env):
            _checks(options, ctx, throwaway, report, quiet, prepare_dags)
    finally:
        _tear_down(options, ctx, admin_conn, admin_id, throwaway, report)


def _checks(options: Options, ctx: forms.Context, throwaway: Throwaway, report: Callable[[Check], Check],
            quiet: Callable[[], AbstractContextManager], prepare_dags: Callable[[], None]) -> None:
    snowpipe = bool(options.aws_conn_id)
    no_pipe = ("no AWS connection: the Snowpipe path is not checked",
               ("give one: make test-snowflake ... AWS_CONN=<Airflow AWS connection> (it needs s3:PutObject under the "
                "landing prefix)"))
    try:  # the default contract, as everywhere in the suite
        connection = check_connection(options.conn_id, aws_conn_id=options.aws_conn_id, database=throwaway.database,
                                      landing_url=throwaway.landing_url, snowpipe=snowpipe)
    except Exception as e:
        log.exception("the connection checks failed")
        connection = [Check("checks", False, f"could not run: {explain(e)}")]
    for check in connection:
        report(_connection_check(check))
    for name, fn, needs_pipe in forms.CHECKS:
        if needs_pipe and not snowpipe:
            report(Check(f"form: {name}", True, no_pipe[0], no_pipe[1], skipped=True))
        else:
            report(_guarded(f"form: {name}", partial(fn, ctx)))
    try:
        prepare_dags()
        bag = dag_runs.dagbag()  # parsed here: the DAG files read the suite's environment
    except Exception as e:
        log.exception("parsing the DAGs failed")
        report(Check("dags", False, f"Airflow could not get ready to run the project's DAGs: {explain(e)}"))
        return
    for dag_id in dag_runs.LOAD_DAGS:
        if dag_id == "load_s3_snowpipe" and not snowpipe:
            report(Check(f"dag: {dag_id}", True, no_pipe[0], no_pipe[1], skipped=True))
        else:
            report(_guarded(f"dag: {dag_id}", partial(dag_runs.load_dag, ctx, bag, dag_id, quiet)))
    report(_guarded(f"dag: {dag_runs.SEGMENT_DAG}", lambda: dag_runs.segment_dag(ctx, bag, quiet)))


def _tear_down(options: Options, ctx: forms.Context, admin_conn: Any, admin_id: str,
               throwaway: Throwaway, report: Callable[[Check], Check]) -> None:
    if options.keep:
        report(Check(f"drop {throwaway.database}", True, "kept (--keep), with its S3 prefix "
                     f"{throwaway.landing_url or '(none)'}", f"an admin drops it: DROP DATABASE {throwaway.database};",
                     skipped=True))
        return
    if options.aws_conn_id and throwaway.landing_url:
        from snowseg.loading.snowpipe import Pipe

        pipe = Pipe(throwaway.database, throwaway.names.raw, ctx.objects.pipe, None)  # whose notification the DAG set
        report(clean_landing(options.aws_conn_id, throwaway.landing_url, pipe))
    report(drop(admin_conn, admin_id, throwaway.database))
