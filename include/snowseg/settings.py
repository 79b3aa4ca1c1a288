"""Environment settings that Snowseg reads, each with its default, in one table.

Every ``SNOWSEG_*`` variable the package reads is declared here once (:data:`SETTINGS`), and read
through :func:`get`. The table is the documentation: ``docs/configuration.md`` lists the same rows.

Examples
--------
>>> SETTINGS["SNOWSEG_INPUT_ROOTS"].default
'<project>/data'
>>> get("SNOWSEG_NO_SUCH_SETTING")
Traceback (most recent call last):
...
KeyError: 'SNOWSEG_NO_SUCH_SETTING is not a Snowseg setting'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The project folder: ``include/snowseg/settings.py`` -> the folder that holds ``include/``.
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (as documented) and what it does."""

    name: str
    default: str
    doc: str


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("SNOWSEG_INPUT_ROOTS", "<project>/data",
            "Folders the load DAGs may read input files from, separated by the OS path separator (`:`). A "
            "`file_path`/`path` param must resolve (symlinks followed) inside one of them; dot-files and "
            "`/proc`, `/sys`, `/dev` are always refused."),
    Setting("SNOWSEG_CONTRACTS_DIR", "",
            "Extra folders of dataset contracts (`<name>.yaml`), searched before `include/datasets/`. A DAG's "
            "`contract` param is a name in one of these folders, never a path."),
    Setting("SNOWSEG_SERVICE_ROLE", "SNOWSEG_ROLE",
            "The role the DAGs run as (the Snowflake connection's `role`); the versioned setup grants it what the "
            "DAGs need and nothing more."),
    Setting("SNOWSEG_WORK_DIR", "<report dir>/../snowseg_work",
            "Working folders of segmentation runs: each stage of `segment_customers` writes its output (feature "
            "matrix, k scores, ensemble arrays, profiles) there for the next; a run's folder is removed once it "
            "published, folders older than 7 days at the next run. Holds customer-level data: keep it private."),
    Setting("SNOWSEG_SEGMENT_SCHEDULE", "0 6 * * 1",
            "When `segment_customers` runs even without new data (recency ages every day): a cron expression "
            "(default Mondays 06:00 UTC), or `off` for new data only. It always runs when a load publishes rows."),
    Setting("SNOWSEG_ADMIN_CONN_ID", "snowflake_admin",
            "Airflow connection of an admin role (e.g. SYSADMIN) that `make setup-warehouse` and the "
            "`setup_warehouse` DAG apply the versioned setup with."),
)}


def get(name: str) -> str | None:
    """The variable's value from the environment, or None when unset or empty."""
    if name not in SETTINGS:
        raise KeyError(f"{name} is not a Snowseg setting")
    return os.environ.get(name) or None


def path_list(name: str) -> list[Path]:
    """A path-list setting (``os.pathsep``-separated), empty entries dropped."""
    return [Path(p) for p in (get(name) or "").split(os.pathsep) if p.strip()]
