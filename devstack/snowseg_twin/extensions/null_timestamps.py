"""NULL timestamps over HTTP stay NULL.

Snowflake sends a NULL TIMESTAMP_NTZ/LTZ/TZ as a null value. fakesnow 0.12.1 builds the
(epoch, fraction[, timezone]) struct the connector expects without the array's null mask, so a
NULL timestamp reaches the client as 1970-01-01 00:00:00. This keeps the mask (children are
filled with 0 under it, as the struct fields are declared non-nullable).

fakesnow also refuses time zones other than UTC in zoned timestamps; a session whose TIMEZONE is not UTC
(session_params) produces them. They are sent as the same instants in UTC.

Differs from Snowflake: a TIMESTAMP_LTZ/TZ value reaches the client with offset +00:00, not the session's.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_original = None


def timestamp_to_sf_struct(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """fakesnow's conversion, with the null mask carried over to the struct."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if isinstance(ts.type, pa.TimestampType) and ts.type.tz and ts.type.tz != "UTC":
        ts = ts.cast(pa.timestamp(ts.type.unit, tz="UTC"))  # the same instants
    struct = _original(ts.fill_null(0) if ts.null_count else ts)
    if not ts.null_count:
        return struct
    fields = [struct.type.field(i) for i in range(struct.type.num_fields)]
    children = [struct.field(i) for i in range(struct.type.num_fields)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=pc.is_null(ts))


def install() -> None:
    """Replace fakesnow.arrow.timestamp_to_sf_struct (idempotent)."""
    from snowseg_twin.extensions import _fakesnow_compat as compat

    compat.wrap("arrow.timestamp_to_sf_struct", _keep_original, "__snowseg_null_timestamps__")


def _keep_original(original: Any) -> Any:  # noqa: ANN401
    """Remember fakesnow's conversion; ours replaces it."""
    global _original
    _original = original
    return timestamp_to_sf_struct


timestamp_to_sf_struct.__snowseg_null_timestamps__ = True  # type: ignore[attr-defined]
