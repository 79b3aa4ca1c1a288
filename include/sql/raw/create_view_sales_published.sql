-- Write-audit-publish: the rows of batches the quality gate published, minus the quarantined rows.
create or replace view {database}.{schema}.{published_view} as
with source as (
    select * from {database}.{schema}.{table}
),

published as (
    select BATCH_ID from {database}.{audit_schema}.BATCH_GATE
    where STATUS = 'PUBLISHED' and TARGET_TABLE = {target_table}
),

final as (
    select s.*
    from source as s
    inner join published as p on p.BATCH_ID = s._BATCH_ID
    where not exists (
        select 1 from {database}.{schema}.{quarantine_table} as q
        where q.BATCH_ID = s._BATCH_ID and q._FILE = s._FILE and q._ROW = s._ROW
    )
)

select * from final
