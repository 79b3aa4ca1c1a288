"""Object storage (snowseg.storage, snowseg.botofs): URL rules on the text, and the real thing on a moto S3 server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from snowseg import storage
from snowseg.errors import InputNotFound, InputRefused

ROOTS = [storage.parse_url("s3://landing-bkt/sales/"), storage.parse_url("s3://other-bkt/")]


class UrlCase(NamedTuple):
    url: str
    reason: str | None  # a fragment of InputRefused.reason; None: allowed


URL_CASES = [
    pytest.param(UrlCase("s3://landing-bkt/sales/a.csv", None), id="object-in-root"),
    pytest.param(UrlCase("s3://landing-bkt/sales/2026/", None), id="prefix-in-root"),
    pytest.param(UrlCase("s3://landing-bkt/sales/2026/*.csv", None), id="glob-in-root"),
    pytest.param(UrlCase("s3://other-bkt/any/where.csv", None), id="whole-bucket-root"),
    pytest.param(UrlCase("s3://landing-bkt/salesx/a.csv", "outside the input roots"), id="sibling-prefix"),
    pytest.param(UrlCase("s3://landing-bkt/a.csv", "outside the input roots"), id="above-root"),
    pytest.param(UrlCase("s3://third-bkt/sales/a.csv", "outside the input roots"), id="other-bucket"),
    pytest.param(UrlCase("s3://landing-bkt/*/a.csv", "outside the input roots"), id="glob-above-root"),
    pytest.param(UrlCase("s3://landing-bkt/sales/../secret/a.csv", "'..'"), id="dot-dot"),
    pytest.param(UrlCase("s3://landing-bkt/sales/./a.csv", "'..'"), id="dot"),
    pytest.param(UrlCase("s3://landing-bkt/sales//a.csv", "empty one"), id="empty-segment"),
    pytest.param(UrlCase("s3://landing-bkt/sales/.git/a.csv", "dot-file"), id="dot-folder"),
    pytest.param(UrlCase("s3://landing-bkt/sales/.env", "dot-file"), id="dot-file"),
    pytest.param(UrlCase("s3://AKIAXX:hunter22@landing-bkt/sales/a.csv", "credentials"), id="credentials"),
    pytest.param(UrlCase("s3://aws_default@landing-bkt/sales/a.csv", "connection id"), id="conn-id"),
    pytest.param(UrlCase("s3://landing-bkt/sales/a.csv?versionId=1", "query"), id="query"),
    pytest.param(UrlCase("s3://landing-bkt/sales/a\x00.csv", "NUL"), id="nul"),
    pytest.param(UrlCase("http://landing-bkt/sales/a.csv", "not a URL of s3://"), id="http"),
    pytest.param(UrlCase("s3:///sales/a.csv", "no bucket"), id="no-bucket"),
]


@pytest.mark.parametrize("case", URL_CASES)
def test_confine_url(case: UrlCase) -> None:
    """An input URL is allowed only below a root, and refused on its text for every other reason."""
    if case.reason is None:
        assert storage.confine_url(case.url, ROOTS).url == case.url
        return
    with pytest.raises(InputRefused) as info:
        storage.confine_url(case.url, ROOTS)
    assert case.reason in info.value.reason
    assert "hunter22" not in str(info.value) and "AKIAXX" not in info.value.path  # credentials never echoed


@pytest.mark.parametrize(("value", "expected"), [
    ("/data:/more", ["/data", "/more"]),
    ("s3://b/sales/:/data", ["s3://b/sales/", "/data"]),
    ("/data::s3://b/x", ["/data", "s3://b/x"]),
    ("", []),
])
def test_split_list_keeps_urls_whole(value: str, expected: list[str]) -> None:
    assert storage.split_list(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("s3://key:secret@bkt-r/reports/", "credentials"),
    ("s3://bkt-r/reports/../x/", "'..'"),
    ("ftp://bkt-r/reports/", "not a URL"),
    ("file://relative/folder", "file:///folder"),
])
def test_bad_base_settings_are_refused(value: str, reason: str) -> None:
    with pytest.raises(storage.StorageSettingError) as info:
        storage.base("SNOWSEG_REPORT_DIR", value)
    assert reason in info.value.reason and info.value.setting == "SNOWSEG_REPORT_DIR"
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd", "a\\b", "a//b", ".", "a/\x00"])
def test_below_refuses_what_would_leave_the_base(relative: str) -> None:
    with pytest.raises(ValueError):
        storage.below(Path("/srv/reports"), relative)


# --- against a moto S3 server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """A fresh bucket on the moto server, reached through an Airflow connection of this test's own (an attached
    store is cached per process and connection id: never `aws_default`, which the integration tests' twin uses)."""
    import uuid

    import boto3

    conn_id = f"aws_unit_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": moto_endpoint, "region_name": "us-east-1"}}))
    monkeypatch.setenv("SNOWSEG_AWS_CONN_ID", conn_id)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"unit-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    return SimpleNamespace(client=client, bucket=bucket, tmp=tmp_path)


def _put(s3: SimpleNamespace, key: str, body: bytes = b"a,b\n1,2\n") -> None:
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body)


