-- A throwaway table: can the role create tables in the schema? Dropped at once.
create transient table {database}.{schema}.{probe} (ok boolean)
