"""Where a pipe's COPY reads: an external S3 location or an internal stage directory, and the files under it."""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from duckdb import DuckDBPyConnection

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import s3_stages
from snowseg_twin.extensions._staged_files import list_prefix
from snowseg_twin.extensions.pipes.catalog import Pipe, root_connection


@dataclass(frozen=True)
class Location:
    """Where a pipe's COPY reads: an external S3 location or an internal stage directory."""

    url: str  # s3://bucket/prefix/path or the internal stage's local directory (+ path)
    ext: s3_stages.ExternalStage | None
    key: str  # S3 key prefix of the FROM location (external only)

    def file_url(self, path: str) -> str:
        base = self.url if self.url.endswith("/") or not self.url else f"{self.url}/"
        return f"{base}{path}"

    def relative(self, url: str) -> str | None:
        """The path of url relative to this location, or None if it is outside it."""
        base = self.url if self.url.endswith("/") else f"{self.url}/"
        if url.startswith(base):
            return url[len(base) :]
        return None

    def list(self, prefix: str = "") -> list[tuple[str, int, str]]:
        """(path relative to the location, size, url) of every file under location + prefix."""
        return [(rel, size, url) for rel, size, url, _ in self.list_dated(prefix)]

    def list_dated(self, prefix: str = "") -> list[tuple[str, int, str, datetime.datetime]]:
        """(path relative to the location, size, url, last modified in UTC) of every file under location + prefix."""
        if self.ext is not None:
            base = self.key if not self.key or self.key.endswith("/") else f"{self.key}/"
            out = []
            for o in s3_stages.list_objects(self.ext, f"{base}{prefix}"):
                url = self.ext.url_of(o.key)
                rel = self.relative(url)
                if rel is not None:
                    out.append((rel, o.size, url, _utc(o.last_modified)))
            return out
        duck = root_connection().cursor()
        try:
            files = list_prefix(self.file_url(prefix), duck)
        finally:
            duck.close()
        return [(rel, os.path.getsize(f.path), f.path, _mtime(f.path)) for f in files
                if (rel := self.relative(f.path)) is not None]


def _utc(t: datetime.datetime) -> datetime.datetime:
    return t.astimezone(datetime.UTC) if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def _mtime(path: str) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.UTC)


def location(pipe: Pipe, duck_conn: DuckDBPyConnection | None = None) -> Location:
    """Where the pipe's COPY reads (its FROM stage + path)."""
    if duck_conn is None:
        with root_connection().cursor() as duck:
            return location(pipe, duck)
    duck = duck_conn
    resolved = s3_stages.resolve(pipe.source, duck, pipe.catalog, pipe.schema)
    if resolved is not None:
        ext, path = resolved
        key = ext.key(path)
        return Location(ext.url_of(key), ext, key)
    table = compat.extract_table(pipe.copy().this)
    url = compat.stage_url_from_var(
        pipe.source, duck, pipe.catalog, pipe.schema, compat.TableStages(duck), table
    )
    return Location(url, None, "")


def accepts(pipe: Pipe, loc: Location, url: str, path: str) -> bool:
    """Whether the pipe's PATTERN (if any) matches a file: the whole path relative to the stage."""
    if not pipe.pattern:
        return True
    name = loc.ext.name(url[len("s3://") :].partition("/")[2]) if loc.ext else path
    return re.fullmatch(pipe.pattern, name) is not None
