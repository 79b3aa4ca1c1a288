-- Customer-level features (RFM plus behaviour), one row per customer. Generated from the dataset
-- contract: {entity}, {sale_date} and {amount} are the role columns; {purchases} counts a customer's
-- purchases (distinct invoice ids, or distinct sale dates when the contract has no invoice id);
-- {dedup} keeps the newest row of a re-sent invoice (empty without an invoice id); {features} are the
-- per-customer averages of the numeric features and one share-of-rows column per category value
-- (bound parameters), e.g. the payment mix, the membership share, the product-line shares.
with source as (
    select * from {database}.{schema}.{table}
),
deduped as (
    select * from source
    {dedup}
),
as_of as (
    -- recency is measured to the run's date (bound; it ages without new sales) or, when null, to the newest
    -- sale in the data (a re-run on the same data gives the same features)
    select coalesce(cast(%(as_of)s as date), cast(max({sale_date}) as date)) as AS_OF_DATE from deduped
),
per_customer as (
    select
        {entity} as ENTITY_ID,
        cast(datediff('day', max({sale_date}), max(a.AS_OF_DATE)) as float) as RECENCY_DAYS,
        cast({purchases} as float) as FREQUENCY,
        cast(sum({amount}) as float) as MONETARY,
        cast(sum({amount}) as float) / {purchases} as AVG_BASKET,
        cast(datediff('day', min({sale_date}), max({sale_date})) as float) as TENURE_DAYS{features}
    from deduped
    cross join as_of as a
    group by {entity}
),
final as (
    select * from per_customer
)
select * from final order by ENTITY_ID
