-- The latest files of each load path (at most %(per_path)s per path), newest first: the monitor's loads table.
with source as (
    select AUDIT_ID, BATCH_ID, FILE_NAME, LOAD_PATH, TARGET_TABLE, STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED,
        FIRST_ERROR, FIRST_ERROR_LINE, FIRST_ERROR_COLUMN, STARTED_AT, FINISHED_AT, AIRFLOW_DAG_ID, AIRFLOW_RUN_ID
    from {database}.{schema}.LOAD_AUDIT
),
final as (
    select *
    from source
    qualify row_number() over (partition by LOAD_PATH order by STARTED_AT desc nulls last, AUDIT_ID) <= %(per_path)s
)
select * from final order by LOAD_PATH, STARTED_AT desc nulls last, AUDIT_ID
