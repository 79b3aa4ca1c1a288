insert into {database}.{schema}.{rejected_table} (
    BATCH_ID, LOAD_PATH, FILE_NAME, STAGED_FILE, LINE, CHARACTER, COLUMN_NAME, ERROR, CODE, REJECTED_RECORD, REJECTED_AT
) values (
    %(batch_id)s, %(load_path)s, %(file_name)s, %(staged_file)s, %(line)s, %(character)s, %(column_name)s,
    %(error)s, %(code)s, %(rejected_record)s, %(rejected_at)s
)
