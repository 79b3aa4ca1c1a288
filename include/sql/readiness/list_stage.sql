-- Files under a stage path; on an external stage this reaches the bucket through the integration.
list {stage_path}
