"""The twin reaches fakesnow's internals through one module: every touchpoint resolves, and no other module has one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fakesnow.copy_into
import pytest

from snowseg_twin.extensions import _fakesnow_compat as compat

REPO = Path(__file__).resolve().parents[2]
DEVSTACK = REPO / "devstack"
COMPAT = DEVSTACK / "snowseg_twin" / "extensions" / "_fakesnow_compat.py"
# fakesnow's private members the twin uses: only the compatibility module names them
PRIVATE_MEMBERS = {"_duck_conn", "_conn", "_execute", "_transform", "_sfqid", "_schema", "_in_transaction",
                   "_from_source", "_extract_table", "_relevant_tables"}  # fmt: skip


def test_every_touchpoint_resolves_against_the_installed_fakesnow():
    assert compat.missing() == []
    assert len(compat.touchpoints()) >= 40
    compat.check()


def test_the_pinned_fakesnow_is_the_one_the_twin_was_written_for():
    pin = re.search(r"^fakesnow\[server\]==(\S+)", (REPO / "requirements-dev.in").read_text(), re.MULTILINE)
    assert pin is not None
    assert pin[1] == compat.WRITTEN_FOR == compat.installed_version()


def test_a_missing_touchpoint_fails_loudly(monkeypatch):
    monkeypatch.delattr(fakesnow.copy_into, "_from_source")
    with pytest.raises(compat.FakesnowIncompatible) as caught:
        compat.check()
    assert caught.value.touchpoint == "fakesnow.copy_into._from_source"
    assert caught.value.written_for == "0.12.1"
    assert caught.value.installed == compat.installed_version()
    assert "_fakesnow_compat.py" in str(caught.value)


def _fakesnow_uses(path: Path) -> list[str]:
    """fakesnow imports and fakesnow private-member accesses in one module, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == "fakesnow"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fakesnow":
            found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_MEMBERS:
            found.append(f"{node.lineno}: .{node.attr}")
    return found


def test_no_other_module_under_devstack_touches_fakesnow_internals():
    modules = sorted(p for p in DEVSTACK.rglob("*.py") if p != COMPAT)
    assert len(modules) > 40
    uses = {str(p.relative_to(REPO)): u for p in modules if (u := _fakesnow_uses(p))}
    assert uses == {}


def test_the_check_finds_a_private_member():
    assert _fakesnow_uses(COMPAT)  # the compatibility module itself: the one place they are
