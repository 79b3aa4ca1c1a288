-- The columns the ANALYTICS tables have now (to add the ones a newer Snowseg needs).
select TABLE_NAME, COLUMN_NAME
from {database}.INFORMATION_SCHEMA.COLUMNS
where TABLE_SCHEMA = %(schema)s and TABLE_NAME in ('MODEL_RUNS', 'SEGMENT_PROFILES')
