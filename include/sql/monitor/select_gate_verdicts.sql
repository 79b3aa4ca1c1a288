-- The quality gate's latest verdicts on load batches, newest first.
select BATCH_ID, TARGET_TABLE, STATUS, ROWS_CHECKED, ROWS_QUARANTINED, FAILED_ERRORS, RUN_ID, CHECKED_AT
from {database}.{schema}.BATCH_GATE
order by CHECKED_AT desc, BATCH_ID
limit %(limit)s
