"""The local twin: a fakesnow server (Snowflake emulator on DuckDB) and a moto S3 server.

Dev-only. Pipeline code (dags/, include/snowseg/) never imports this package; it reaches the twin
through an Airflow connection, exactly as it reaches real Snowflake.
"""

import os
import signal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def twin_home() -> Path:
    """Folder holding the twin's persistent state (databases, stages, pid files, logs)."""
    return Path(os.environ.get("SNOWSEG_TWIN_HOME", REPO_ROOT / ".twin")).resolve()


def snowflake_port() -> int:
    """Port of the fakesnow server (SNOWSEG_TWIN_PORT, default 8765)."""
    return int(os.environ.get("SNOWSEG_TWIN_PORT", "8765"))


def s3_port() -> int:
    """Port of the moto S3 server (SNOWSEG_S3_PORT, default 8766)."""
    return int(os.environ.get("SNOWSEG_S3_PORT", "8766"))


def memory_limit() -> str:
    """DuckDB's memory limit in the twin server (SNOWSEG_TWIN_MEMORY_LIMIT, default 3GB); beyond it DuckDB spills to
    <twin home>/tmp."""
    return os.environ.get("SNOWSEG_TWIN_MEMORY_LIMIT", "3GB")


def copy_batch_bytes() -> int:
    """Decompressed bytes the twin's COPY reads, converts and inserts at a time (SNOWSEG_TWIN_COPY_BATCH_BYTES,
    default 16 MiB): the bound on a COPY's memory, whatever the size of its files."""
    return int(os.environ.get("SNOWSEG_TWIN_COPY_BATCH_BYTES", str(16 << 20)))


def default_sigint() -> None:
    """In a child before exec: SIGINT back to its default (a shell's background job ignores it), so that
    a graceful stop by SIGINT works however the parent was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
