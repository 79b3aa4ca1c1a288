-- The web-UI loader's COPY: a file staged in the intake table's stage, loaded in the standard form (a table
-- stage takes no transformation), columns matched by the file's header names, the file and row of each
-- record kept through INCLUDE_METADATA.
copy into {database}.{schema}.{intake_table}
from {stage_path}
file_format = (format_name = {file_format})
match_by_column_name = case_sensitive
include_metadata = (_FILE = metadata$filename, _ROW = metadata$file_row_number)
on_error = {on_error}
