-- The landing files (URL, size, last-modified) already taken for this landing and table: not read again.
select distinct FILE_URL, FILE_SIZE, FILE_MODIFIED_AT
from {database}.{schema}.LANDING_INTAKE
where LANDING_URL = %(landing_url)s
    and TARGET_TABLE = %(target_table)s
