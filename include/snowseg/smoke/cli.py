"""``python -m snowseg.smoke --conn CONN [--admin-conn ADMIN] [--aws-conn AWS] [--keep]``: what ``make test-snowflake``
runs.

Without ``--conn``, or when no Airflow connection of that id is defined, it prints one line saying it was skipped and
why, and exits 0. Otherwise it runs :mod:`snowseg.smoke.suite` and prints one line per check (``OK``, ``FAIL`` or
``SKIP``, the check's name, what it found; a failure's fix under it), then a summary; the exit code is 1 if any
check failed.

The DAG runs (``dag.test()``) use a private Airflow metadata database (SQLite in the suite's temporary folder), so
nothing of the suite reaches the metadata database of an Airflow that runs the DAGs for real (no DAG runs, no Asset
events that would trigger ``segment_customers`` there). Connections therefore come from the environment
(``AIRFLOW_CONN_<ID>``) or the configured secrets backend, not from an Airflow metadata database. The DAGs' own logs go
to the suite's log file, which is kept (and named) when a check failed. Every line is redacted
(:mod:`snowseg.redaction`): no password, passphrase, key or token is printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

NAME_WIDTH = 40
BUNDLES = '[{"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}}]'
DOCS = "docs/real-snowflake.md"


def skip_line(reason: str) -> str:
    """The one line printed when the suite does not run.

    Examples
    --------
    >>> skip_line("no connection given")
    'SKIP test-snowflake  no connection given'
    """
    return f"SKIP test-snowflake  {reason}"


def _private_airflow(workdir: Path) -> None:
    """Point Airflow at a private metadata database and at the project's DAGs, before Airflow is imported."""
    from snowseg.settings import PROJECT_DIR

    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{workdir / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_DIR / "dags")
    os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = BUNDLES
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # the report is the output: Airflow's and the connector's logs only for errors (and then in the log file)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")


def defined(conn_id: str) -> tuple[bool, str]:
    """Whether Airflow knows a connection id here (environment or secrets backend), and if not, why."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except Exception as e:
        if isinstance(e, AirflowNotFoundException) or "no such table" in str(e):  # (the private DB has no table yet)
            return False, (f"no Airflow connection {conn_id!r} is defined (AIRFLOW_CONN_{conn_id.upper()} or a "
                           "secrets backend)")
        return False, f"Airflow connection {conn_id!r} could not be read ({type(e).__name__})"
    return True, ""


@contextmanager
def _quiet(log_file: Path) -> Iterator[None]:
    """Everything written to stdout and stderr (the DAG runs' task logs) goes to the log file meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("a", encoding="utf-8") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class _Redacting(logging.Formatter):
    """A formatter that redacts what it formats."""

    def __init__(self, secrets: list[str]):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        from snowseg.redaction import redact

        return str(redact(super().format(record), self.secrets))


def _log_to(log_file: Path, secrets: list[str]) -> None:
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(_Redacting(secrets))
    logger = logging.getLogger("snowseg.smoke")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m snowseg.smoke",
        description="Prove that a Snowflake account (and S3) runs Snowseg: every statement form the pipeline sends, "
                    "then the load DAGs and segment_customers on a 1,000-row sample, in a throwaway database.",
    )
    parser.add_argument("--conn", help="Airflow connection id of the Snowflake account, as the DAGs use it (the "
                        "service role); without it the suite is skipped")
    parser.add_argument("--admin-conn", help="Airflow connection id of a role that may CREATE DATABASE (default: "
                        "SNOWSEG_ADMIN_CONN_ID or snowflake_admin, if defined, else --conn itself)")
    parser.add_argument("--aws-conn", help="Airflow AWS connection id for the Snowpipe path (default: "
                        "SNOWSEG_AWS_CONN_ID or aws_default, if defined, else the Snowpipe checks are skipped)")
    parser.add_argument("--no-snowpipe", action="store_true", help="leave out the Snowpipe path")
    parser.add_argument("--landing-url", help="the S3 prefix the suite lands files under (default: a prefix of its "
                        "own next to SNOWSEG_LANDING_URL, never under it); no production pipe may read it")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database (and its S3 files)")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the sample the load DAGs load (default 1000)")
    parser.add_argument("--wait-minutes", type=float, default=10.0,
                        help="how long to wait for Snowpipe to load a file (default 10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the suite (or say why not); 1 if any check failed."""
    args = parse_args(argv)
    out = out or sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    if not args.conn:
        say(skip_line("no connection given: run make test-snowflake CONN=<Airflow connection id of the Snowflake "
                      f"account> (see {DOCS}); nothing was run"))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="snowseg-smoke-"))
    failed = True
    try:
        _private_airflow(workdir)
        ok, why = defined(args.conn)
        if not ok:
            say(skip_line(f"{why}; nothing was run"))
            failed = False
            return 0
        code = _run(args, workdir, say)
        failed = code != 0
        return code
    finally:
        if not (failed and (workdir / "smoke.log").exists()):  # a failure's log stays, for the details
            shutil.rmtree(workdir, ignore_errors=True)


def _optional_conn(given: str | None, default: str | None, what: str, say: Any) -> tuple[str | None, bool]:
    """(connection id or None, ok): a connection asked for must be defined; a default one is used if it is."""
    if given:
        ok, why = defined(given)
        if not ok:
            say(f"FAIL {what:<{NAME_WIDTH}}  {why}")
        return (given if ok else None), ok
    if default and defined(default)[0]:
        return default, True
    return None, True


def _run(args: argparse.Namespace, workdir: Path, say: Any) -> int:
    from snowseg import settings
    from snowseg.readiness import format_checks
    from snowseg.redaction import redact
    from snowseg.smoke import suite
    from snowseg.smoke.database import new_name

    admin, ok_admin = _optional_conn(args.admin_conn, settings.get("SNOWSEG_ADMIN_CONN_ID") or "snowflake_admin",
                                     "admin connection", say)
    aws, ok_aws = (None, True) if args.no_snowpipe else _optional_conn(
        args.aws_conn, settings.value("SNOWSEG_AWS_CONN_ID"), "AWS connection", say)
    if not (ok_admin and ok_aws):
        return 1
    from airflow.utils import db

    from snowseg.redaction import known_secrets

    secrets = known_secrets([c for c in (args.conn, admin, aws) if c])
    log_file = workdir / "smoke.log"
    _log_to(log_file, secrets)

    def airflow_db() -> None:
        with _quiet(log_file):
            db.initdb()  # the private metadata database of the DAG runs
    database = new_name()
    aws_text = repr(aws) if aws else "none (the Snowpipe path is skipped)"
    say(redact(f"make test-snowflake: Snowflake connection {args.conn!r}, admin {admin or args.conn!r}, AWS "
               f"{aws_text}; throwaway database {database}", secrets))
    options = suite.Options(conn_id=args.conn, admin_conn_id=admin, aws_conn_id=aws, database=database,
                            landing_url=args.landing_url, own_landing=bool(args.landing_url), keep=args.keep,
                            rows=args.rows, wait_seconds=args.wait_minutes * 60)
    checks = suite.run(options, lambda c: say(redact(format_checks([c], NAME_WIDTH), secrets)),
                       lambda: _quiet(log_file), workdir, airflow_db)
    failed = [c for c in checks if c.status == "FAIL"]
    skipped = [c for c in checks if c.status == "SKIP"]
    summary = f"{len(checks) - len(failed) - len(skipped)} ok, {len(skipped)} skipped, {len(failed)} failed"
    if failed:
        summary += f"; the DAGs' and the suite's log: {log_file}"
    say(summary)
    return 1 if failed else 0
