create file format if not exists {database}.{schema}.SNOWSEG_WRITEBACK_CSV
    type = csv
    field_optionally_enclosed_by = '"'
    skip_header = 1
    empty_field_as_null = true
