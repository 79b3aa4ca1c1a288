-- How many rejected records a file (optionally one batch of it) has.
select count(*) as ROWS_REJECTED
from {database}.{schema}.{rejected_table}
where FILE_NAME = %(file_name)s
    and (%(batch_id)s is null or BATCH_ID = %(batch_id)s)
