"""Airflow Assets shared by producer and consumer DAGs, and the segmentation's schedule."""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

from snowseg import settings

# Raised by every load DAG when new rows land in the raw sales table; schedules segment_customers.
RAW_SALES = Asset("raw_sales")

#: Without new data, segments are still refreshed on this cron (SNOWSEG_SEGMENT_SCHEDULE): recency ages daily.
DEFAULT_SEGMENT_CRON = "0 6 * * 1"


def segment_schedule():
    """``segment_customers``' schedule: whenever a load raises :data:`RAW_SALES`, *or* on the cron of
    SNOWSEG_SEGMENT_SCHEDULE (default Mondays 06:00 UTC), whichever comes first (Airflow 3's asset-or-time
    schedule); ``off`` keeps only the Asset.

    Examples
    --------
    >>> type(segment_schedule()).__name__
    'AssetOrTimeSchedule'
    """
    cron = (settings.get("SNOWSEG_SEGMENT_SCHEDULE") or DEFAULT_SEGMENT_CRON).strip()
    if cron.lower() in ("off", "none", "never"):
        return [RAW_SALES]
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(cron, timezone="UTC"), assets=[RAW_SALES])
