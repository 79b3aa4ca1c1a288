"""`make demo FILE=... CONTRACT=...` in subprocesses: a wrong contract refused, a drafted one run end to end.

Its own file so that pytest-xdist (--dist loadfile) runs it beside the other demo test, not after it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.e2e.demo_env import demo_env

pytestmark = pytest.mark.e2e


def test_demo_with_a_drafted_contract_file(tmp_path):
    """`make demo FILE=mall.csv CONTRACT=contracts/mall.yaml`: a wrong contract is refused before anything starts,
    with how to pick or draft one; the drafted contract's folder joins SNOWSEG_CONTRACTS_DIR, the DAGs run with
    {"contract": "mall"}, and the printed segments are that contract's."""
    from snowseg_twin.shapes import write_customers_csv

    from snowseg.contract_draft import main as draft_main

    env = demo_env(tmp_path)
    path, _ = write_customers_csv(tmp_path / "data" / "mall.csv")

    def demo(*args):
        return subprocess.run([sys.executable, "-m", "snowseg_twin.demo", "--file", str(path), *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)

    wrong = demo()  # the supermarket contract
    assert wrong.returncode == 2 and "the header does not match contract 'supermarket'" in wrong.stderr
    assert "CONTRACT=<name or path.yaml>" in wrong.stderr and f"make contract FILE={path}" in wrong.stderr
    assert not (tmp_path / "twin").exists()  # refused before the twin started

    assert draft_main([str(path), "--out", str(tmp_path / "contracts")]) == 0
    try:
        run = demo("--contract", str(tmp_path / "contracts" / "mall.yaml"))
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert f"SNOWSEG_CONTRACTS_DIR={tmp_path / 'contracts'}" in run.stdout
        assert "load_small_file    success" in run.stdout and "segment_customers  success" in run.stdout
        counts = re.search(r"^row counts: (.*)$", run.stdout, re.M).group(1)
        assert "raw rows 150" in counts and "current assignments 150" in counts, counts
    finally:
        subprocess.run([sys.executable, "-m", "snowseg_twin", "down"], env=env, timeout=60)
