-- Record one applied migration (for one dataset, or '' for the database scope) and the role that applied it.
insert into {database}.{schema}.SCHEMA_VERSION (VERSION, DATASET, NAME, CHECKSUM, APPLIED_AT, APPLIED_BY)
select %(version)s, %(dataset)s, %(name)s, %(checksum)s, %(applied_at)s, current_role()
