-- The gate's verdicts so far on a raw table's batches, newest first.
select BATCH_ID, STATUS, ROWS_CHECKED, ROWS_QUARANTINED, FAILED_ERRORS, RUN_ID, CHECKED_AT
from {database}.{schema}.BATCH_GATE
where TARGET_TABLE = %(target_table)s
order by CHECKED_AT desc, BATCH_ID
limit 200
