-- The refit whose model (transform and centres) the dataset's current run uses: the current run itself when it
-- refitted (runs published before migration database/V014 all did), else the run it names in REFIT_RUN_ID.
with latest_run as (
    select coalesce(REFIT_RUN_ID, MODEL_RUN_ID) as REFIT_RUN_ID
    from {database}.{schema}.MODEL_RUNS
    where CONTRACT = %(dataset)s
    order by PUBLISHED_AT desc limit 1
),

final as (
    select r.MODEL_RUN_ID, r.PUBLISHED_AT, r.REFIT_KEY, r.TRANSFORM, r.CENTERS, r.K, r.K_REASON, r.K_CHOICE
    from {database}.{schema}.MODEL_RUNS as r
    inner join latest_run as l on r.MODEL_RUN_ID = l.REFIT_RUN_ID
)

select * from final
