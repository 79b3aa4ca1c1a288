insert into {database}.{schema}.BATCH_GATE (
    BATCH_ID, TARGET_TABLE, STATUS, ROWS_CHECKED, ROWS_QUARANTINED, FAILED_ERRORS, RUN_ID, CHECKED_AT
) values (
    %(batch_id)s, %(target_table)s, %(status)s, %(rows_checked)s, %(rows_quarantined)s, %(failed_errors)s,
    %(run_id)s, %(checked_at)s
)
