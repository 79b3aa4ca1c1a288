-- End the current assignments of every entity of the dataset; the new run's rows open at the same instant.
update {database}.{schema}.SEGMENT_ASSIGNMENTS
set VALID_TO = %(valid_from)s
where VALID_TO is null and DATASET = %(dataset)s