def test_expand_url_object_prefix_and_glob(s3: SimpleNamespace) -> None:
    """An object; a prefix's CSV objects one level down; a glob segment by segment; dot-files never."""
    for key in ("in/a.csv", "in/b.csv", "in/notes.txt", "in/.hidden.csv", "in/sub/c.csv", "in/sub/d.csv",
                "out/e.csv"):
        _put(s3, key)
    roots = [storage.parse_url(f"s3://{s3.bucket}/in/")]

    def names(url: str) -> list[str]:
        return [u.key for u in storage.expand_url(url, roots)]

    assert names(f"s3://{s3.bucket}/in/a.csv") == ["in/a.csv"]
    assert names(f"s3://{s3.bucket}/in/") == ["in/a.csv", "in/b.csv"]
    assert names(f"s3://{s3.bucket}/in") == ["in/a.csv", "in/b.csv"]
    assert names(f"s3://{s3.bucket}/in/*/*.csv") == ["in/sub/c.csv", "in/sub/d.csv"]
    assert names(f"s3://{s3.bucket}/in/sub/[c]*") == ["in/sub/c.csv"]
    with pytest.raises(InputNotFound):
        storage.expand_url(f"s3://{s3.bucket}/in/none*.csv", roots)
    with pytest.raises(InputRefused):
        storage.expand_url(f"s3://{s3.bucket}/out/e.csv", roots)


def test_fetch_streams_an_object_to_a_local_file(s3: SimpleNamespace) -> None:
    body = b"x,y\n" + b"1,2\n" * 50_000
    _put(s3, "in/big.csv", body)
    local = storage.fetch(storage.parse_url(f"s3://{s3.bucket}/in/big.csv"), s3.tmp / "copy")
    assert local.name == "big.csv" and local.read_bytes() == body
    with pytest.raises(InputNotFound):
        storage.fetch(storage.parse_url(f"s3://{s3.bucket}/in/missing.csv"), s3.tmp / "copy")


def test_checked_input_names_the_url_and_a_changed_object_is_refused(s3: SimpleNamespace,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """inputs.check reads an object through a local copy but names its URL; local_input re-reads it and refuses
    content that is not the one checked."""
    from snowseg import inputs
    from snowseg.config import contract_path, load_contract

    contract = load_contract(contract_path("supermarket"))
    header = ",".join(c.name for c in contract.columns)
    seed = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "supermarket_sales.csv"
    body = seed.read_bytes() if seed.exists() else (header + "\n").encode()
    _put(s3, "in/sales.csv", body)
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", f"{s3.tmp}:s3://{s3.bucket}/in/")
    url = f"s3://{s3.bucket}/in/sales.csv"
    with inputs.check(url, contract, single=True) as checked:
        (info,) = checked.infos
        assert (info.path, info.name, info.sha256) == (url, "sales.csv", hashlib.sha256(body).hexdigest())
        assert Path(checked.local(info).path).read_bytes() == body
    with inputs.local_input(info) as local:
        assert Path(local.path).read_bytes() == body
    _put(s3, "in/sales.csv", body + body.splitlines(keepends=True)[-1])
    with pytest.raises(inputs.InputChanged) as changed, inputs.local_input(info):
        pass
    assert changed.value.url == url and changed.value.expected == info.sha256


def test_s3_report_base_publish_and_monitor(s3: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report drafted locally is copied under the s3:// base; the monitor finds it there and nothing outside."""
    from snowseg import monitor, report

    monkeypatch.setenv("SNOWSEG_REPORT_DIR", f"s3://{s3.bucket}/reports/")
    monkeypatch.setenv("AIRFLOW_HOME", str(s3.tmp / "home"))
    run_dir = report.report_root() / "run_1"
    (run_dir / "pics").mkdir(parents=True)
    (run_dir / "pics" / "k.png").write_bytes(b"\x89PNG")
    (run_dir / "index.html").write_text("<h1>run</h1>")
    assert report.publish(run_dir) == f"s3://{s3.bucket}/reports/run_1"
    keys = sorted(o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"])
    assert keys == ["reports/run_1/index.html", "reports/run_1/pics/k.png"]

    base = report.report_base()
    assert monitor.report_file(base, "run_1/index.html").read_text() == "<h1>run</h1>"
    assert monitor.report_file(base, "run_1").is_dir()
    assert monitor._index_under(base, "run_1") == "run_1/index.html"
    for bad in ("../secrets.txt", "run_1/../../x", "/reports/run_1/index.html"):
        with pytest.raises(monitor.ReportPathRefused):
            monitor.report_file(base, bad)
    with pytest.raises(FileNotFoundError):
        monitor.report_file(base, "run_2/index.html")


def test_alerts_on_s3_one_object_each_in_order(s3: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every alert is kept as its own object; read_alerts returns them oldest first."""
    from snowseg.alerting import delivery

    for var in ("SNOWSEG_ALERT_SMTP_TO", "SNOWSEG_ALERT_NOTIFIER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", f"s3://{s3.bucket}/alerts/")
    sent = [delivery.send_alert("file_refused", f"alert {i}; password=hunter22") for i in range(3)]
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.bucket, Prefix="alerts/")["Contents"]]
    assert len(keys) == 3 and all(k.endswith(".json") for k in keys)
    assert sent[0]["delivered"]["file"].startswith(f"s3://{s3.bucket}/alerts/")
    read = delivery.read_alerts()
    assert [a["summary"] for a in read] == ["alert 0; password=***", "alert 1; password=***", "alert 2; password=***"]
    assert [a["summary"] for a in delivery.read_alerts(limit=1)] == ["alert 2; password=***"]
