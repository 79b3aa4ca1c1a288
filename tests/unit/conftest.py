"""Fixtures the alert tests share: every alert goes to a file of the test's own, and no other channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture()
def alerts_file(tmp_path, monkeypatch) -> Path:
    """SNOWSEG_ALERTS_FILE in `tmp_path`; e-mail and notifier channels, the repeat window, the connection id unset."""
    path = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", str(path))
    for var in ("SNOWSEG_ALERT_SMTP_TO", "SNOWSEG_ALERT_NOTIFIER", "SNOWSEG_ALERT_REPEAT_HOURS",
                "SNOWSEG_SNOWFLAKE_CONN_ID"):
        monkeypatch.delenv(var, raising=False)
    return path


def alert_lines(path: Path) -> list[dict]:
    """The alerts written to `path`, oldest first."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
