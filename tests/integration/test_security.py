"""Security probes, replayed: as a user who can trigger DAGs, as a viewer, and as an attacker with the UI's URL.

Each test replays one probe of the security review (issue 11) and asserts the safe outcome:

- a load of ``/proc/<pid>/environ`` (a process whose environment holds the Snowflake connection and an
  AWS secret), ``/etc/shadow``, a symlink out of the input roots or a dot-file is refused before the
  file is opened, on each load path, and no secret reaches LOAD_AUDIT, SALES_REJECTED, the alerts file,
  the task logs or the monitor's JSON;
- the same secrets inside an allowed file are refused by the header check without quoting the file;
- a file whose name and values carry HTML/script (stored XSS) leaves no script in any report page, the
  report folder is served sandboxed with a script-free Content-Security-Policy, and GX Data Docs (CDN
  scripts, raw values) are not built;
- a viewer sees counts, statuses and errors but no raw record and no report;
- forged, unsigned, wrong-key and expired tokens are refused; ``openapi.json`` needs a login;
- every traversal form out of the report folder is refused, and the refusal does not echo the path;
- a ``contract`` param that is a path is refused without being opened.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from snowseg_samples import write_sales_csv
from tests.conftest import set_up_warehouse
from tests.integration.conftest import dag_test, query

pytestmark = pytest.mark.integration

PASSWD = "root:x:0:0"
XSS_NAME = 'x"><img src=x onerror=alert(1)>.csv'
XSS_CITY = "<svg onload=alert(document.cookie)>"


def _secrets() -> dict[str, str]:
    """The session twin's connection password and an AWS secret, as a scheduler's environment holds them."""
    return {"snowflake": json.loads(os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"])["password"],
            "aws": "probe-aws-secret-" + uuid.uuid4().hex[:12]}


@pytest.fixture()
def victim():
    """A process whose environment holds the connection secrets (as the scheduler's does); its pid and them."""
    secrets = _secrets()
    env = {"AIRFLOW_CONN_SNOWFLAKE_DEFAULT": os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"],
           "AWS_SECRET_ACCESS_KEY": secrets["aws"], "PATH": os.environ.get("PATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env)
    try:
        deadline = time.monotonic() + 10
        while secrets["snowflake"] not in Path(f"/proc/{proc.pid}/environ").read_text(errors="replace"):
            assert time.monotonic() < deadline, "the victim process did not start"
            time.sleep(0.05)  # exec has not replaced the forked child yet
        yield SimpleNamespace(pid=proc.pid, secrets=secrets, environ=Path(f"/proc/{proc.pid}/environ").read_bytes())
    finally:
        proc.kill()
        proc.wait()


def _client(user_role: str | None = "admin"):
    """The api-server app (the plugin mounted at /snowseg) with a real token for a simple-auth-manager user."""
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    client = TestClient(create_app())
    if user_role:
        user = SimpleAuthManagerUser(username=f"probe_{user_role}", role=user_role)
        client.headers["Authorization"] = f"Bearer {get_auth_manager().generate_jwt(user)}"
    return client


@pytest.fixture(scope="module")
def clients(airflow_db):
    out = {role: _client(role) for role in ("admin", "user", "viewer")}
    out["anonymous"] = _client(None)
    for c in out.values():
        c.__enter__()
    yield out
    for c in out.values():
        c.__exit__(None, None, None)


def _rows(sf, table: str) -> list[tuple]:
    """Every row of `table`; none when it (or its database) was never created."""
    from snowflake.connector.errors import ProgrammingError

    try:
        return query(sf, f"select * from {table}")
    except ProgrammingError as e:
        if "does not exist" in str(e):
            return []
        raise


def _grep_everything(sf, database: str, secrets: list[str], *texts: str) -> list[str]:
    """Where any of `secrets` shows: LOAD_AUDIT, SALES_REJECTED, the alerts file, the given texts."""
    found = []
    tables = {"LOAD_AUDIT": f"{database}.AUDIT.LOAD_AUDIT", "SALES_REJECTED": f"{database}.RAW.SALES_REJECTED"}
    for label, table in tables.items():
        dump = json.dumps(_rows(sf, table), default=str)
        found += [f"{label}: {s[:6]}…" for s in secrets if s in dump]
    alerts = Path(os.environ.get("SNOWSEG_ALERTS_FILE", Path(os.environ["AIRFLOW_HOME"]) / "snowseg_alerts.jsonl"))
    if alerts.exists():
        found += [f"alerts file: {s[:6]}…" for s in secrets if s in alerts.read_text(errors="replace")]
    for i, text in enumerate(texts):
        found += [f"text {i}: {s[:6]}…" for s in secrets if s in text]
    return found


# --- inputs ---------------------------------------------------------------------------------------------------------


LOADERS = {"small": ("load_small_file", "file_path", "check_file"),
           "bulk": ("load_bulk_stage", "path", "split_put_copy"),
           "snowpipe": ("load_s3_snowpipe", "path", "check_files")}


@pytest.mark.parametrize("path", list(LOADERS))
def test_proc_environ_and_system_files_are_refused_and_nothing_leaks(run_dag, sf, database, victim, path, capfd,
                                                                     tmp_path):
    """Probe: file_path=/proc/<pid>/environ (and globs over /proc, /etc/shadow, a symlink out, a dot-file)."""
    dag_id, param, first_task = LOADERS[path]
    (tmp_path / "innocent.csv").symlink_to(f"/proc/{victim.pid}/environ")
    (tmp_path / "passwd.csv").symlink_to("/etc/passwd")
    (tmp_path / ".env").write_bytes(victim.environ)
    up = "../" * len(tmp_path.parts)
    probes = [f"/proc/{victim.pid}/environ", "/etc/shadow", str(tmp_path / "innocent.csv"), str(tmp_path / "passwd.csv"),
              str(tmp_path / ".env"), f"{tmp_path}/{up}proc/{victim.pid}/environ"]
    if path != "small":
        probes += ["/proc/*/environ", f"{tmp_path}/{up}proc/*/environ", f"{tmp_path}/*.csv"]
    for probe in probes:
        dr, states = run_dag(dag_id, **{param: probe})
        assert dr.state == "failed" and states[first_task] == "failed", (probe, states)
    out = capfd.readouterr()
    logs = out.out + out.err
    assert logs.count("refused:") >= len(probes), logs[-3000:]
    assert "outside the input roots" in logs and "a system folder (/proc, /sys, /dev) is never an input" in logs
    assert "a symlink leads outside the input roots" in logs and "a dot-file or dot-folder ('.env')" in logs
    # nothing was opened, so nothing is on record; and no secret anywhere
    assert _rows(sf, f"{database}.AUDIT.LOAD_AUDIT") == []
    assert _grep_everything(sf, database, list(victim.secrets.values()), logs) == []


def test_a_refusal_does_not_tell_a_missing_file_from_a_present_one(run_dag, capfd):
    """Probe: /etc/passwd and /etc/no_such_file: the same refusal, so the refusal cannot probe the disk."""
    messages = []
    for probe in ("/etc/passwd", "/etc/no_such_file_here"):
        dr, _ = run_dag("load_small_file", file_path=probe)
        assert dr.state == "failed"
        logs = capfd.readouterr()
        line = next(ln for ln in (logs.out + logs.err).splitlines() if f"input '{probe}' refused" in ln)
        messages.append(line[line.index("input '"):].replace(probe, "<path>"))
    assert messages[0] == messages[1] and PASSWD not in messages[0]


def test_secrets_inside_an_allowed_file_never_reach_a_message(run_dag, sf, database, victim, tmp_path, capfd):
    """Probe: the environ's bytes copied into a file under the input roots: refused on its header, which is
    described by counts and contract names only; LOAD_AUDIT has the refusal without a byte of the file."""
    f = tmp_path / "environ.csv"
    f.write_bytes(victim.environ.replace(b"\x00", b"\n"))
    for path in ("small", "bulk"):
        dag_id, param, _ = LOADERS[path]
        dr, states = run_dag(dag_id, **{param: str(f)})
        assert dr.state == "failed", states
    logs = capfd.readouterr()
    rows = query(sf, f"select STATUS, FIRST_ERROR, FIRST_ERROR_LINE, LOAD_PATH from {database}.AUDIT.LOAD_AUDIT")
    assert {r[0] for r in rows} == {"REFUSED"} and len(rows) == 2
    for r in rows:
        assert "the header does not match contract 'supermarket_sales'" in r[1] and r[2] == 1, r
    assert all("AIRFLOW_CONN" not in r[1] and "AWS_SECRET" not in r[1] for r in rows)
    assert _grep_everything(sf, database, list(victim.secrets.values()), logs.out + logs.err) == []


def test_a_contract_param_is_a_name_never_a_path(run_dag, capfd, tmp_path):
    """Probe: contract=/etc/passwd (and a relative path, and a YAML of the attacker's): refused, never opened. The
    trigger form's choice (snowseg.config.contract_param) refuses them before a run starts; a task that gets one
    anyway (a contract removed after the DAG was parsed) refuses it by name, too."""
    from airflow.sdk.exceptions import ParamValidationError

    from snowseg.airflow.tasks import resolve
    from snowseg.config import ContractError

    evil = tmp_path / "evil.yaml"
    evil.write_text("name: evil\ntable: SALES_RAW\ncolumns: []\n")
    for contract in ("/etc/passwd", "../../../../etc/passwd", str(evil), "supermarket.yaml"):
        with pytest.raises(ParamValidationError, match="is not one of"):
            run_dag("load_small_file", file_path="x.csv", contract=contract)
        with pytest.raises(ContractError, match="is not a contract name"):
            resolve(contract)
    logs = capfd.readouterr()
    assert PASSWD not in logs.out + logs.err


# --- reports and the monitor ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xss(dagbag, twin, tmp_path_factory):
    """A database whose loads carry script in a file name and a city, then segment_customers: its reports."""
    database = f"T_{uuid.uuid4().hex[:10].upper()}"
    tmp = tmp_path_factory.mktemp("xss")
    set_up_warehouse(database)
    src = write_sales_csv(tmp / "src.csv", 150, seed=21)
    lines = src.read_text().splitlines()
    rows = [ln.split(",") for ln in lines]
    for r in rows[1:3]:  # two rows: quarantined by the gate (not a known city), the batch still published
        r[2] = XSS_CITY
    rows[5][7] = "seven<script>alert(1)</script>"  # a bad quantity: a rejected record with script in it
    target = tmp / XSS_NAME
    target.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNOWSEG_DATABASE", database)
        load = dag_test(dagbag.get_dag("load_small_file"), {"file_path": str(target), "on_error": "CONTINUE"})
        assert load.state == "success"
        seg = dag_test(dagbag.get_dag("segment_customers"), {"k_max": 4})
        assert seg.state == "success"
        yield SimpleNamespace(database=database, report_dir=Path(os.environ["SNOWSEG_REPORT_DIR"]))


def test_reports_carry_no_script_and_are_served_sandboxed(clients, xss, monkeypatch):
    """Probe: stored XSS through a loaded file's name and values, shown by the reports the monitor serves."""
    monkeypatch.setenv("SNOWSEG_DATABASE", xss.database)
    admin = clients["admin"]
    q = admin.get("/snowseg/api/quality").json()
    s = admin.get("/snowseg/api/segments").json()
    pages = [xss.report_dir / q["report_path"], xss.report_dir / s["report_path"]]
    for page in pages:
        folder = page.parent
        assert not (folder / "data_docs").exists()  # GX Data Docs: CDN scripts and raw values, not built
        for html in folder.rglob("*.htm*"):
            text = html.read_text(errors="replace").lower()
            assert "<script" not in text and "onerror=" not in text.replace("onerror=alert", "")
            assert "<svg onload" not in text and "<img src=x" not in text
            assert "https://" not in text and "http://" not in text, f"{html}: a link off the site"
    for url in (q["report_url"], s["report_url"]):
        r = admin.get(url)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and csp.endswith("; sandbox allow-same-origin")
        assert "allow-scripts" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "SAMEORIGIN"
    # the monitor's own pages escape the name and values, and allow no script either
    files = [f for p in admin.get("/snowseg/api/loads").json()["paths"] for f in p["files"]]
    (f,) = [f for f in files if f["file_name"] == XSS_NAME]
    for url in ("/snowseg/", f["rejects_url"]):
        r = admin.get(url)
        assert r.status_code == 200 and XSS_NAME not in r.text and "x&#34;&gt;&lt;img" in r.text
        assert "<script>alert" not in r.text
        assert "default-src 'none'" in r.headers["content-security-policy"] and "sandbox" not in r.headers[
            "content-security-policy"]


def test_viewers_see_counts_and_errors_but_no_raw_records_or_reports(clients, xss, monkeypatch):
    """Probe: a viewer opens /snowseg/rejects and the reports; a user who may trigger loads does too."""
    monkeypatch.setenv("SNOWSEG_DATABASE", xss.database)
    files = [f for p in clients["viewer"].get("/snowseg/api/loads").json()["paths"] for f in p["files"]]
    (f,) = [f for f in files if f["file_name"] == XSS_NAME]
    assert (f["status"], f["rows_rejected"]) == ("PARTIALLY_LOADED", 1)
    viewer = clients["viewer"].get(f["rejects_api_url"]).json()
    assert viewer["raw_records_hidden"] is True and viewer["total"] == 1
    (row,) = viewer["rows"]
    assert row["rejected_record"] is None and row["line"] == 6 and row["column_name"] == "QUANTITY"
    assert row["error"].startswith("Numeric value '…' is not recognized") and "seven" not in row["error"]
    page = clients["viewer"].get(f["rejects_url"]).text
    assert 'id="records-hidden"' in page and "seven" not in page
    assert "seven" not in clients["viewer"].get("/snowseg/").text
    segments = clients["viewer"].get("/snowseg/api/segments").json()
    r = clients["viewer"].get(segments["report_url"])
    assert r.status_code == 403 and "your role may not see them" in r.text
    assert 'id="report-link"' not in clients["viewer"].get("/snowseg/").text

    for role in ("user", "admin"):
        data = clients[role].get(f["rejects_api_url"]).json()
        assert data["raw_records_hidden"] is False and "seven<script>" in data["rows"][0]["rejected_record"]
        assert "'seven<script>" in data["rows"][0]["error"]
        assert clients[role].get(segments["report_url"]).status_code == 200
        assert 'id="report-link"' in clients[role].get("/snowseg/").text


def test_forged_and_expired_tokens_are_refused(clients):
    """Probe: tokens with alg none, the wrong key, an expired one, garbage; and openapi.json without login."""
    import jwt
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    admin = SimpleAuthManagerUser(username="admin", role="admin")
    good = get_auth_manager().generate_jwt(admin)
    claims = jwt.decode(good, options={"verify_signature": False})
    header = jwt.get_unverified_header(good)
    forged = {
        "alg-none": jwt.encode(claims, key=None, algorithm="none"),
        "wrong-key": jwt.encode(claims, "not-the-key-" * 4, algorithm=header["alg"], headers={"kid": header.get("kid")}),
        "expired": get_auth_manager().generate_jwt(admin, expiration_time_in_seconds=-60),
        "garbage": "not.a.token",
    }
    anon = clients["anonymous"]
    for name, token in forged.items():
        for path in ("/snowseg/api/loads", "/snowseg/api/rejects?file=a.csv", "/snowseg/openapi.json"):
            r = anon.get(path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code in (401, 403), (name, path, r.status_code)
        page = anon.get("/snowseg/rejects?file=a.csv", cookies={"_token": token}, follow_redirects=False)
        assert page.status_code == 307 and page.headers["location"].startswith("/auth/login"), name
    assert anon.get("/snowseg/openapi.json").status_code == 401
    assert anon.get("/snowseg/", follow_redirects=False).status_code == 307
    spec = clients["viewer"].get("/snowseg/openapi.json")
    assert spec.status_code == 200 and "/api/loads" in spec.json()["paths"]


def _raw_get(client, raw_path: bytes) -> tuple[int, bytes, dict]:
    """GET a path exactly as given (httpx removes dot segments; uvicorn does not), with the client's login."""
    from urllib.parse import unquote

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path.decode()), "raw_path": raw_path, "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"authorization", client.headers["Authorization"].encode())],
             "server": ("testserver", 80), "client": ("test", 1)}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(client.app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode().lower(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], body, headers


@pytest.mark.parametrize("path", [
    "/snowseg/reports/../../etc/passwd",
    "/snowseg/reports/quality/../../../etc/passwd",
    "/snowseg/reports/%2e%2e/%2e%2e/etc/passwd",
    "/snowseg/reports/..%2f..%2f..%2fetc%2fpasswd",
    "/snowseg/reports/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/snowseg/reports/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/snowseg/reports/%2fetc%2fpasswd",
    "/snowseg/reports//etc/passwd",
    "/snowseg/reports/x/..%5c..%5cetc%5cpasswd",
    "/snowseg/reports/%00/etc/passwd",
])
def test_report_paths_outside_the_report_folder_are_refused(clients, path):
    """As a server passes the path (decoded once, dot segments kept), every way out of the folder is a 400 (or a
    404 for a folder that is not there), and the refusal neither echoes the path nor can be sniffed as HTML."""
    status, body, headers = _raw_get(clients["admin"], path.encode())
    assert status in (400, 404) and PASSWD.encode() not in body, (path, status, body[:200])
    assert b"passwd" not in body and b"<" not in body and headers["x-content-type-options"] == "nosniff"
    if "/../" not in path:  # httpx would remove the dot segments before sending (next test)
        r = clients["admin"].get(path)
        assert r.status_code in (400, 404) and PASSWD not in r.text, (path, r.status_code, r.text[:200])


def test_report_traversal_other_forms(clients):
    admin = clients["admin"]
    # dot segments as a browser or httpx sends them: resolved by the client, never reach the plugin
    r = admin.get("/snowseg/reports/../../etc/passwd")  # sent as /etc/passwd: the Airflow UI's page answers
    assert r.status_code in (200, 404) and PASSWD not in r.text and "Snowseg" not in r.text
    # double-encoded dots are a (missing) folder name, not a way out
    status, body, _ = _raw_get(admin, b"/snowseg/reports/%252e%252e/%252e%252e/etc/passwd")
    assert status == 404 and PASSWD.encode() not in body
    # a symlink inside the report folder that points outside it
    link = Path(os.environ["SNOWSEG_REPORT_DIR"]) / f"escape_{uuid.uuid4().hex[:6]}"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("/etc")
    try:
        r = admin.get(f"/snowseg/reports/{link.name}/passwd")
        assert r.status_code == 400 and PASSWD not in r.text
    finally:
        link.unlink()
    # read-only: nothing but GET (and HEAD)
    assert admin.post("/snowseg/reports/x.html").status_code == 405
