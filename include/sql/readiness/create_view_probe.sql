-- A throwaway view on the probe table: can the role create views in the schema? Dropped at once.
create view {database}.{schema}.{probe_view} as select ok from {database}.{schema}.{probe}
