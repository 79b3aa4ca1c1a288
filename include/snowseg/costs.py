"""What Snowseg's queries cost, per load batch and per model run, read from Snowflake's query history by tag.

Every pipeline session carries a QUERY_TAG (``snowseg.warehouse.query_tag``: JSON with the DAG, task, run, try and,
once known, the load batch or the model run). :func:`read_history` reads Snowseg's queries back through the
Information Schema table function ``QUERY_HISTORY`` (``include/sql/costs/select_query_history.sql``), and
:func:`by_batch` / :func:`of_model_run` sum them: queries, elapsed and execution seconds, and credits.

Credits are an **estimate**: Snowflake bills a warehouse per second while it runs (60 s minimum at each start), not
per query, so the warehouse credits of a query are estimated as its execution time × the credits per hour of its
warehouse's size (:data:`CREDITS_PER_HOUR`, Snowflake's "Overview of warehouses" table for standard warehouses),
plus the query's own ``CREDITS_USED_CLOUD_SERVICES``. Idle time before auto-suspend, and the 60 s minimum, are in
the bill and not here.

Limits of the source (Snowflake's documentation of the QUERY_HISTORY table functions): they return query activity
within the last 7 days only (:data:`HISTORY_DAYS`), and at most 10,000 rows (:data:`HISTORY_MAX_ROWS`, the
RESULT_LIMIT maximum) per call; the role sees its user's queries and those on warehouses it has MONITOR on. A load
older than that, or one whose queries fell past the newest 10,000, shows no cost (None), never a partial sum
presented as complete: :func:`read_history` says when the limit was hit (``truncated``). For a longer history use
the ``SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY`` view (365 days, up to 45 min latency), which needs more privileges.

A model run's cost is every query of the DAG run that produced it (``dag`` and ``run`` of the tag, as MODEL_RUNS
records them: the quality gate and the feature queries run before the model run id is known) and every query tagged
with its model run id.

Examples
--------
>>> rows = [dict(QUERY_ID="q1", QUERY_TAG='{"app":"snowseg","batch":"b1"}', WAREHOUSE_SIZE="X-Small",
...              TOTAL_ELAPSED_TIME=4000, EXECUTION_TIME=3600, CREDITS_USED_CLOUD_SERVICES=0.0001),
...         dict(QUERY_ID="q2", QUERY_TAG='{"app":"snowseg","batch":"b1"}', WAREHOUSE_SIZE="Medium",
...              TOTAL_ELAPSED_TIME=1000, EXECUTION_TIME=900, CREDITS_USED_CLOUD_SERVICES=0),
...         dict(QUERY_ID="q3", QUERY_TAG="someone else's", WAREHOUSE_SIZE="X-Small",
...              TOTAL_ELAPSED_TIME=1, EXECUTION_TIME=1, CREDITS_USED_CLOUD_SERVICES=0)]
>>> c = by_batch(rows)["b1"]
>>> c.queries, c.elapsed_s, c.execution_s, round(c.warehouse_credits, 6), round(c.credits, 6)
(2, 5.0, 4.5, 0.002, 0.0021)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from snowseg import warehouse as wh
from snowseg.warehouse import TAG_BATCH, TAG_MODEL_RUN, Names, read_query_tag

log = logging.getLogger(__name__)

#: Credits per hour of a standard warehouse, by size (https://docs.snowflake.com/en/user-guide/warehouses-overview,
#: "Warehouse size": XS 1, S 2, M 4, L 8, XL 16, 2XL 32, 3XL 64, 4XL 128, 5XL 256, 6XL 512). Keys are sizes as
#: QUERY_HISTORY's WAREHOUSE_SIZE or SHOW WAREHOUSES give them, upper-cased without '-' (X-Small -> XSMALL).
CREDITS_PER_HOUR = {
    "XSMALL": 1, "SMALL": 2, "MEDIUM": 4, "LARGE": 8, "XLARGE": 16, "2XLARGE": 32, "XXLARGE": 32, "X2LARGE": 32,
    "3XLARGE": 64, "XXXLARGE": 64, "X3LARGE": 64, "4XLARGE": 128, "X4LARGE": 128, "5XLARGE": 256, "X5LARGE": 256,
    "6XLARGE": 512, "X6LARGE": 512,
}  # fmt: skip
#: How far back the QUERY_HISTORY table functions reach, and the most rows one call returns (RESULT_LIMIT's maximum).
HISTORY_DAYS, HISTORY_MAX_ROWS = 7, 10_000
#: What the UI says next to credits.
ESTIMATE_NOTE = ("estimate: execution time × the warehouse size's credits per hour, plus cloud services; "
                 "Snowflake bills warehouses per second of uptime (60 s minimum), not per query")


def credits_per_hour(size: str | None) -> float | None:
    """Credits per hour of a warehouse size as Snowflake writes it; None for an unknown size (or no warehouse).

    Examples
    --------
    >>> credits_per_hour("X-Small"), credits_per_hour("2X-Large"), credits_per_hour("LARGE"), credits_per_hour(None)
    (1.0, 32.0, 8.0, None)
    """
    if not size:
        return None
    per_hour = CREDITS_PER_HOUR.get(size.replace("-", "").replace(" ", "").upper())
    return float(per_hour) if per_hour is not None else None


@dataclass(frozen=True)
class Cost:
    """What a set of queries cost: count, seconds, credits (``warehouse_credits`` is an estimate)."""

    queries: int = 0
    elapsed_s: float = 0.0
    execution_s: float = 0.0
    warehouse_credits: float = 0.0
    cloud_services_credits: float = 0.0
    unknown_size_queries: int = 0

    @property
    def credits(self) -> float:
        """Estimated warehouse credits plus the cloud services credits the history reports."""
        return self.warehouse_credits + self.cloud_services_credits

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.queries + other.queries, self.elapsed_s + other.elapsed_s,
                    self.execution_s + other.execution_s, self.warehouse_credits + other.warehouse_credits,
                    self.cloud_services_credits + other.cloud_services_credits,
                    self.unknown_size_queries + other.unknown_size_queries)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the total ``credits`` and ``credits_are_estimated``."""
        return {**asdict(self), "credits": self.credits, "credits_are_estimated": True}


