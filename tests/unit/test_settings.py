"""Every SNOWSEG_* variable is read through snowseg.settings, which owns its default (one row of SETTINGS)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from snowseg import settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [p for folder in ("include/snowseg", "dags", "plugins") for p in sorted((REPO / folder).rglob("*.py"))]


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every os.environ.get / os.environ[...] / os.getenv of a SNOWSEG_* literal."""
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            if isinstance(f, ast.Attribute) and (
                    (f.attr == "get" and ast.unparse(f.value) == "os.environ") or ast.unparse(f) == "os.getenv"):
                key = node.args[0].value
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                key = node.slice.value
        if isinstance(key, str) and key.startswith("SNOWSEG_"):
            found.append((node.lineno, key))
    return found


def test_no_shipped_module_reads_a_snowseg_variable_around_settings():
    offenders = [f"{p.relative_to(REPO)}:{line} {name}" for p in SHIPPED if p.name != "settings.py"
                 for line, name in _environment_reads(ast.parse(p.read_text(encoding="utf-8")))]
    assert offenders == [], "read these through snowseg.settings.get/value: " + ", ".join(offenders)


def test_the_scan_finds_a_direct_read():
    tree = ast.parse('import os\nx = os.environ.get("SNOWSEG_DATABASE", "D")\ny = os.environ["SNOWSEG_RAW_SCHEMA"]\n'
                     'z = os.getenv("SNOWSEG_DEFAULT_FILE")\nw = os.environ.get("HOME")\n')
    assert _environment_reads(tree) == [(2, "SNOWSEG_DATABASE"), (3, "SNOWSEG_RAW_SCHEMA"), (4, "SNOWSEG_DEFAULT_FILE")]


def test_value_falls_back_to_the_tables_default_and_get_to_none(monkeypatch):
    monkeypatch.delenv("SNOWSEG_DATABASE", raising=False)
    assert settings.value("SNOWSEG_DATABASE") == settings.SETTINGS["SNOWSEG_DATABASE"].default == "SNOWSEG"
    assert settings.get("SNOWSEG_DATABASE") is None
    monkeypatch.setenv("SNOWSEG_DATABASE", "")
    assert settings.value("SNOWSEG_DATABASE") == "SNOWSEG"  # empty counts as unset
    monkeypatch.setenv("SNOWSEG_DATABASE", "OTHER")
    assert settings.value("SNOWSEG_DATABASE") == "OTHER"


def test_a_computed_default_is_not_handed_out_as_a_literal():
    with pytest.raises(ValueError, match="computed where it is read"):
        settings.value("SNOWSEG_REPORT_DIR")
    with pytest.raises(KeyError):
        settings.value("SNOWSEG_" + "NO_SUCH_SETTING")
