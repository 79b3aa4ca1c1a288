-- Snowpipe into the raw table: each new file under the landing stage, lineage kept; the batch id is the
-- file's folder (snowpipe_<content hash>). ON_ERROR = SKIP_FILE is Snowpipe's default, stated explicitly.
create pipe if not exists {database}.{schema}.{pipe}
    auto_ingest = true
as
copy into {database}.{schema}.{table} ({columns}, _FILE, _ROW, _LOAD_PATH, _LOADED_AT, _BATCH_ID)
from (
    select {positions}, metadata$filename, metadata$file_row_number, {load_path}, current_timestamp(),
        split_part(metadata$filename, '/', -2)
    from {stage_path}
)
file_format = (format_name = {file_format})
on_error = skip_file
