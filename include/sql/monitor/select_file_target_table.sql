-- The raw table a file (optionally one batch of it) was loaded into, from its latest LOAD_AUDIT row.
select TARGET_TABLE
from {database}.{schema}.LOAD_AUDIT
where FILE_NAME = %(file_name)s
    and (%(batch_id)s is null or BATCH_ID = %(batch_id)s)
order by STARTED_AT desc nulls last
limit 1
