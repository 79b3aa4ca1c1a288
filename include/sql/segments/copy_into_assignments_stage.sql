copy into {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE (MODEL_RUN_ID, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE)
from (
    select {model_run_id}, $1, $2, $3, $4, $5
    from {stage_path}
)
file_format = (format_name = {file_format})
on_error = abort_statement
force = true
