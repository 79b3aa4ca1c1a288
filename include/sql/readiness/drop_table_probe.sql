drop table if exists {database}.{schema}.{probe}
