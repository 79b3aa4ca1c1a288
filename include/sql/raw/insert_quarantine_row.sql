insert into {database}.{schema}.{quarantine_table} (
    BATCH_ID, _FILE, _ROW, EXPECTATION, COLUMN_NAME, VALUE, RUN_ID, QUARANTINED_AT
) values (
    %(batch_id)s, %(file)s, %(row)s, %(expectation)s, %(column_name)s, %(value)s, %(run_id)s, %(quarantined_at)s
)
