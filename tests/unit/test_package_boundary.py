"""The package that ships to Airflow (include/snowseg) does not import the dev stack (devstack/: the twin, the sample
generator); only the smoke suite, which runs from a checkout (``make test-snowflake``), takes its sample files from
the generator, inside the function that writes them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "snowseg"
DEV_ONLY = ("snowseg_twin", "snowseg_samples")
# (module, the dev-only package it may import inside a function)
ALLOWED = {("smoke/samples.py", "snowseg_samples")}


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(imported module, whether at module level) of every import in a module."""
    top = {id(node) for node in tree.body} if isinstance(tree, ast.Module) else set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in top))
    return found


def test_the_shipped_package_does_not_import_the_dev_stack() -> None:
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for module, at_top in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            root = module.split(".")[0]
            if root in DEV_ONLY and (at_top or (rel, root) not in ALLOWED):
                offending.append(f"{rel}: {module}")
    assert offending == []
