"""Query responses as Snowflake sends them: a failed query's own message, the session's TIMEZONE.

- Snowflake's query response carries the error's text ("SQL compilation error: ..."); the client's connector formats
  ``msg`` as "<errno> (<sqlstate>): <query id>: <text>" and keeps the text as ``raw_msg``. fakesnow's server sends
  ``e.msg`` of the connector error the twin raised, which the connector has already formatted in the server
  process, so a client's ``raw_msg`` began "100038 (22018): None: ..." (and a pipeline that stores ``raw_msg``
  stored that). A failed query's message here is the text alone.
- Every response carries the session's parameters, which the connector applies (TIMEZONE decides how it shows
  TIMESTAMP_LTZ values) and writes back into the ``session_parameters`` dict it was given. fakesnow always says
  ``TIMEZONE = Etc/UTC``; here it is the session's zone (session_params), so a client that reuses its
  ``session_parameters`` dict for the next connection does not ask for UTC without meaning to.

install() wraps fakesnow's query route.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import result_chunks


def raw_message(body: dict) -> Any:  # noqa: ANN401
    """The message of a failed query's response body without a leading "<code> (<sqlstate>): [<query id>: ]".

    >>> raw_message({"code": "100038", "data": {"sqlState": "22018"}, "message": "100038 (22018): None: Numeric"})
    'Numeric'
    """
    message, code = body.get("message"), body.get("code")
    state = (body.get("data") or {}).get("sqlState")
    if not isinstance(message, str) or not code:
        return message
    prefix = re.compile(rf"^{re.escape(str(code))} \({re.escape(str(state))}\): (?:(?:None|[0-9a-f-]{{36}}): )?")
    return prefix.sub("", message, count=1)


_FAKESNOW_TIMEZONE = b'{"name":"TIMEZONE","value":"Etc/UTC"}'


def _session_timezone(request: Request) -> str | None:
    auth = request.headers.get("Authorization") or ""
    conn = compat.session(auth[17:-1])  # 'Snowflake Token="<token>"', as fakesnow reads it
    if conn is None:
        return None
    try:
        (zone,) = compat.duck_conn(conn).execute("SELECT current_setting('TimeZone')").fetchone()
    except Exception:  # noqa: BLE001  (a closed session: leave the response as it is)
        return None
    return str(zone)


def _wrap(endpoint: Any) -> Any:  # noqa: ANN401
    async def query_request(request: Request) -> Response:
        response = result_chunks.with_chunks(request, await endpoint(request))
        if _FAKESNOW_TIMEZONE in response.body and (zone := _session_timezone(request)) is not None:
            # the body is JSON text: a byte replacement keeps a large result set from being parsed
            body = response.body.replace(_FAKESNOW_TIMEZONE, json.dumps({"name": "TIMEZONE", "value": zone},
                                                                        separators=(",", ":")).encode(), 1)
            response = Response(body, status_code=response.status_code, media_type="application/json")
        if b'"success":false' not in response.body:  # a result set can be large: parse failures only
            return response
        body = json.loads(response.body)
        raw = raw_message(body)
        if raw == body.get("message"):
            return response
        body["message"] = raw
        return JSONResponse(body, status_code=response.status_code)

    query_request.__snowseg_query_responses__ = True  # type: ignore[attr-defined]
    return query_request


def install() -> None:
    """Wrap fakesnow's query route (the module function and the app's route). Safe to call more than once."""
    if getattr(compat.current("server.query_request"), "__snowseg_query_responses__", False):
        return
    result_chunks.install()
    wrapped = compat.wrap("server.query_request", _wrap, "__snowseg_query_responses__")
    compat.replace_route("/queries/v1/query-request", wrapped, in_route_list=False)
