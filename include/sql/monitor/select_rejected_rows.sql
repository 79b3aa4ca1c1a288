-- One page of a file's rejected records: where in the source file, which column, why, and the raw record.
select BATCH_ID, LOAD_PATH, FILE_NAME, LINE, CHARACTER, COLUMN_NAME, ERROR, CODE, REJECTED_RECORD, REJECTED_AT
from {database}.{schema}.{rejected_table}
where FILE_NAME = %(file_name)s
    and (%(batch_id)s is null or BATCH_ID = %(batch_id)s)
order by BATCH_ID, LINE nulls last, COLUMN_NAME
limit %(limit)s offset %(offset)s
