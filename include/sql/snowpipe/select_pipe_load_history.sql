-- The pipe's loads into the raw table within Snowpipe's 14 days of load metadata.
select FILE_NAME, STAGE_LOCATION, STATUS, ROW_COUNT, ROW_PARSED, ERROR_COUNT, FIRST_ERROR_MESSAGE,
    FIRST_ERROR_LINE_NUMBER, FIRST_ERROR_CHARACTER_POS, FIRST_ERROR_COLUMN_NAME, LAST_LOAD_TIME
from table({database}.information_schema.copy_history(
    table_name => %(table_name)s,
    start_time => dateadd(day, -14, current_timestamp())
))
where PIPE_CATALOG_NAME = %(pipe_database)s and PIPE_SCHEMA_NAME = %(pipe_schema)s and PIPE_NAME = %(pipe_name)s
