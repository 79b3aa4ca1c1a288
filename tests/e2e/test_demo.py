"""The `make demo` path in subprocesses: twin up, generated sample, two real `airflow dags test` runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, connection_json, free_port

pytestmark = pytest.mark.e2e


def _demo_env(tmp_path) -> dict[str, str]:
    """The demo's environment in its own twin, Airflow home and report folder under `tmp_path`, on free ports."""
    twin_port, s3_port = free_port(), free_port()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SNOWSEG"))},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("include", "devstack", "devstack/sitecustomize")),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": connection_json(twin_port, tmp_path / "twin"),
        "SNOWSEG_TWIN_HOME": str(tmp_path / "twin"),
        "SNOWSEG_TWIN_PORT": str(twin_port),
        "SNOWSEG_S3_PORT": str(s3_port),
        "SNOWSEG_REPORT_DIR": str(tmp_path / "reports"),
    }


def test_demo_twice_prints_segments_and_same_row_counts(tmp_path):
    """Exit 0, a 3-segment table, the report and plot exist, and the second run changes no row count."""
    env = _demo_env(tmp_path)

    def demo():
        return subprocess.run([sys.executable, "-m", "snowseg_twin.demo", "--rows", "1000"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    try:
        first = demo()
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "load_small_file    success" in first.stdout and "segment_customers  success" in first.stdout
        # names say what separates a segment: the generated sample's k = 3 are two low-spend segments told apart
        # by rating ("Low spend · high rating · low price", "Low spend · low rating · low price") and high spend
        for name in ("Low spend · high rating", "Low spend · low rating", "High spend"):
            assert name in first.stdout
        counts = re.search(r"^row counts: (.*)$", first.stdout, re.M).group(1)
        assert "raw rows 1000" in counts and "current assignments 1000" in counts and "model runs 1" in counts
        report = re.search(r"^report:\s+(\S+)$", first.stdout, re.M).group(1)
        plot = re.search(r"^elbow plot:\s+(\S+)$", first.stdout, re.M).group(1)
        assert os.path.exists(report) and open(plot, "rb").read(4) == b"\x89PNG"
        quality = re.search(r"^quality:\s+(\S+)$", first.stdout, re.M).group(1)
        assert "Every rule" in open(quality).read()

        second = demo()
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert re.search(r"^row counts: (.*)$", second.stdout, re.M).group(1) == counts
        # the second run says the file was skipped, and which batch holds its content
        assert "load_small_file    skipped" in second.stdout, second.stdout
        assert re.search(r"^  sample_1000_seed\d+\.csv: skipped: this content was already loaded into \S+ as batch "
                         r"small_file_[0-9a-f]+", second.stdout, re.M), second.stdout
    finally:
        subprocess.run([sys.executable, "-m", "snowseg_twin", "down"], env=env, timeout=60)


def test_demo_with_a_drafted_contract_file(tmp_path):
    """`make demo FILE=mall.csv CONTRACT=contracts/mall.yaml`: a wrong contract is refused before anything starts,
    with how to pick or draft one; the drafted contract's folder joins SNOWSEG_CONTRACTS_DIR, the DAGs run with
    {"contract": "mall"}, and the printed segments are that contract's."""
    from snowseg_twin.shapes import write_customers_csv

    from snowseg.contract_draft import main as draft_main

    env = _demo_env(tmp_path)
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
