-- The contract's CSV read by its header names (PARSE_HEADER), for the small path's COPY with
-- MATCH_BY_COLUMN_NAME and INCLUDE_METADATA, which needs ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE
-- (ragged records never get this far: the file checks refuse them).
create file format if not exists {database}.{raw}.{csv_format_by_name}
    type = csv;
alter file format {database}.{raw}.{csv_format_by_name} set
    parse_header = true
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
    error_on_column_count_mismatch = false;
grant usage on file format {database}.{raw}.{csv_format_by_name} to role {service_role};
