-- Every error in the given staged files, as Snowflake's validator reports it (nothing is loaded).
-- VALIDATION_MODE is allowed only in the standard load form (no column list, no transformation), so the
-- target is the dataset's shadow table, which has exactly the contract's columns.
copy into {database}.{schema}.{shadow_table}
from {stage_path}
files = ({files})
file_format = (format_name = {file_format})
validation_mode = return_all_errors
