"""Environment settings that Snowseg reads, each with its default, in one table.

Every ``SNOWSEG_*`` variable the package, the DAGs and the plugin read is declared here once
(:data:`SETTINGS`), and read through :func:`get`. The table is the documentation:
``docs/configuration.md`` holds :func:`markdown_table` (``python -m snowseg.settings --markdown``
prints it), and a unit test keeps the two equal and checks that the code reads no other
``SNOWSEG_*`` variable. The twin's, the tests' and the benchmarks' own variables are dev-only and are
listed in ``devstack/snowseg_twin/settings.py``.

Examples
--------
>>> SETTINGS["SNOWSEG_INPUT_ROOTS"].default
'<project>/data'
>>> get("SNOWSEG_NO_SUCH_SETTING")
Traceback (most recent call last):
...
KeyError: 'SNOWSEG_NO_SUCH_SETTING is not a Snowseg setting'
>>> import os; os.environ.pop("SNOWSEG_WATCH_SCHEDULE", None) and None
>>> value("SNOWSEG_WATCH_SCHEDULE")
'*/10 * * * *'
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: The project folder: ``include/snowseg/settings.py`` -> the folder that holds ``include/``.
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (as documented) and what it does.

    ``computed`` says the default is worked out by the code that reads the variable (a path, a
    fallback chain), so ``default`` describes it rather than being the literal value.
    ``topic`` groups the rows in the documentation.
    """

    name: str
    default: str
    doc: str
    topic: str = ""
    computed: bool = False


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    # --- connections ---------------------------------------------------------------------------------------
    Setting("SNOWSEG_SNOWFLAKE_CONN_ID", "snowflake_default",
            "The Airflow connection the DAGs, the sensors and the loads monitor reach Snowflake through (the "
            "service user and role). Twin and real Snowflake differ only in this connection's extras.",
            "connections"),
    Setting("SNOWSEG_ADMIN_CONN_ID", "snowflake_admin",
            "Airflow connection of an admin role (e.g. SYSADMIN) that `make setup-warehouse` and the "
            "`setup_warehouse` DAG apply the versioned setup with; `make test-snowflake` creates its throwaway "
            "database with it.", "connections"),
    Setting("SNOWSEG_AWS_CONN_ID", "aws_default",
            "The Airflow AWS connection `load_s3_snowpipe` uploads with, `watch_loads` lists the landing area "
            "with, and `make check-connection` checks S3 with. Its credentials are redacted from every alert.",
            "connections"),
    Setting("SNOWSEG_SERVICE_ROLE", "SNOWSEG_ROLE",
            "The role the DAGs run as (the Snowflake connection's `role`); the versioned setup grants it what the "
            "DAGs need and nothing more.", "connections"),
    # --- where the objects are -----------------------------------------------------------------------------
    Setting("SNOWSEG_DATABASE", "SNOWSEG",
            "The Snowflake database every Snowseg object lives in (a DAG's or a tool's own argument wins). "
            "`make test-snowflake` points it at its throwaway database for its DAG runs.", "names"),
    Setting("SNOWSEG_RAW_SCHEMA", "RAW",
            "Schema of the raw, rejected, quarantine and published tables, the file formats, the intake, bulk and "
            "landing stages and the pipes.", "names"),
    Setting("SNOWSEG_AUDIT_SCHEMA", "AUDIT",
            "Schema of `LOAD_AUDIT`, `LANDING_INTAKE`, `DQ_RESULTS`, `BATCH_GATE` and `SCHEMA_VERSION`.", "names"),
    Setting("SNOWSEG_ANALYTICS_SCHEMA", "ANALYTICS",
            "Schema of `FEATURES`, `SEGMENT_ASSIGNMENTS`, `CURRENT_SEGMENTS`, `SEGMENT_PROFILES`, `MODEL_RUNS` "
            "and the writeback stage.", "names"),
    # --- inputs and loading --------------------------------------------------------------------------------
    Setting("SNOWSEG_INPUT_ROOTS", "<project>/data",
            "Where the load DAGs may read input files from, separated by the OS path separator (`:`): folders, "
            "and object-storage prefixes `s3://bucket/prefix/` (read through `SNOWSEG_AWS_CONN_ID`). A "
            "`file_path`/`path` param must resolve (symlinks followed) inside a folder, or be an `s3://` object, "
            "prefix or glob below a prefix; dot-files, `..`, credentials in a URL and `/proc`, `/sys`, `/dev` are "
            "always refused. Default `<project>/data` only when the variable names no root at all.", "loading",
            computed=True),
    Setting("SNOWSEG_CONTRACTS_DIR", "",
            "Extra folders of dataset contracts (`<name>.yaml`), searched before `include/datasets/`. A DAG's "
            "`contract` param is a name in one of these folders, never a path.", "loading"),
    Setting("SNOWSEG_DEFAULT_FILE", "",
            "The file (or folder, or glob) the load DAGs' trigger forms offer by default (`file_path` of "
            "`load_small_file`, `path` of `load_bulk_stage` and `load_s3_snowpipe`); read when the DAG files are "
            "parsed. `make airflow` sets it to the generated sample.", "loading"),
    Setting("SNOWSEG_LANDING_URL", "s3://snowseg-landing/sales/",
            "The S3 landing prefix of `load_s3_snowpipe`: the landing stage's URL, where files are uploaded, what "
            "`watch_loads` lists, and what the versioned setup (`snowpipe` migrations) and `make check-connection` "
            "use. A DAG's `landing_url` param wins.", "loading"),
    Setting("SNOWSEG_STORAGE_INTEGRATION", "SNOWSEG_S3_INT",
            "The storage integration the landing stage reaches S3 through (an admin creates it once, "
            "`include/sql/admin/admin_setup.sql`). A DAG's `storage_integration` param wins.", "loading"),
    # --- scheduled intake (load_bulk_stage) ----------------------------------------------------------------
    Setting("SNOWSEG_BULK_SCHEDULE", "@daily",
            "When `load_bulk_stage` takes the new files of its landing (`SNOWSEG_BULK_LANDING`): a cron expression "
            "or preset (default `@daily`, midnight UTC), or `off` for manual runs only; read when the DAG file is "
            "parsed. A manual run with a `path` loads that path instead.", "loading"),
    Setting("SNOWSEG_BULK_LANDING", "<first input root>/landing",
            "The landing that scheduled `load_bulk_stage` runs take new files from, recursively: a folder or an "
            "`s3://` prefix under `SNOWSEG_INPUT_ROOTS` (S3 listed with `SNOWSEG_AWS_CONN_ID`). Each file is taken "
            "once (`AUDIT.LANDING_INTAKE` records its URL, size and last-modified time); a file rewritten in place "
            "is new again. Dot-files, `_` names, `*.tmp`/`*.part`/`_COPYING_` files and non-CSV files are ignored.",
            "loading", computed=True),
    Setting("SNOWSEG_BULK_SETTLE_SECONDS", "60",
            "A landing file last modified less than this many seconds ago is left for the next scheduled "
            "`load_bulk_stage` run (its writer may still be appending).", "loading"),
    # --- browser uploads (the loads monitor's upload form) -------------------------------------------------
    Setting("SNOWSEG_UPLOAD_DIR", "<first input root>/uploads",
            "Where the loads monitor's upload form stores files before it triggers `load_small_file` with them: a "
            "folder under `SNOWSEG_INPUT_ROOTS` (each file in `<day>/<time>-<id>-<safe name>`, the partial upload "
            "in its `.incoming/` folder, which no load reads), or an `s3://` prefix under an object root (never "
            "the Snowpipe landing `SNOWSEG_LANDING_URL`: its pipe would load the file a second time). The size "
            "limit is the dataset contract's small-file limit (`csv.max_file_mb`, 50 MB).", "loading",
            computed=True),
    # --- segmentation and reports --------------------------------------------------------------------------
    Setting("SNOWSEG_SEGMENT_SCHEDULE", "0 6 * * 1",
            "When `segment_customers` runs even without new data (recency ages every day): a cron expression "
            "(default Mondays 06:00 UTC), or `off` for new data only. It always runs when a load publishes rows.",
            "segmentation"),
    Setting("SNOWSEG_REPORT_DIR", "$AIRFLOW_HOME/snowseg_reports, else ./reports",
            "Where the segmentation run reports (`<model run id>/index.html`) and the quality reports "
            "(`quality/<run id>/index.html`) are written, and what the loads monitor serves read-only under "
            "`/snowseg/reports/`: a folder (or `file:///folder`) every Airflow service sees (docker-compose: the "
            "`snowseg-reports` volume), or `s3://bucket/prefix/` for workers on several machines (written through "
            "Airflow's ObjectStoragePath and `SNOWSEG_AWS_CONN_ID`; each report is drafted in the default local "
            "folder, then copied there).", "segmentation", computed=True),
    Setting("SNOWSEG_WORK_DIR", "<report dir>/../snowseg_work",
            "Working folders of segmentation runs: each stage of `segment_customers` writes its output (feature "
            "matrix, k scores, ensemble arrays, profiles) there for the next; a run's folder is removed once it "
            "published, folders older than 7 days at the next run. Holds customer-level data: keep it private.",
            "segmentation", computed=True),
    # --- alerts --------------------------------------------------------------------------------------------
    Setting("SNOWSEG_ALERTS_FILE", "$AIRFLOW_HOME/snowseg_alerts.jsonl",
            "Where every alert is kept, whatever other channel is on: a JSON-lines file each alert is appended to "
            "(or `file:///path`; `AIRFLOW_HOME` defaults to `~/airflow`; `.airflow/snowseg_alerts.jsonl` under "
            "`make`), or an `s3://bucket/prefix/`: S3 objects cannot be appended to, so each alert is one object "
            "`<prefix><UTC time>-<id>.json`, and key order is time order.", "alerts", computed=True),
    Setting("SNOWSEG_ALERT_SMTP_TO", "",
            "Comma-separated e-mail addresses: when set, every alert is also sent by e-mail through the SMTP "
            "provider's `SmtpNotifier`, subject `[snowseg] <summary>`.", "alerts"),
    Setting("SNOWSEG_ALERT_SMTP_FROM", "",
            "The sender of alert e-mails; unset, the SMTP connection's or Airflow's `[email] from_email`.",
            "alerts"),
    Setting("SNOWSEG_ALERT_SMTP_CONN_ID", "smtp_default",
            "The Airflow SMTP connection alert e-mails go through; unset, `SmtpNotifier`'s own default "
            "(`[email] email_conn_id`, else `smtp_default`). Its password is redacted from every alert.", "alerts",
            computed=True),
    Setting("SNOWSEG_ALERT_NOTIFIER", "",
            'Any installed Airflow notifier as a JSON object: `{"class": "<dotted path>", "kwargs": {...}, '
            '"message_field": "<kwarg that takes the text>"}` (e.g. Slack or Apprise); every alert is also sent '
            "through it.", "alerts"),
    Setting("SNOWSEG_ALERT_REPEAT_HOURS", "24",
            "How long `watch_loads` remembers a finding it alerted on (Airflow Variable `snowseg_alerted_keys`) "
            "before alerting on it again as a reminder.", "alerts"),
    Setting("SNOWSEG_WATCH_SCHEDULE", "*/10 * * * *",
            "The cron schedule of the `watch_loads` DAG (files and pipes past their deadline); read when the DAG "
            "file is parsed.", "alerts"),
    Setting("SNOWSEG_RECONCILE_MINUTES", "15",
            "`watch_loads` reconciliation: a landing file this many minutes old with no `LOAD_AUDIT` row and no load "
            "in the pipe's history is queued again with `ALTER PIPE ... REFRESH PREFIX = '<its path>'` (its S3 event "
            "was lost); its outcome goes to `LOAD_AUDIT`. The DAG's `reconcile_minutes` param overrides it.",
            "reconciliation"),
    Setting("SNOWSEG_RECONCILE_WAIT_SECONDS", "120",
            "How long `watch_loads` waits for the pipe to load the files it refreshed before it records them; one "
            "still loading is recorded by a later run. The DAG's `reconcile_wait_seconds` param overrides it.",
            "reconciliation"),
)}


