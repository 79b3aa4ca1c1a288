"""snowseg.upload without a server: the streamed multipart parse (size limit while streaming, CSRF order, names,
types), the upload folder's confinement and the form tokens."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from snowseg import upload
from snowseg.storage import StorageSettingError

BOUNDARY = "----snowsegtest"
USER = "ada"


def _token(user: str = USER) -> str:
    return upload.csrf_token(user)


def _form(name: str | None, content: bytes, *, token: str | None = None, file_first: bool = False) -> list[bytes]:
    """A multipart body (token field, then the file part), as a browser sends the upload form."""
    token_part = b"" if token is None else (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n".encode())
    filename = "" if name is None else f'; filename="{name}"'
    file_part = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"{filename}\r\n"
                 "Content-Type: text/csv\r\n\r\n").encode() + content + b"\r\n"
    parts = [file_part, token_part] if file_first else [token_part, file_part]
    return [*parts, f"--{BOUNDARY}--\r\n".encode()]


class Body:
    """An async request body in chunks; counts what the receiver pulled."""

    def __init__(self, chunks: list[bytes], size: int = 64 * 1024):
        data = b"".join(chunks)
        self.chunks = [data[i:i + size] for i in range(0, len(data), size)]
        self.pulled = 0

    async def __aiter__(self):
        for chunk in self.chunks:
            self.pulled += len(chunk)
            yield chunk


def _receive(body: Body, target: Path, *, limit: int = 10_000, length: int | None = None) -> upload.Received:
    return asyncio.run(upload.receive(body.__aiter__(), f"multipart/form-data; boundary={BOUNDARY}", user_id=USER,
                                      limit=limit, target=target, content_length=length))


def _left(target: Path) -> list[Path]:
    return [p for p in target.rglob("*") if p.is_file()]


def test_a_form_is_received_into_the_incoming_folder_with_its_hash(tmp_path):
    import hashlib

    content = b"Invoice ID,Branch\n1,A\n"
    got = _receive(Body(_form("sales.csv", content, token=_token())), tmp_path)
    assert (got.original_name, got.safe_name, got.size) == ("sales.csv", "sales.csv", len(content))
    assert got.sha256 == hashlib.sha256(content).hexdigest() and got.partial.read_bytes() == content
    assert got.partial.parent == tmp_path / upload.INCOMING


def test_the_size_limit_stops_the_stream_and_keeps_nothing(tmp_path):
    content = b"x" * 1_000_000
    body = Body(_form("big.csv", content, token=_token()))
    with pytest.raises(upload.UploadTooLarge) as e:
        _receive(body, tmp_path, limit=100_000)
    assert e.value.status == 413 and e.value.limit_bytes == 100_000 and 100_000 < e.value.received <= 100_000 + 65_536
    assert body.pulled < 250_000, "the receiver read on past the limit"
    assert _left(tmp_path) == []


def test_an_announced_length_over_the_limit_is_refused_before_reading(tmp_path):
    body = Body(_form("big.csv", b"x" * 10, token=_token()))
    with pytest.raises(upload.UploadTooLarge):
        _receive(body, tmp_path, limit=1_000, length=10_000_000)
    assert body.pulled == 0 and _left(tmp_path) == []


@pytest.mark.parametrize(("name", "error"), [
    ("../../etc/cron.d/x.csv", upload.UploadBadName), ("..\\x.csv", upload.UploadBadName),
    ("a\x07b.csv", upload.UploadBadName), ("report.xlsx", upload.UploadWrongType), (".csv", upload.UploadWrongType),
])
def test_bad_names_are_refused_before_a_byte_is_written(tmp_path, name, error):
    with pytest.raises(error):
        _receive(Body(_form(name, b"a,b\n", token=_token())), tmp_path)
    assert _left(tmp_path) == []


def test_safe_names_keep_only_plain_characters():
    assert upload.safe_name("Ventes été 2026 (final).CSV") == "Ventes_ete_2026_final.CSV"
    assert upload.safe_name("...hidden.csv.gz") == "hidden.csv.gz"
    assert upload.safe_name("<script>.csv") == "script.csv"
    assert upload.safe_name("€€€.csv") == "upload.csv"
    long = upload.safe_name("a" * 300 + ".csv")
    assert len(long) == upload.NAME_CHARS and long.endswith(".csv")


def test_content_must_agree_with_the_name(tmp_path):
    with pytest.raises(upload.UploadWrongType, match="is not a gzip file"):
        _receive(Body(_form("a.csv.gz", b"a,b\n1,2\n", token=_token())), tmp_path)
    with pytest.raises(upload.UploadWrongType, match="name it .csv.gz"):
        _receive(Body(_form("a.csv", gzip.compress(b"a,b\n"), token=_token())), tmp_path)
    with pytest.raises(upload.UploadWrongType, match="NUL bytes"):
        _receive(Body(_form("a.csv", b"PK\x03\x04\x00\x00", token=_token())), tmp_path)
    assert _left(tmp_path) == []
    got = _receive(Body(_form("a.csv.gz", gzip.compress(b"a,b\n"), token=_token())), tmp_path)
    assert got.safe_name == "a.csv.gz"


def test_no_file_chosen_is_missing(tmp_path):
    with pytest.raises(upload.UploadMissing):
        _receive(Body(_form("", b"", token=_token())), tmp_path)
    with pytest.raises(upload.UploadMissing):
        _receive(Body([f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{_token()}\r\n"
                       f"--{BOUNDARY}--\r\n".encode()]), tmp_path)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("token", [None, "123.abc", "another user", "late"])
def test_csrf_tokens_must_be_this_users_and_come_first(tmp_path, token):
    if token == "another user":
        token = _token("mallory")
    file_first = token == "late"
    if file_first:
        token = _token()
    with pytest.raises(upload.CsrfRefused):
        _receive(Body(_form("a.csv", b"a,b\n", token=token, file_first=file_first)), tmp_path)
    assert _left(tmp_path) == []


def test_csrf_tokens_expire():
    old = upload.csrf_token(USER, now=1_000_000)
    upload.check_csrf_token(old, USER, now=1_000_000 + upload.TOKEN_SECONDS - 1)
    with pytest.raises(upload.CsrfRefused, match="expired"):
        upload.check_csrf_token(old, USER, now=1_000_000 + upload.TOKEN_SECONDS + 1)


def test_origin_checks_apply_to_cookie_logins():
    same = {"host": "h:8080", "origin": "http://h:8080", "sec-fetch-site": "same-origin"}
    upload.check_origin(same, cookie_auth=True)
    for bad in ({"host": "h:8080"}, {"host": "h:8080", "origin": "null"},
                {**same, "sec-fetch-site": "cross-site"}, {**same, "origin": "http://h:8080.evil.example"}):
        with pytest.raises(upload.CsrfRefused):
            upload.check_origin(bad, cookie_auth=True)
    upload.check_origin({"host": "h:8080"}, cookie_auth=False)  # a bearer token is sent on purpose


def test_the_upload_folder_stays_under_the_input_roots(tmp_path, monkeypatch):
    root = tmp_path / "in"
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", str(root))
    monkeypatch.delenv("SNOWSEG_UPLOAD_DIR", raising=False)
    assert upload.upload_dir() == (root / "uploads").resolve()
    monkeypatch.setenv("SNOWSEG_UPLOAD_DIR", str(root / "web"))
    assert upload.upload_dir() == (root / "web").resolve()
    for outside in (str(tmp_path / "elsewhere"), str(root / ".." / "x"), "/etc", "s3://other-bucket/up/"):
        monkeypatch.setenv("SNOWSEG_UPLOAD_DIR", outside)
        with pytest.raises(StorageSettingError):
            upload.upload_dir()


def test_stored_names_are_unique_and_confined(tmp_path, monkeypatch):
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", str(tmp_path))
    target = (tmp_path / "uploads").resolve()
    paths = []
    for _ in range(2):
        got = _receive(Body(_form("sales.csv", b"a,b\n", token=_token())), target)
        paths.append(Path(upload.store(got, target)))
    assert paths[0] != paths[1] and all(p.parent.parent == target and p.name.endswith("-sales.csv") for p in paths)
    assert [p.read_bytes() for p in paths] == [b"a,b\n", b"a,b\n"]
    assert list((target / upload.INCOMING).iterdir()) == []


def test_the_limit_is_the_contracts_small_file_limit():
    assert upload.limit_bytes() == int(upload.default_contract().csv.max_file_mb * 1_000_000) == 50_000_000
