-- The writeback CSV is written by Python's csv module: values are enclosed in '"' when they need it and never
-- escaped, so an entity id or a segment name may hold a backslash, end with one, or read \N. Snowflake's CSV
-- defaults would read those as escapes (ESCAPE_UNENCLOSED_FIELD = '\\': "\\" dropped, a trailing one joins two
-- rows) and as NULL (NULL_IF = ('\\N')). Every option the writer relies on is set; the record delimiter stays
-- the default "logical" new line, as the writer ends rows with \r\n.
alter file format {database}.{analytics}.SNOWSEG_WRITEBACK_CSV set
    field_delimiter = ','
    field_optionally_enclosed_by = '"'
    escape = none
    escape_unenclosed_field = none
    null_if = ('')
    empty_field_as_null = true
    skip_header = 1
    skip_blank_lines = false
    trim_space = false
    encoding = 'UTF8'
    error_on_column_count_mismatch = true;
