insert into {database}.{schema}.LOAD_AUDIT (
    AUDIT_ID, BATCH_ID, FILE_NAME, FILE_PATH, STAGE_PATH, LOAD_PATH, TARGET_TABLE, STATUS,
    ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, BYTES, CHECKSUM,
    FIRST_ERROR, FIRST_ERROR_LINE, FIRST_ERROR_CHARACTER, FIRST_ERROR_COLUMN,
    STARTED_AT, FINISHED_AT, AIRFLOW_DAG_ID, AIRFLOW_RUN_ID
) values (
    %(audit_id)s, %(batch_id)s, %(file_name)s, %(file_path)s, %(stage_path)s, %(load_path)s, %(target_table)s,
    %(status)s, %(rows_parsed)s, %(rows_loaded)s, %(rows_rejected)s, %(bytes)s, %(checksum)s,
    %(first_error)s, %(first_error_line)s, %(first_error_character)s, %(first_error_column)s,
    %(started_at)s, %(finished_at)s, %(dag_id)s, %(run_id)s
)
