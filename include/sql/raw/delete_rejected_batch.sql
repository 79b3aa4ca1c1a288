-- Forget a batch's rejected rows before storing a new attempt's (a re-run never duplicates them).
delete from {database}.{schema}.{rejected_table} where BATCH_ID = %(batch_id)s and LOAD_PATH = %(load_path)s
