"""The Airflow UI in a real browser: headless Debian Chromium driven by Playwright against `make airflow`.

Log in, open load_small_file, trigger it from the trigger form with a generated file, wait for the
run to succeed, see segment_customers start from the raw_sales Asset event (no manual trigger) and
succeed, and open the loads monitor (the file, its counts, the segments). Then upload files from the
monitor's form: a good one is LOADED with its row count, a bad one REFUSED with the load's reason, and a
spreadsheet refused by the form itself. A screenshot of each step goes to
``test-artifacts/browser/`` (``SNOWSEG_TEST_ARTIFACTS`` overrides it). Skipped when
``/usr/bin/chromium`` or Playwright is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
# as this machine's probe found: without the background-networking flags Chromium keeps dialling out
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _artifacts() -> Path:
    out = Path(os.environ.get("SNOWSEG_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


@pytest.fixture()
def stack(tmp_path):
    """`make airflow` on its own twin, Airflow home and ports; `make airflow-stop` + `make twin-down` after."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    pytest.importorskip("playwright.sync_api")
    api_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SNOWSEG", "PYTHONPATH"))},
        "AIRFLOW_HOME": str(tmp_path / "airflow"), "SNOWSEG_TWIN_HOME": str(tmp_path / "twin"),
        "SNOWSEG_TWIN_PORT": str(free_port()), "SNOWSEG_S3_PORT": str(free_port()),
        "SNOWSEG_REPORT_DIR": str(tmp_path / "reports"), "AIRFLOW__API__PORT": str(api_port),
        "SNOWSEG_ALERTS_FILE": str(tmp_path / "alerts.jsonl"), "SNOWSEG_INPUT_ROOTS": str(tmp_path / "inputs"),
    }
    started = time.perf_counter()
    up = subprocess.run(["make", "airflow"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    up_s = time.perf_counter() - started
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        password = json.loads((tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        yield {"url": f"http://127.0.0.1:{api_port}", "user": "admin", "password": password, "tmp": tmp_path,
               "up_s": up_s, "home": tmp_path / "airflow"}
    finally:
        down = subprocess.run(["make", "airflow-stop"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        subprocess.run(["make", "twin-down"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0 and "Airflow stopped" in down.stdout + "Airflow is not running", down.stdout
        assert not (tmp_path / "airflow" / "snowseg_airflow.pid").exists()


def _api(stack: dict, path: str, body: dict | None = None) -> dict:
    """GET (or POST `body` to) the REST API with a JWT from /auth/token (the same login as the browser)."""
    if "token" not in stack:
        req = urllib.request.Request(f"{stack['url']}/auth/token", method="POST",
                                     data=json.dumps({"username": stack["user"], "password": stack["password"]}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            stack["token"] = json.loads(r.read())["access_token"]
    req = urllib.request.Request(f"{stack['url']}{path}", headers={"Authorization": f"Bearer {stack['token']}",
                                                                   "Content-Type": "application/json"},
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _wait_run(stack: dict, dag_id: str, *, run_type: str | None = None, timeout: float = 300) -> dict:
    """The DAG's newest run (of `run_type`) once it has finished; fails on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        runs = _api(stack, f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=5")["dag_runs"]
        runs = [r for r in runs if run_type is None or r["run_type"] == run_type]
        if runs:
            last = runs[0]
            if last["state"] in ("success", "failed"):
                return last
        time.sleep(3)
    raise AssertionError(f"{dag_id}: no finished {run_type or ''} run within {timeout:.0f} s; last: {last}")


def test_trigger_a_load_from_the_ui_and_the_asset_runs_segmentation(stack, tmp_path):
    from playwright.sync_api import sync_playwright

    from snowseg_samples import write_sales_csv

    shots, timings = _artifacts(), {"make_airflow_s": round(stack["up_s"], 1)}
    csv = write_sales_csv(tmp_path / "inputs" / "ui_sales.csv", 600, seed=77)
    t0 = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)

        page.goto(stack["url"])
        page.fill("input[name=username]", stack["user"])
        page.fill("input[name=password]", stack["password"])
        page.screenshot(path=shots / "01_login.png")
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/auth/login" not in u)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=shots / "02_home.png")

        page.goto(f"{stack['url']}/dags/load_small_file")
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Trigger Dag").first.click()
        field = page.locator("#element_file_path")
        field.fill(str(csv))
        submit = page.locator("[data-testid=trigger-dag-submit]")
        page.screenshot(path=shots / "03_trigger_form.png")
        assert submit.is_enabled(), "the trigger form does not accept the params as filled"
        submit.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=shots / "04_triggered.png")

        load = _wait_run(stack, "load_small_file", run_type="manual")
        assert load["state"] == "success", load
        assert load["conf"].get("file_path") == str(csv)
        timings["load_run_s"] = round(time.perf_counter() - t0, 1)
        page.goto(f"{stack['url']}/dags/load_small_file/runs/{load['dag_run_id']}")
        page.wait_for_load_state("networkidle")
        page.get_by_text("load_small_file").first.wait_for()
        page.screenshot(path=shots / "05_load_success.png")

        seg = _wait_run(stack, "segment_customers", run_type="asset_triggered", timeout=420)
        assert seg["state"] == "success", seg
        timings["segment_run_s"] = round(time.perf_counter() - t0, 1)
        page.goto(f"{stack['url']}/dags/segment_customers/runs/{seg['dag_run_id']}")
        page.wait_for_load_state("networkidle")
        page.get_by_text("asset_triggered").first.wait_for()
        page.screenshot(path=shots / "06_segment_asset_triggered.png")

        # nobody triggered segment_customers by hand; besides the asset's run only the weekly schedule's latest
        # slot (catchup off: the scheduler runs it on deployment), which skips its stages while nothing is
        # published and never fails
        runs = _api(stack, "/api/v2/dags/segment_customers/dagRuns")["dag_runs"]
        assert {r["run_type"] for r in runs} <= {"asset_triggered", "scheduled"}, runs
        assert all(r["state"] != "failed" for r in runs), runs

        # the loads monitor (plugin): the file's fate with its counts, and the segmentation run
        page.goto(f"{stack['url']}/snowseg/")
        row = page.locator("tr", has_text=csv.name).first
        row.wait_for()
        assert "LOADED" in row.inner_text() and "600" in row.inner_text(), row.inner_text()
        page.get_by_text("High spend").first.wait_for()
        page.screenshot(path=shots / "07_loads_monitor.png", full_page=True)

        # the run report, as the monitor serves it (sandboxed, no script): its pictures still show
        page.click("#report-link")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("[...document.images].length > 0 && [...document.images].every(i => i.naturalWidth > 0)")
        page.screenshot(path=shots / "08_run_report.png", full_page=True)

        # upload from the browser: a file from the "laptop" (outside the input roots) through the monitor's form
        laptop = tmp_path / "laptop"
        good = write_sales_csv(laptop / "ventes été.csv", 240, seed=78)
        page.goto(f"{stack['url']}/snowseg/")
        page.click("#upload-link")
        page.wait_for_url(lambda u: u.endswith("/snowseg/upload"))
        page.set_input_files("#upload-file", str(good))
        page.screenshot(path=shots / "09_upload_form.png")
        page.click("#upload-submit")
        page.wait_for_url(lambda u: "/snowseg/upload/fate?run=" in u)
        page.locator('#fate[data-outcome="LOADED"]').wait_for(timeout=300_000)  # the page reloads itself meanwhile
        assert page.inner_text("#fate-rows-loaded") == "240", page.inner_text("#fate")
        assert "ventes été.csv" in page.inner_text("#fate-note") and "admin" in page.inner_text("#fate-note")
        page.screenshot(path=shots / "10_upload_loaded.png", full_page=True)
        timings["upload_loaded_s"] = round(time.perf_counter() - t0, 1)

        # a bad file (its header is not the contract's): the load refuses it, on record, and the page says why
        bad = laptop / "bad header.csv"
        bad.write_text(good.read_text().replace("Invoice ID", "Invoice", 1))
        page.goto(f"{stack['url']}/snowseg/upload")
        page.set_input_files("#upload-file", str(bad))
        page.click("#upload-submit")
        page.locator('#fate[data-outcome="REFUSED"]').wait_for(timeout=300_000)
        assert "the header does not match" in page.inner_text("#fate-error"), page.inner_text("#fate")
        page.screenshot(path=shots / "11_upload_refused.png", full_page=True)
        uploaded = sorted(p.name for p in (tmp_path / "inputs" / "uploads").rglob("*.csv"))
        assert [n.split("-", 2)[2] for n in uploaded] in (["bad_header.csv", "ventes_ete.csv"],
                                                          ["ventes_ete.csv", "bad_header.csv"]), uploaded

        # a file that is not a CSV is refused by the form itself, with its reason, and nothing is stored
        sheet = laptop / "sales.xlsx"
        sheet.write_bytes(b"PK\x03\x04 not a csv")
        page.goto(f"{stack['url']}/snowseg/upload")
        page.set_input_files("#upload-file", str(sheet))
        page.click("#upload-submit")
        refused = page.locator("#upload-refused")
        refused.wait_for()
        assert "is not a CSV file" in refused.inner_text() and refused.get_attribute("data-reason") == "wrong_type"
        assert sorted(p.name for p in (tmp_path / "inputs" / "uploads").rglob("*.csv")) == uploaded
        page.screenshot(path=shots / "12_upload_wrong_type.png", full_page=True)
        browser.close()
    timings["browser_total_s"] = round(time.perf_counter() - t0, 1)

    # the security probe as a user who may trigger DAGs: a load of the scheduler's environment is refused,
    # and no secret of its connection reaches the standalone log, the alerts file or the loads monitor
    pid = int((stack["home"] / "snowseg_airflow.pid").read_text().split()[0])
    probe = _api(stack, "/api/v2/dags/load_small_file/dagRuns",
                 {"logical_date": None, "conf": {"file_path": f"/proc/{pid}/environ"}})
    failed = _wait_run(stack, "load_small_file", run_type="manual")
    assert failed["dag_run_id"] == probe["dag_run_id"] and failed["state"] == "failed", failed
    from snowseg_twin.keys import DEV_KEY_PASSPHRASE

    alerts = (stack["tmp"] / "alerts.jsonl").read_text()
    assert "refused: a system folder" in alerts and DEV_KEY_PASSPHRASE not in alerts
    assert DEV_KEY_PASSPHRASE not in (stack["home"] / "standalone.log").read_text(errors="replace")
    task_logs = "".join(p.read_text(errors="replace") for p in (stack["home"] / "logs").rglob("*") if p.is_file())
    assert "refused: a system folder" in task_logs and DEV_KEY_PASSPHRASE not in task_logs
    assert DEV_KEY_PASSPHRASE not in json.dumps(_api(stack, "/snowseg/api/loads"))
    (shots / "timings.json").write_text(json.dumps(timings, indent=2))
    assert sorted(f.name for f in shots.glob("*.png")) == [
        "01_login.png", "02_home.png", "03_trigger_form.png", "04_triggered.png", "05_load_success.png",
        "06_segment_asset_triggered.png", "07_loads_monitor.png", "08_run_report.png", "09_upload_form.png",
        "10_upload_loaded.png", "11_upload_refused.png", "12_upload_wrong_type.png"]
