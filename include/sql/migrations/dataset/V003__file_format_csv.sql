-- The contract's CSV format, every load path's. Created once, then altered: CREATE OR REPLACE would drop
-- the format under the pipe that uses it (the pipe stops: STOPPED_FILE_FORMAT_DROPPED). Every option is
-- explicit, so Snowflake reads the file as the checks did (no backslash escapes; blank lines skipped).
create file format if not exists {database}.{raw}.{csv_format}
    type = csv;
alter file format {database}.{raw}.{csv_format} set
    skip_header = 1
    field_delimiter = {delimiter}
    record_delimiter = '\n'
    field_optionally_enclosed_by = {quote}
    escape = none
    escape_unenclosed_field = none
    null_if = ('')
    empty_field_as_null = true
    skip_blank_lines = true
    trim_space = false
    date_format = {date_format}
    time_format = {time_format}
    encoding = 'UTF8'
    error_on_column_count_mismatch = true;
grant usage on file format {database}.{raw}.{csv_format} to role {service_role};
