-- Load staged CSV files into the raw table, adding lineage from the file's metadata.
copy into {database}.{schema}.{table} ({columns}, _FILE, _ROW, _LOAD_PATH, _LOADED_AT, _BATCH_ID)
from (
    select {positions}, metadata$filename, metadata$file_row_number, {load_path}, current_timestamp(), {batch_id}
    from {stage_path}
)
{file_selection}
file_format = (format_name = {file_format})
on_error = {on_error}
