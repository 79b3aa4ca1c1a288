"""Where Snowseg reads inputs and writes reports and alerts: a local path, or an object-storage URL.

Every place that takes a location from a param or a setting goes through here, through Airflow's
``ObjectStoragePath``:

- **inputs** (a load DAG's ``file_path``/``path``): a local path (confined by :mod:`snowseg.inputs`) or an
  ``s3://bucket/prefix/...`` URL: a file, a prefix (its ``*.csv`` objects) or a glob. A URL must lie under one of
  the object-storage roots of ``SNOWSEG_INPUT_ROOTS`` (:func:`confine_url`); an object is streamed to a
  worker-local temporary file before it is checked and loaded (:func:`fetch`).
- **bases** of the run reports (``SNOWSEG_REPORT_DIR``) and of the alerts (``SNOWSEG_ALERTS_FILE``): a local
  path or a ``file://`` URL (one machine), or ``s3://bucket/prefix/`` (several machines): :func:`base`.

The rules for a URL, decided on its text alone (never on whether an object exists):

- its scheme is one Snowseg knows (``s3``; ``file`` for the bases);
- no credentials and no connection id in it (``s3://user:secret@bucket``): the connection is always
  ``SNOWSEG_AWS_CONN_ID``. The refusal shows the URL without them;
- no query or fragment, no NUL, no empty, ``.`` or ``..`` segment, no segment starting with ``.``;
- an input is under an input root: the same bucket, and its key below the root's prefix.

A refused input raises :class:`snowseg.errors.InputRefused` (as a refused local path does); a bad setting
raises :class:`StorageSettingError`.

``s3://`` needs a filesystem: the Amazon provider's (``s3fs``) when installed; otherwise the boto3 one of
:mod:`snowseg.botofs`, attached to the same connection (:func:`attach_s3`).

Examples
--------
>>> parse_url("s3://landing/sales/2026/a.csv")
ObjectUrl(scheme='s3', bucket='landing', key='sales/2026/a.csv')
>>> parse_url("s3://AKIA:hunter2@landing/a.csv")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
snowseg.errors.InputRefused: input 's3://***@landing/a.csv' refused: credentials or a connection id in the URL...
>>> roots = [parse_url("s3://landing/sales/")]
>>> confine_url("s3://landing/sales/2026/*.csv", roots).url
's3://landing/sales/2026/*.csv'
>>> confine_url("s3://landing/other/a.csv", roots)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
snowseg.errors.InputRefused: input 's3://landing/other/a.csv' refused: it is outside the input roots...
>>> split_list("/data:s3://landing/sales/:/more")
['/data', 's3://landing/sales/', '/more']
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from snowseg import settings
from snowseg.errors import InputError, InputNotFound, InputRefused

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: Object-storage schemes an input may use.
INPUT_SCHEMES = ("s3",)
#: Schemes a report or alerts base may use (``file`` = a local folder, as a plain path).
BASE_SCHEMES = ("file", "s3")
GLOB_CHARS = "*?["
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


class StorageSettingError(InputError):
    """A storage setting (``setting``) whose value is not a usable location, for ``reason``; ``shown`` is the
    value without any credentials."""

    def __init__(self, setting: str, shown: str, reason: str):
        self.setting, self.shown, self.reason = setting, shown, reason
        super().__init__(f"{setting}={shown!r} is not a usable location: {reason}")


@dataclass(frozen=True)
class ObjectUrl:
    """An object-storage location: ``scheme://bucket/key`` (a key ending in ``/``, or empty, is a prefix)."""

    scheme: str
    bucket: str
    key: str

    @property
    def url(self) -> str:
        """The URL as Snowseg shows and records it (never with a connection id or credentials)."""
        return f"{self.scheme}://{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        """The last segment of the key (an object's file name)."""
        return PurePosixPath(self.key).name

    @property
    def prefix(self) -> str:
        """The key as a folder prefix: empty, or ending in ``/``."""
        return self.key if not self.key or self.key.endswith("/") else self.key + "/"

    def child(self, relative: str) -> ObjectUrl:
        """The location `relative` (``/``-separated, already checked) below this prefix."""
        return ObjectUrl(self.scheme, self.bucket, self.prefix + relative)

    def under(self, root: ObjectUrl) -> bool:
        """Whether this location is the root or below it.

        >>> parse_url("s3://b/sales/a.csv").under(parse_url("s3://b/sales"))
        True
        >>> parse_url("s3://b/salesx/a.csv").under(parse_url("s3://b/sales"))
        False
        """
        return (self.scheme, self.bucket) == (root.scheme, root.bucket) and (
            not root.key or self.prefix.startswith(root.prefix))


def is_url(text: str | os.PathLike) -> bool:
    """Whether `text` is a URL (``scheme://...``) rather than a local path.

    >>> is_url("s3://b/a.csv"), is_url("/data/a.csv"), is_url("file:///data")
    (True, False, True)
    """
    return bool(_SCHEME.match(str(text)))


def _shown(text: str) -> str:
    """The URL without whatever is between ``://`` and ``@`` (credentials are never echoed)."""
    m = _SCHEME.match(text)
    if not m:
        return text
    rest = text[m.end():]
    host, sep, tail = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rpartition("@")[2]
    return f"{m.group(0)}{host}{sep}{tail}".replace("\x00", "\\x00")


def _refuse(text: str, reason: str, roots: list[str] | None = None) -> InputRefused:
    return InputRefused(_shown(text), reason, roots=roots or [])


def parse_url(text: str, *, schemes: tuple[str, ...] = INPUT_SCHEMES, roots: list[str] | None = None) -> ObjectUrl:
    """An object-storage URL, checked (see the module's rules; confinement to roots is :func:`confine_url`'s).

    Raises
    ------
    InputRefused
        Another scheme, credentials, a query, a NUL, an empty bucket, or a ``.``/``..``/dot segment.

    Examples
    --------
    >>> parse_url("s3://b/sales/../secret.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.errors.InputRefused: input 's3://b/sales/../secret.csv' refused: a '.' or '..' segment...
    >>> parse_url("s3://b/sales/.keys/a.csv").key  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.errors.InputRefused: input 's3://b/sales/.keys/a.csv' refused: a dot-file or dot-folder ('.keys')...
    """
    m = _SCHEME.match(text)
    if not m or m.group(1).lower() not in schemes:
        raise _refuse(text, f"not a URL of {', '.join(s + '://' for s in schemes)}", roots)
    rest = text[m.end():]
    host, _, key = rest.partition("/")
    if "@" in host:
        raise _refuse(text, "credentials or a connection id in the URL; the connection is set by SNOWSEG_AWS_CONN_ID "
                            "(never put credentials in a URL)", roots)
    if "\x00" in text:
        raise _refuse(text, "the URL contains a NUL byte", roots)
    if "?" in rest or "#" in rest or "\\" in rest:
        raise _refuse(text, "a query, fragment or backslash in the URL", roots)
    if not host or ":" in host:
        raise _refuse(text, "no bucket (or a port) in the URL", roots)
    parts = key.split("/")
    inner = parts[:-1] if key.endswith("/") else parts
    if key and any(p in ("", ".", "..") for p in inner):
        raise _refuse(text, "a '.' or '..' segment, or an empty one ('//'), in the key", roots)
    if hidden := [p for p in inner if p.startswith(".")]:
        raise _refuse(text, f"a dot-file or dot-folder ({hidden[0]!r}) is never an input", roots)
    return ObjectUrl(m.group(1).lower(), host, key)


def split_list(value: str | None) -> list[str]:
    """A list setting of paths and URLs, separated by ``os.pathsep`` (a ``:`` before ``//`` is a URL's)."""
    if not value:
        return []
    pieces = re.split(r":(?!//)", value) if os.pathsep == ":" else value.split(os.pathsep)
    return [p.strip() for p in pieces if p.strip()]


def confine_url(text: str, roots: list[ObjectUrl]) -> ObjectUrl:
    """The URL of an allowed input (a file, a prefix or a glob below one of `roots`); InputRefused if not."""
    shown = [r.url for r in roots]
    url = parse_url(text, roots=shown)
    fixed = _fixed_part(url)
    if not any(fixed.under(r) for r in roots):
        raise _refuse(text, "it is outside the input roots", shown)
    return url


def _fixed_part(url: ObjectUrl) -> ObjectUrl:
    """The prefix before the first segment with a glob character (the URL itself when there is none)."""
    parts = url.key.split("/")
    cut = next((i for i, p in enumerate(parts) if any(ch in p for ch in GLOB_CHARS)), None)
    return url if cut is None else ObjectUrl(url.scheme, url.bucket, "/".join(parts[:cut]) + "/" if cut else "")


def expand_url(text: str, roots: list[ObjectUrl]) -> list[ObjectUrl]:
    """An object, every ``*.csv`` directly under a prefix, or a glob's objects, sorted; each confined.

    Raises
    ------
    InputRefused
        The URL (or the glob's fixed prefix) is not an allowed input.
    InputNotFound
        Nothing matches.
    """
    url = confine_url(text, roots)
    fs_path = object_path(url)
    fixed = _fixed_part(url)
    if fixed != url:  # a glob: every segment matched on its own ('*' never crosses '/')
        pattern = url.key.split("/")
        keys = [k for k in _keys_under(fixed) if len(k.split("/")) == len(pattern)
                and all(fnmatch.fnmatchcase(p, q) for p, q in zip(k.split("/"), pattern, strict=True))]
    elif not url.key.endswith("/") and url.key and fs_path.is_file():
        keys = [url.key]
    else:
        keys = [k for k in _keys_under(url, depth=1) if k.lower().endswith(".csv")]
    found = []
    for k in sorted(keys):
        try:
            found.append(confine_url(ObjectUrl(url.scheme, url.bucket, k).url, roots))
        except InputRefused:  # a dot-file below the prefix: not an input
            continue
    if not found:
        raise InputNotFound(f"no CSV object matches {url.url!r} (give an object, a prefix or a glob)")
    return found


def _keys_under(prefix: ObjectUrl, depth: int | None = None) -> Iterator[str]:
    """Keys of the objects below `prefix` (at most `depth` segments down)."""
    fs = object_path(prefix).fs
    for name in fs.find(f"{prefix.bucket}/{prefix.prefix}", maxdepth=depth):
        yield str(name).split("/", 1)[1]


def aws_conn_id() -> str:
    """The Airflow connection object storage is reached through (``SNOWSEG_AWS_CONN_ID``)."""
    return settings.value("SNOWSEG_AWS_CONN_ID")


def attach_s3(conn_id: str) -> None:
    """Make ``s3://`` usable by ``ObjectStoragePath`` with `conn_id`: the provider's filesystem when ``s3fs`` is
    installed, else :class:`snowseg.botofs.BotoS3FileSystem` over the connection's S3Hook client (once per
    process and connection)."""
    import importlib.util

    if importlib.util.find_spec("s3fs") is not None:  # the provider's filesystem works: nothing to attach
        return
    from airflow.sdk.io import store

    if f"s3-{conn_id}" in store._STORE_CACHE:
        return
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from snowseg.botofs import BotoS3FileSystem

    store.attach("s3", conn_id=conn_id, fs=BotoS3FileSystem(S3Hook(aws_conn_id=conn_id).get_conn()))


def object_path(url: ObjectUrl) -> ObjectStoragePath:
    """The ``ObjectStoragePath`` of a checked URL, through ``SNOWSEG_AWS_CONN_ID``."""
    from airflow.sdk import ObjectStoragePath

    conn_id = aws_conn_id()
    attach_s3(conn_id)
    return ObjectStoragePath(url.url, conn_id=conn_id)


def fetch(url: ObjectUrl, folder: Path) -> Path:
    """Stream the object to ``folder/<its name>`` (a worker-local copy) and return that path.

    Raises
    ------
    InputNotFound
        No object at the URL.
    """
    src = object_path(url)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / url.name
    if not url.name or not src.is_file():
        raise InputNotFound(f"no object at {url.url!r}")
    src.fs.get_file(src.path, str(dest))
    return dest


# --- report and alert bases ---------------------------------------------------------------------------------


def base(setting: str, value: str) -> Path | ObjectStoragePath:
    """The location a base setting names: a local ``Path`` (a path, or a ``file://`` URL), or the
    ``ObjectStoragePath`` of an ``s3://`` prefix.

    Raises
    ------
    StorageSettingError
        Another scheme, credentials in the URL, or a ``..``/dot segment.

    Examples
    --------
    >>> base("SNOWSEG_REPORT_DIR", "file:///srv/reports")
    PosixPath('/srv/reports')
    >>> base("SNOWSEG_REPORT_DIR", "/srv/reports")
    PosixPath('/srv/reports')
    >>> base("SNOWSEG_REPORT_DIR", "s3://k:pw@reports/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.storage.StorageSettingError: SNOWSEG_REPORT_DIR='s3://***@reports/run' is not a usable location: ...
    """
    if not is_url(value):
        return Path(value)
    if value.lower().startswith("file://"):
        rest = value[len("file://"):]
        if rest and not rest.startswith("/"):
            raise StorageSettingError(setting, _shown(value), "a file:// URL names a local folder: file:///folder")
        return Path(rest or "/")
    try:
        url = parse_url(value, schemes=BASE_SCHEMES)
    except InputRefused as e:
        raise StorageSettingError(setting, e.path, e.reason) from None
    return object_path(url)


def local_folder(setting: str, value: str) -> Path | None:
    """The local path a base setting names (a path or a ``file://`` URL), or None for object storage.

    >>> local_folder("SNOWSEG_REPORT_DIR", "file:///srv/r"), local_folder("SNOWSEG_REPORT_DIR", "s3://b/r/")
    (PosixPath('/srv/r'), None)
    """
    if is_url(value) and not value.lower().startswith("file://"):
        return None
    found = base(setting, value)
    return found if isinstance(found, Path) else None


def below(root: Path | ObjectStoragePath, relative: str) -> Path | ObjectStoragePath:
    """`relative` (``/``-separated) below a base, checked on its text: never ``..``, ``.``, an empty or absolute
    segment, a backslash or a NUL (:class:`ValueError` otherwise). Local symlinks are the caller's business.

    >>> below(Path("/srv/r"), "run/index.html")
    PosixPath('/srv/r/run/index.html')
    >>> below(Path("/srv/r"), "run/../../etc")
    Traceback (most recent call last):
    ...
    ValueError: not a path below the base
    """
    parts = relative.split("/")
    if (not relative or "\x00" in relative or "\\" in relative or relative.startswith("/")
            or any(p in ("..", ".") for p in parts) or "" in parts[:-1]):
        raise ValueError("not a path below the base")
    return root.joinpath(*[p for p in parts if p])


def publish_dir(folder: Path, target: ObjectStoragePath) -> list[str]:
    """Copy every file below `folder` to the same relative key below `target`; return the keys written."""
    written = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        dest = target.joinpath(*f.relative_to(folder).parts)
        with f.open("rb") as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        written.append(str(dest.path))
    return written


def shown(location: Path | ObjectStoragePath | Any) -> str:
    """A base or object as Snowseg shows it: a local path, or ``s3://bucket/key`` (no connection id).

    >>> shown(Path("/srv/r"))
    '/srv/r'
    """
    if isinstance(location, Path):
        return str(location)
    return f"{location.protocol}://{location.path}"
