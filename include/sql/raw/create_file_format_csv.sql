-- The named CSV format every load path uses; options come from the dataset contract.
create or replace file format {database}.{schema}.{file_format}
    type = csv
    skip_header = 1
    field_delimiter = {delimiter}
    field_optionally_enclosed_by = {quote}
    null_if = ('')
    empty_field_as_null = true
    date_format = {date_format}
    time_format = {time_format}
    encoding = 'UTF8'
    error_on_column_count_mismatch = true
