"""Large query results in chunks the connector downloads when it reads them, as Snowflake sends them.

Emulates Snowflake's result protocol for big results: the query's answer holds the first rows inline
(``rowsetBase64``) and a list of ``chunks`` ({url, rowCount, uncompressedSize, compressedSize}); the connector
fetches a chunk (an Arrow IPC stream) only when the cursor's iteration reaches it. So a client that executes a
query for its column names only (Great Expectations' column reflection runs a custom query as it is) costs the
query, not a transfer of every row.

How: fakesnow's ``to_ipc`` (the inline result) is wrapped: a result of more than ``chunk_rows()`` rows
(SNOWSEG_TWIN_RESULT_CHUNK_ROWS, default 100,000) keeps its first chunk inline and writes the others as Arrow IPC
files under ``<twin home>/results/``; the query route's answer then lists them with the twin's own URL
(``GET /twin/results/<name>``). Files older than an hour are removed when new ones are written.

Differs from Snowflake: chunks are plain HTTP from the twin (no presigned S3 URL, no result encryption), a fixed
number of rows each; the whole result is still computed (and held by fakesnow as one Arrow table) before the
answer, so memory peaks at about twice the result's Arrow size.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from snowseg_twin.extensions import _fakesnow_compat as compat

_written: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("result_chunks", default=None)
_NAME = re.compile(r"[0-9a-f]{32}\.arrow")
MAX_AGE_SECONDS = 3600


def chunk_rows() -> int:
    return max(1, int(os.environ.get("SNOWSEG_TWIN_RESULT_CHUNK_ROWS", "100000")))


def results_dir() -> Path:
    home = getattr(compat.shared_fs(), "home", None)
    folder = Path(home) / "results" if home else Path(tempfile.gettempdir()) / "snowseg-twin-results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for f in folder.glob("*.arrow"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass


def wrap_to_ipc(to_ipc: Any) -> Any:  # noqa: ANN401
    def chunked_to_ipc(table: pa.Table) -> pa.Buffer:
        n, size = table.num_rows, chunk_rows()
        if n <= size:
            return to_ipc(table)
        folder = results_dir()
        _sweep(folder)
        written = []
        for offset in range(size, n, size):
            data = to_ipc(table.slice(offset, size))
            name = f"{uuid.uuid4().hex}.arrow"
            (folder / name).write_bytes(data.to_pybytes())
            written.append({"name": name, "rowCount": min(size, n - offset), "uncompressedSize": data.size,
                            "compressedSize": data.size})
        _written.set(written)
        return to_ipc(table.slice(0, size))

    chunked_to_ipc.__snowseg_result_chunks__ = True  # type: ignore[attr-defined]
    return chunked_to_ipc


def with_chunks(request: Request, response: Response) -> Response:
    """The query route's answer with the chunks its result was cut into (if any) listed, as Snowflake lists them."""
    written = _written.get()
    if not written:
        return response
    _written.set(None)
    body = json.loads(response.body)
    base = str(request.base_url).rstrip("/")
    body["data"]["chunks"] = [{"url": f"{base}/twin/results/{c['name']}", **{k: v for k, v in c.items() if k != "name"}}
                              for c in written]
    return JSONResponse(body, status_code=response.status_code)


async def chunk(request: Request) -> Response:
    """GET /twin/results/<name>: one chunk, an Arrow IPC stream."""
    name = request.path_params["name"]
    path = results_dir() / name
    if not _NAME.fullmatch(name) or not path.is_file():
        return JSONResponse({"success": False, "message": "no such result chunk"}, status_code=404)
    return FileResponse(path, media_type="application/octet-stream")


def install() -> None:
    compat.wrap("server.to_ipc", wrap_to_ipc, "__snowseg_result_chunks__")
    compat.add_route("/twin/results/{name}", chunk, methods=["GET"])
