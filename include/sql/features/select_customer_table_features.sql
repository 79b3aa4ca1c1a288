-- Customer-table features, one row per customer, no aggregation: the table's numeric feature columns
-- as floats and its categoricals encoded ({features}; category values are bound parameters). A
-- customer sent again in a later batch (a refreshed table) is read from its newest row.
with source as (
    select * from {database}.{schema}.{table}
),
deduped as (
    select * from source
    qualify row_number() over (partition by {entity} order by _LOADED_AT desc, _ROW desc) = 1
),
renamed as (
    select
        {entity} as ENTITY_ID,
{features}
    from deduped
),
final as (
    select * from renamed
)
select * from final order by ENTITY_ID
