"""``python -m snowseg.readiness`` (``make check-connection``): print the checks, one line each; exit 1 if any failed.

Examples
--------
>>> print(format_checks([Check("warehouse SNOWSEG_WH", False, "does not exist", "GRANT USAGE ON WAREHOUSE ...;")]))
FAIL warehouse SNOWSEG_WH  does not exist
       fix: GRANT USAGE ON WAREHOUSE ...;
"""

from __future__ import annotations

import argparse
import logging
import os

from snowseg import warehouse as wh
from snowseg.readiness.connection import check_connection
from snowseg.readiness.model import Check


def format_checks(checks: list[Check], width: int | None = None) -> str:
    """One line per check (``OK  `` / ``WARN`` / ``SKIP`` / ``FAIL``, name, detail), the fix indented under the others.

    Names are padded to `width` (default: the longest name), so that checks printed one at a time line up too.
    """
    width = max((len(c.name) for c in checks), default=0) if width is None else width
    lines = []
    for c in checks:
        lines.append(f"{c.status:<4} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status != "OK":
            fix_lines = c.fix.splitlines()
            lines.append(f"       fix: {fix_lines[0]}")
            lines.extend(f"            {ln}" for ln in fix_lines[1:])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the checks; exit 1 if any failed."""
    parser = argparse.ArgumentParser(
        prog="python -m snowseg.readiness",
        description="Check that a Snowflake connection (and the AWS one) is ready for the Snowseg DAGs.",
    )
    parser.add_argument("--conn", default=None, help="Airflow Snowflake connection id (default: "
                        "SNOWSEG_SNOWFLAKE_CONN_ID or snowflake_default)")
    parser.add_argument("--aws-conn", default=None, help="Airflow AWS connection id for the S3 check (default: "
                        "SNOWSEG_AWS_CONN_ID or aws_default)")
    parser.add_argument("--no-snowpipe", action="store_true",
                        help="leave out what only load_s3_snowpipe needs (landing stage, integration, pipe, S3)")
    args = parser.parse_args(argv)
    # the report is the output: Airflow's and the connector's logs (stdout, for Airflow) only for errors, unless asked
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    for noisy in ("snowflake.connector", "botocore", "airflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    conn_id = wh.conn_id_from_env(args.conn)
    checks = check_connection(conn_id, aws_conn_id=args.aws_conn, snowpipe=not args.no_snowpipe)
    print(f"Snowflake connection {conn_id!r}:")
    print(format_checks(checks))
    failed = [c for c in checks if c.status == "FAIL"]
    warned = [c for c in checks if c.status == "WARN"]
    print(f"{len(checks) - len(failed) - len(warned)} ok, {len(warned)} warnings, {len(failed)} failed")
    return 1 if failed else 0
