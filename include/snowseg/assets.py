"""Airflow Assets shared by producer and consumer DAGs."""

from airflow.sdk import Asset

# Raised by every load DAG when new rows land in the raw sales table; schedules segment_customers.
RAW_SALES = Asset("raw_sales")
