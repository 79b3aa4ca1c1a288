drop view if exists {database}.{schema}.{probe_view}
