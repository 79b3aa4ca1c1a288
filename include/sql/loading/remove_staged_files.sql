remove {stage_path}
