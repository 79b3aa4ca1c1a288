-- The last successful load of a file with this content into this table, if any.
select BATCH_ID, ROWS_LOADED, FINISHED_AT
from {database}.{schema}.LOAD_AUDIT
where CHECKSUM = %(checksum)s
    and TARGET_TABLE = %(target_table)s
    and STATUS in ('LOADED', 'PARTIALLY_LOADED')
order by FINISHED_AT desc
limit 1
