-- Snowpipe into the raw table: each new file under the landing stage, lineage kept; the batch id is the
-- file's folder (snowpipe_<content hash>). ON_ERROR = SKIP_FILE is Snowpipe's default, stated explicitly.
-- The load time is the scan's start, converted to UTC (the pipe runs in the account's time zone).
create pipe if not exists {database}.{raw}.{pipe}
    auto_ingest = true
as
copy into {database}.{raw}.{table} ({column_names}, _FILE, _ROW, _LOAD_PATH, _LOADED_AT, _BATCH_ID)
from (
    select {positions}, metadata$filename, metadata$file_row_number, 'snowpipe',
        convert_timezone('UTC', metadata$start_scan_time)::timestamp_ntz, split_part(metadata$filename, '/', -2)
    from @{database}.{raw}.SNOWSEG_LANDING
)
file_format = (format_name = '{database}.{raw}.{csv_format}')
on_error = skip_file;
grant operate, monitor on pipe {database}.{raw}.{pipe} to role {service_role};
