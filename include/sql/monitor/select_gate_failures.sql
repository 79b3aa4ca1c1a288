-- The rules a gate run failed, errors before warnings.
select BATCH_ID, EXPECTATION, EXPECTATION_TYPE, COLUMN_NAME, SEVERITY, UNEXPECTED_COUNT, ELEMENT_COUNT, OBSERVED_VALUE
from {database}.{schema}.DQ_RESULTS
where RUN_ID = %(run_id)s
    and not SUCCESS
order by SEVERITY, EXPECTATION, BATCH_ID
