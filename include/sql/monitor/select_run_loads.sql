-- The LOAD_AUDIT rows of one Airflow run (an upload's fate on the loads monitor), newest first.
select AUDIT_ID, BATCH_ID, FILE_NAME, FILE_PATH, LOAD_PATH, STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED,
    FIRST_ERROR, FIRST_ERROR_LINE, FIRST_ERROR_CHARACTER, FIRST_ERROR_COLUMN, STARTED_AT, FINISHED_AT
from {database}.{schema}.LOAD_AUDIT
where AIRFLOW_DAG_ID = %(dag_id)s and AIRFLOW_RUN_ID = %(run_id)s
order by STARTED_AT desc nulls last, AUDIT_ID
