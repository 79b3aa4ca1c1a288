-- The small path's landing table: the web-UI loader's PUT goes to its table stage and its COPY loads it
-- (columns named as the file's header, plus the file and row each record came from). A table stage
-- can be used only by the table's owner, so the service role owns this transient table.
create transient table if not exists {database}.{raw}.{intake_table} (
{header_columns},
    _FILE varchar,
    _ROW number(18, 0)
);
grant ownership on table {database}.{raw}.{intake_table} to role {service_role} copy current grants;
