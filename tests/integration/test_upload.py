"""Upload from the browser, through the api-server app (the plugin mounted at /snowseg) with real logins.

An upload is stored under the input roots and triggers ``load_small_file`` through Airflow's own trigger (a run in
the metadata DB, queued: no scheduler runs here); the stored file is then loaded with ``dag.test()`` with the run's
conf, and the fate page shows what became of it (LOADED with rows, REFUSED with the load's own reason). Refusals
before anything is stored: a role without trigger rights (403), a forged or cross-site form (CSRF, 403), a name with
path parts (400), the wrong type (415), no file (400), an upload folder outside the roots (500). The headless-browser
version is tests/e2e/test_browser.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import dag_test

pytestmark = pytest.mark.integration


def _client(role: str | None, *, cookie: bool = False):
    """The api-server app with a simple-auth-manager login of `role`: a bearer token, or the UI's cookie."""
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    client = TestClient(create_app(), base_url="http://testserver")
    if role:
        jwt = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"up_{role}", role=role))
        if cookie:
            client.cookies.set("_token", jwt)
        else:
            client.headers["Authorization"] = f"Bearer {jwt}"
    return client


@pytest.fixture()
def roots(tmp_path, monkeypatch, dagbag):
    """An input root of its own (uploads go to its ``uploads/``), a folder outside it, and the DAGs in the
    metadata DB (what the api-server's trigger reads)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    root, outside = tmp_path / "in", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", str(root))
    monkeypatch.delenv("SNOWSEG_UPLOAD_DIR", raising=False)
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(dagbag, "dags-folder", None)
    return root, outside


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _token(client) -> str:
    page = client.get("/snowseg/upload")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _upload(client, name: str, content: bytes, *, token: str | None = "form", headers: dict | None = None):
    data = {} if token is None else {"csrf_token": _token(client) if token == "form" else token}
    return client.post("/snowseg/upload", data=data, files={"file": (name, content, "text/csv")},
                       headers=headers or {}, follow_redirects=False)


def _run(run_id: str):
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id="load_small_file", run_id=run_id).one()
        return SimpleNamespace(conf=dict(run.conf), state=str(run.state), note=run.note, run_type=str(run.run_type),
                               triggering_user_name=run.triggering_user_name)


def test_an_upload_is_stored_under_the_root_triggers_the_load_and_shows_its_fate(roots, dagbag, database, tmp_path,
                                                                                  sf):
    root, _ = roots
    good = write_sales_csv(tmp_path / "sales.csv", 150, seed=5).read_bytes()
    with _client("user") as client:
        r = _upload(client, "sales.csv", good)
        assert r.status_code == 303, r.text
        location = r.headers["location"]
        assert location.startswith("upload/fate?run=")
        run_id = parse_qs(urlsplit(location).query)["run"][0]
        again = _upload(client, "sales.csv", good)  # the same name twice: two files, two runs
        assert again.status_code == 303
        run, run2 = _run(run_id), _run(parse_qs(urlsplit(again.headers["location"]).query)["run"][0])

        stored = Path(run.conf["file_path"])
        assert stored.read_bytes() == good and stored.is_relative_to((root / "uploads").resolve())
        assert stored.name.endswith("-sales.csv") and run2.conf["file_path"] != run.conf["file_path"]
        assert _files(root) == sorted([stored, Path(run2.conf["file_path"])])  # nothing left in .incoming
        assert run.state == "queued" and run.triggering_user_name == "up_user" and run.run_type == "manual"
        assert run.note.startswith("Uploaded from the loads monitor by up_user: sales.csv")
        assert run.conf["contract"] == "supermarket"

        # not run yet (no scheduler here): the page says so and reloads itself
        page = client.get(f"/snowseg/{location}")
        assert page.status_code == 200 and 'data-outcome="waiting"' in page.text and page.headers["refresh"] == "3"
        assert ('id="fate-paused"' in page.text) == _paused()  # a paused DAG never runs it: the page says so

        # the scheduler's part, with the run's own conf; its fate is LOADED with the file's rows
        loaded = dag_test(dagbag.get_dag("load_small_file"), dict(run.conf))
        assert loaded.state == "success"
        page = client.get("/snowseg/upload/fate", params={"run": loaded.run_id})
        assert 'data-outcome="LOADED"' in page.text and "refresh" not in page.headers
        assert re.search(r'id="fate-rows-loaded">150<', page.text), page.text
        (count,) = sf.cursor().execute(f"select count(*) from {database}.RAW.SALES_RAW").fetchone()
        assert count == 150

        # a bad CSV (a header that is not the contract's) reaches the load, which refuses it on record
        bad = good.replace(b"Invoice ID", b"Invoice", 1)
        r = _upload(client, "bad.csv", bad)
        assert r.status_code == 303
        conf = _run(parse_qs(urlsplit(r.headers["location"]).query)["run"][0]).conf
        refused = dag_test(dagbag.get_dag("load_small_file"), dict(conf))
        assert refused.state == "failed"
        page = client.get("/snowseg/upload/fate", params={"run": refused.run_id}).text
        assert 'data-outcome="REFUSED"' in page and "the header does not match" in page
        (status,) = sf.cursor().execute(
            f"select STATUS from {database}.AUDIT.LOAD_AUDIT where AIRFLOW_RUN_ID = %s", (refused.run_id,)).fetchone()
        assert status == "REFUSED"


def _paused() -> bool:
    from airflow.models import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return bool(session.query(DagModel.is_paused).filter_by(dag_id="load_small_file").scalar())


def _no_runs_since(before: int) -> bool:
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(DagRun).filter_by(dag_id="load_small_file").count() == before


def _run_count() -> int:
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(DagRun).filter_by(dag_id="load_small_file").count()


def test_a_role_without_trigger_rights_gets_403_and_nothing_is_stored(roots):
    root, _ = roots
    before = _run_count()
    with _client("viewer") as viewer, _client("user") as user:
        page = viewer.get("/snowseg/upload")
        assert page.status_code == 403 and 'id="upload-forbidden"' in page.text and "csrf_token" not in page.text
        r = viewer.post("/snowseg/upload", data={"csrf_token": _token(user)}, files={"file": ("a.csv", b"a,b\n")})
        assert r.status_code == 403 and 'id="upload-forbidden"' in r.text
        assert viewer.get("/snowseg/upload/fate", params={"run": "x"}).status_code == 403
        assert 'id="upload-link"' not in viewer.get("/snowseg/").text
    with _client(None) as anonymous:
        assert anonymous.post("/snowseg/upload", files={"file": ("a.csv", b"a,b\n")},
                              follow_redirects=False).status_code == 307  # to the login page
    assert _files(root) == [] and _no_runs_since(before)


def test_csrf_a_cross_site_or_tokenless_form_is_refused(roots):
    root, _ = roots
    before = _run_count()
    with _client("admin", cookie=True) as browser, _client("user") as other:
        same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        for headers, token in [({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "form"),
                               ({}, "form"),  # a cookie login and no Origin at all
                               (same, None), (same, "1.forged"), (same, _token(other))]:
            r = _upload(browser, "a.csv", b"a,b\n", token=token, headers=headers)
            assert r.status_code == 403 and 'data-reason="csrf"' in r.text, (headers, token)
        r = _upload(browser, "a.csv", b"Invoice ID\n", headers=same)  # the form itself, same origin: accepted
        assert r.status_code == 303
    assert len(_files(root)) == 1 and _run_count() == before + 1


@pytest.mark.parametrize(("name", "content", "status", "reason"), [
    ("../../outside/evil.csv", b"a,b\n", 400, "bad_name"),
    ("..\\..\\evil.csv", b"a,b\n", 400, "bad_name"),
    ("sales.xlsx", b"PK\x03\x04", 415, "wrong_type"),
    ("sales.csv", b"PK\x03\x04\x00\x00\x00", 415, "wrong_type"),
    ("", b"", 400, "missing"),
])
def test_refusals_before_storing_show_their_reason(roots, name, content, status, reason):
    root, outside = roots
    before = _run_count()
    with _client("user") as client:
        r = _upload(client, name, content)
    assert r.status_code == status and f'data-reason="{reason}"' in r.text, r.text
    assert 'id="upload-form"' in r.text  # the form again, to try another file
    assert _files(root) == [] and _files(outside) == [] and _no_runs_since(before)


def test_an_upload_folder_outside_the_roots_is_never_written(roots, monkeypatch):
    root, outside = roots
    monkeypatch.setenv("SNOWSEG_UPLOAD_DIR", str(outside))
    before = _run_count()
    with _client("user") as client:
        r = _upload(client, "a.csv", b"a,b\n")
    assert r.status_code == 500 and "SNOWSEG_UPLOAD_DIR" in r.text and "outside the input roots" in r.text
    assert _files(outside) == [] and list(outside.iterdir()) == [] and _no_runs_since(before)


def test_an_s3_upload_dir_gets_the_object_and_the_load_reads_it_there(roots, dagbag, database, twin, tmp_path,
                                                                     monkeypatch):
    """SNOWSEG_UPLOAD_DIR as an s3:// prefix under an object root: the file is written there (nothing stays on the
    api-server's disk), the run's file_path is its URL, and the load reads it from S3."""
    import uuid

    import boto3

    root, _ = roots
    client = boto3.client("s3", endpoint_url=twin.s3_endpoint, region_name="us-east-1")
    name = f"snowseg-up-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", f"{root}{os.pathsep}s3://{name}/in/")
    monkeypatch.setenv("SNOWSEG_UPLOAD_DIR", f"s3://{name}/in/uploads/")
    good = write_sales_csv(tmp_path / "s3 sales.csv", 90, seed=6).read_bytes()
    with _client("op") as c:
        r = _upload(c, "s3 sales.csv", good)
        assert r.status_code == 303, r.text
        run = _run(parse_qs(urlsplit(r.headers["location"]).query)["run"][0])
        url = run.conf["file_path"]
        assert re.fullmatch(rf"s3://{name}/in/uploads/\d{{4}}-\d\d-\d\d/\d{{6}}-[0-9a-f]{{8}}-s3_sales\.csv", url), url
        key = url.removeprefix(f"s3://{name}/")
        assert client.get_object(Bucket=name, Key=key)["Body"].read() == good
        assert [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]] == [key]
        assert _files(root) == []
        loaded = dag_test(dagbag.get_dag("load_small_file"), dict(run.conf))
        assert loaded.state == "success"
        page = c.get("/snowseg/upload/fate", params={"run": loaded.run_id}).text
        assert 'data-outcome="LOADED"' in page and re.search(r'id="fate-rows-loaded">90<', page)
    monkeypatch.setenv("SNOWSEG_UPLOAD_DIR", f"s3://{name}/elsewhere/")  # not under the object root
    with _client("op") as c:
        assert _upload(c, "a.csv", b"a,b\n").status_code == 500
    assert [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]] == [key]


def test_a_hostile_name_is_kept_for_display_escaped_and_stored_safely(roots, database):
    root, _ = roots
    hostile = 'x"><img src=x onerror=alert(1)>.csv'
    with _client("admin") as client:
        r = _upload(client, hostile, b"Invoice ID\n")
        assert r.status_code == 303
        run_id = parse_qs(urlsplit(r.headers["location"]).query)["run"][0]
        page = client.get("/snowseg/upload/fate", params={"run": run_id})
    assert _run(run_id).note.startswith(f"Uploaded from the loads monitor by up_admin: {hostile}")
    assert "<img" not in page.text and "x&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.csv" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    (stored,) = _files(root)
    assert stored.name.endswith("-x_img_src_x_onerror_alert_1.csv") and stored.parent.parent == root / "uploads"
