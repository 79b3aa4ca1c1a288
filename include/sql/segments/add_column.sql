-- Add a column that a newer version of a table has (tables created by an earlier Snowseg); a no-op if present.
alter table {database}.{schema}.{table} add column if not exists {column} {column_type}
