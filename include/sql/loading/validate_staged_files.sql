-- Every error in the given staged files, as Snowflake's validator reports it (nothing is loaded).
-- VALIDATE() cannot read a COPY with a transformation, so the rejected records of the lineage-keeping
-- load are collected by validating the same files with a plain, column-mapped COPY.
copy into {database}.{schema}.{table} ({columns})
from {stage_path}
files = ({files})
file_format = (format_name = {file_format})
validation_mode = return_all_errors