def get(name: str) -> str | None:
    """The variable's value from the environment, or None when unset or empty."""
    if name not in SETTINGS:
        raise KeyError(f"{name} is not a Snowseg setting")
    return os.environ.get(name) or None


def value(name: str) -> str:
    """The variable's value from the environment, else its default (only for a literal default).

    Raises
    ------
    KeyError
        `name` is not in :data:`SETTINGS`.
    ValueError
        The default is computed by the code that reads it (``Setting.computed``): call :func:`get`
        and compute it there.
    """
    setting = SETTINGS.get(name)
    if setting is None:
        raise KeyError(f"{name} is not a Snowseg setting")
    if setting.computed:
        raise ValueError(f"{name}'s default ({setting.default}) is computed where it is read: use get({name!r})")
    return get(name) or setting.default


def path_list(name: str) -> list[Path]:
    """A path-list setting (``os.pathsep``-separated), empty entries dropped."""
    return [Path(p) for p in (get(name) or "").split(os.pathsep) if p.strip()]


def markdown_table(settings: Iterable[Setting] | None = None) -> str:
    """The settings as a Markdown table (variable, default, what it does), as ``docs/configuration.md`` has it.

    Examples
    --------
    >>> print(markdown_table([Setting("SNOWSEG_X", "", "Does x | y.", "t")]))
    | variable | topic | default | what it does |
    |---|---|---|---|
    | `SNOWSEG_X` | t | (unset) | Does x \\| y. |
    """
    rows = ["| variable | topic | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS.values() if settings is None else settings:
        default = f"`{s.default}`" if s.default and not s.computed else (s.default or "(unset)")
        doc = s.doc.replace("|", "\\|")
        rows.append(f"| `{s.name}` | {s.topic} | {default} | {doc} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m snowseg.settings --markdown``: print the settings table."""
    parser = argparse.ArgumentParser(prog="python -m snowseg.settings", description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/configuration.md)")
    parser.parse_args(argv)
    sys.stdout.write(markdown_table() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
