select count(*) from {database}.{schema}.{table} where _BATCH_ID = %(batch_id)s
