-- A temporary CSV file format: can the role create file formats in the schema?
create temporary file format {database}.{schema}.{probe} type = csv
