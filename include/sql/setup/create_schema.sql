create schema if not exists {database}.{schema}
