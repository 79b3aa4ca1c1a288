put {file_url} {stage_path} auto_compress = true overwrite = true parallel = {parallel}
