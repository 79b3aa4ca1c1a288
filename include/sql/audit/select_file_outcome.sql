-- An earlier outcome (e.g. REFUSED, FAILED) of a file with this content for this table and load path, if any.
select BATCH_ID, FINISHED_AT
from {database}.{schema}.LOAD_AUDIT
where CHECKSUM = %(checksum)s
    and TARGET_TABLE = %(target_table)s
    and LOAD_PATH = %(load_path)s
    and STATUS = %(status)s
limit 1
