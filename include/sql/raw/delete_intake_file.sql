-- Empty the intake table of one staged file's rows once they are in the raw table.
delete from {database}.{schema}.{intake_table}
where _FILE = %(staged_file)s
