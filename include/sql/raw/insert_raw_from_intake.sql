-- A small-file batch from the intake table into the raw table, with its lineage.
insert into {database}.{schema}.{table} ({columns}, _FILE, _ROW, _LOAD_PATH, _LOADED_AT, _BATCH_ID)
select {header_names}, _FILE, _ROW, %(load_path)s, %(loaded_at)s, %(batch_id)s
from {database}.{schema}.{intake_table}
where _FILE = %(staged_file)s