def query_cost(row: Mapping[str, Any]) -> Cost:
    """One QUERY_HISTORY row's cost (times in milliseconds, as the table function gives them).

    Examples
    --------
    >>> query_cost(dict(WAREHOUSE_SIZE="Small", TOTAL_ELAPSED_TIME=2000, EXECUTION_TIME=1800,
    ...                 CREDITS_USED_CLOUD_SERVICES=None)).warehouse_credits
    0.001
    """
    execution_s = float(row.get("EXECUTION_TIME") or 0) / 1000
    per_hour = credits_per_hour(row.get("WAREHOUSE_SIZE"))
    warehouse_credits = execution_s * per_hour / 3600 if per_hour is not None else 0.0
    return Cost(1, float(row.get("TOTAL_ELAPSED_TIME") or 0) / 1000, execution_s, warehouse_credits,
                float(row.get("CREDITS_USED_CLOUD_SERVICES") or 0),
                1 if per_hour is None and row.get("WAREHOUSE_NAME") else 0)  # fmt: skip


def _total(rows: Iterable[Mapping[str, Any]]) -> Cost:
    total = Cost()
    for row in rows:
        total += query_cost(row)
    return total


def by_batch(rows: Iterable[Mapping[str, Any]]) -> dict[str, Cost]:
    """The cost of each load batch: the queries whose tag names it (LOAD_AUDIT.BATCH_ID)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        tag = read_query_tag(row.get("QUERY_TAG"))
        if tag and tag.get(TAG_BATCH):
            groups.setdefault(tag[TAG_BATCH], []).append(row)
    return {batch: _total(group) for batch, group in groups.items()}


def model_run_rows(rows: Iterable[Mapping[str, Any]], model_run_id: str, *, dag_id: str | None = None,
                   run_id: str | None = None) -> list[Mapping[str, Any]]:
    """The queries of a model run: tagged with its id, or run by the DAG run that produced it (dag and run).

    Examples
    --------
    >>> rows = [dict(QUERY_TAG='{"app":"snowseg","dag":"segment_customers","run":"r1","task":"features"}'),
    ...         dict(QUERY_TAG='{"app":"snowseg","dag":"segment_customers","run":"r1","model_run":"m1"}'),
    ...         dict(QUERY_TAG='{"app":"snowseg","dag":"segment_customers","run":"r2","model_run":"m1"}'),
    ...         dict(QUERY_TAG='{"app":"snowseg","dag":"segment_customers","run":"r3"}')]
    >>> len(model_run_rows(rows, "m1", dag_id="segment_customers", run_id="r1"))
    3
    """
    out = []
    for row in rows:
        tag = read_query_tag(row.get("QUERY_TAG"))
        if not tag:
            continue
        if tag.get(TAG_MODEL_RUN) == model_run_id or (
                run_id and tag.get("run") == run_id and (dag_id is None or tag.get("dag") == dag_id)):
            out.append(row)
    return out


def of_model_run(rows: Iterable[Mapping[str, Any]], model_run_id: str, *, dag_id: str | None = None,
                 run_id: str | None = None) -> Cost:
    """The cost of a model run (:func:`model_run_rows`)."""
    return _total(model_run_rows(rows, model_run_id, dag_id=dag_id, run_id=run_id))


@dataclass(frozen=True)
class History:
    """Snowseg's queries in the query history since ``since``; ``truncated`` when the 10,000-row limit was hit."""

    rows: list[dict[str, Any]]
    since: datetime
    truncated: bool


