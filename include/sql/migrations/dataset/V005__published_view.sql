-- Write-audit-publish: the rows of batches the quality gate published, minus the quarantined rows.
-- COPY GRANTS keeps the grants consumers were given on the view when a later setup re-creates it.
create or replace view {database}.{raw}.{published_view} copy grants as
with source as (
    select * from {database}.{raw}.{table}
),

published as (
    select BATCH_ID from {database}.{audit}.BATCH_GATE
    where STATUS = 'PUBLISHED' and TARGET_TABLE = {target_table}
),

final as (
    select s.*
    from source as s
    inner join published as p on p.BATCH_ID = s._BATCH_ID
    where not exists (
        select 1 from {database}.{raw}.{quarantine_table} as q
        where q.BATCH_ID = s._BATCH_ID and q._FILE = s._FILE and q._ROW = s._ROW
    )
)

select * from final;
grant select on view {database}.{raw}.{published_view} to role {service_role};
