-- Invoice-level features (the seed's view): numeric columns and encoded categoricals, one row per
-- invoice. Generated from the dataset contract: {numeric} and {encoded} are column lists, category
-- values are bound parameters.
with source as (
    select * from {database}.{schema}.{table}
),
deduped as (
    -- a re-sent invoice (same id, later load) replaces the earlier one
    select * from source
    qualify row_number() over (partition by {entity} order by _LOADED_AT desc, _ROW desc) = 1
),
renamed as (
    select
        {entity} as ENTITY_ID,
{numeric},
{encoded}
    from deduped
),
final as (
    select * from renamed
)
select * from final order by ENTITY_ID
