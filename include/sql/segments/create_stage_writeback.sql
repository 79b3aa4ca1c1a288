-- Internal stage for writeback files: results go up as one compressed file, not row-by-row inserts.
create stage if not exists {database}.{schema}.SNOWSEG_WRITEBACK
