-- Exactly the contract's columns, never loaded: the target of validation-only COPYs (VALIDATION_MODE
-- reads every rejected record through the standard load form, which has no column list). Owned by the
-- service role, so that its table stage can hold a file being validated.
create transient table if not exists {database}.{raw}.{shadow_table} (
{columns}
);
grant ownership on table {database}.{raw}.{shadow_table} to role {service_role} copy current grants;
