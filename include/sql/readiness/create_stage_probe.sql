-- A temporary internal stage with the probe file format: can the role create stages and PUT files?
create temporary stage {database}.{schema}.{probe} file_format = (format_name = {file_format})
