insert into {database}.{schema}.LANDING_INTAKE (
    LANDING_URL, FILE_URL, FILE_SIZE, FILE_MODIFIED_AT, TARGET_TABLE, LOAD_PATH, STATUS, BATCH_ID,
    AIRFLOW_DAG_ID, AIRFLOW_RUN_ID, TAKEN_AT
) values (
    %(landing_url)s, %(file_url)s, %(file_size)s, %(file_modified_at)s, %(target_table)s, %(load_path)s, %(status)s,
    %(batch_id)s, %(dag_id)s, %(run_id)s, %(taken_at)s
)
