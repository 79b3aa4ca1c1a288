-- Batches in the raw table the gate has not judged yet, with what LOAD_AUDIT says was loaded and rejected.
with batches as (
    select _BATCH_ID as BATCH_ID, count(*) as ROWS_IN_TABLE
    from {database}.{schema}.{table}
    group by _BATCH_ID
),

judged as (
    select BATCH_ID from {database}.{audit_schema}.BATCH_GATE where TARGET_TABLE = %(target_table)s
),

audited as (
    select BATCH_ID, sum(ROWS_PARSED) as ROWS_PARSED, sum(ROWS_LOADED) as ROWS_LOADED,
        sum(ROWS_REJECTED) as ROWS_REJECTED
    from {database}.{audit_schema}.LOAD_AUDIT
    where TARGET_TABLE = %(target_table)s and STATUS in ('LOADED', 'PARTIALLY_LOADED')
    group by BATCH_ID
),

final as (
    select b.BATCH_ID, b.ROWS_IN_TABLE, a.ROWS_PARSED, a.ROWS_LOADED, a.ROWS_REJECTED
    from batches as b
    left join audited as a on a.BATCH_ID = b.BATCH_ID
    where b.BATCH_ID not in (select BATCH_ID from judged)
)

select * from final order by BATCH_ID
