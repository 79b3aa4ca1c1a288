-- Features of one row per entity, no aggregation: an invoice (features.level invoice, the seed's view) or a
-- customer of a customer table (customer_table). The numeric feature columns as floats and the categoricals encoded
-- ({features}: generated from the dataset contract; category values are bound parameters). An entity sent again in
-- a later batch (a re-sent invoice, a refreshed customer table) is read from its newest row.
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
