-- Customer-level features (RFM plus behaviour), one row per customer. Generated from the dataset
-- contract: {entity}, {invoice}, {sale_date} and {amount} are the role columns; {numeric} averages the
-- numeric features per customer and {mix} is one share-of-invoices column per category value (bound
-- parameters), e.g. the payment mix, the membership share, the product-line shares.
with source as (
    select * from {database}.{schema}.{table}
),
deduped as (
    -- a re-sent invoice (same id, later load) replaces the earlier one
    select * from source
    qualify row_number() over (partition by {invoice} order by _LOADED_AT desc, _ROW desc) = 1
),
as_of as (
    -- recency is measured from the newest sale in the data, so a re-run on the same data gives the same features
    select max({sale_date}) as AS_OF_DATE from deduped
),
per_customer as (
    select
        {entity} as ENTITY_ID,
        cast(datediff('day', max({sale_date}), max(a.AS_OF_DATE)) as float) as RECENCY_DAYS,
        cast(count(*) as float) as FREQUENCY,
        cast(sum({amount}) as float) as MONETARY,
        cast(avg({amount}) as float) as AVG_BASKET,
        cast(datediff('day', min({sale_date}), max({sale_date})) as float) as TENURE_DAYS,
{numeric},
{mix}
    from deduped
    cross join as_of as a
    group by {entity}
),
final as (
    select * from per_customer
)
select * from final order by ENTITY_ID
