-- A load batch's latest LOAD_AUDIT row: what make test-snowflake checks after each load.
select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, AIRFLOW_RUN_ID
from {database}.{schema}.LOAD_AUDIT
where BATCH_ID = %(batch_id)s and TARGET_TABLE = %(target_table)s
order by FINISHED_AT desc
limit 1
