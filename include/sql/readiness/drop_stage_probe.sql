drop stage if exists {database}.{schema}.{probe}