def history_start(oldest: datetime | None, *, now: datetime | None = None) -> datetime:
    """Where to start reading: 5 minutes before `oldest` (naive UTC or aware; the margin covers clocks that
    disagree), but never before the table function's 7 days (with a minute to spare, so the call is never refused);
    aware UTC.

    Examples
    --------
    >>> now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    >>> history_start(datetime(2026, 12, 5, 9, 0), now=now).isoformat(), history_start(None, now=now).isoformat()
    ('2026-12-05T08:55:00+00:00', '2026-11-28T12:01:00+00:00')
    """
    now = now or datetime.now(UTC)
    floor = now - timedelta(days=HISTORY_DAYS) + timedelta(minutes=1)
    if oldest is None:
        return floor
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return max(floor, oldest - timedelta(minutes=5))


def read_history(cur: Any, names: Names, *, since: datetime | None = None) -> History:
    """Snowseg's queries (tagged ``"app":"snowseg"``) whose END_TIME is after `since` (default and floor: 7 days
    ago), newest 10,000 at most, read through ``<database>.INFORMATION_SCHEMA.QUERY_HISTORY``.

    Raises
    ------
    snowflake.connector.errors.ProgrammingError
        As Snowflake raises it (eg: the role may not use the database).
    """
    start = history_start(since)
    rows = wh.run(cur, "costs/select_query_history.sql",
                  {"since": start.isoformat(), "app_tag": f'%"app":"{wh.TAG_APP}"%'}, database=names.database)
    cols = [d[0].upper() for d in cur.description or []]
    found = [dict(zip(cols, r, strict=True)) for r in rows]
    returned = int(found[0]["HISTORY_ROWS"]) if found else 0
    if returned >= HISTORY_MAX_ROWS:
        log.warning("query history: the table function returned its maximum of %d rows since %s; older queries are "
                    "not counted", HISTORY_MAX_ROWS, start.isoformat())
    return History(found, start, truncated=returned >= HISTORY_MAX_ROWS)


def report_model_run(cur: Any, names: Names, *, model_run_id: str, report_path: str | None, dag_id: str | None,
                     run_id: str | None, since: datetime | None = None) -> Cost:
    """The model run's cost (:func:`of_model_run`) read from the query history, written into its run report's
    "Cost" section when the report is there (``snowseg.report.add_cost_section``). The summarise step calls it after
    publishing, so the figures cover every stage up to publish."""
    from pathlib import Path

    from snowseg import report

    history = read_history(cur, names, since=since)
    cost = of_model_run(history.rows, model_run_id, dag_id=dag_id, run_id=run_id)
    if report_path and Path(report_path).is_file():
        report.add_cost_section(Path(report_path).parent, model_run_id=model_run_id, queries=cost.queries,
                                elapsed_s=cost.elapsed_s, execution_s=cost.execution_s,
                                warehouse_credits=cost.warehouse_credits,
                                cloud_services_credits=cost.cloud_services_credits, note=ESTIMATE_NOTE)
    log.info("model run %s: %d queries, %.1f s elapsed, %.5f credits (estimate)", model_run_id, cost.queries,
             cost.elapsed_s, cost.credits)
    return cost
