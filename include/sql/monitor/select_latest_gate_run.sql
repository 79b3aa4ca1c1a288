-- The latest gate run that checked anything: its rules checked and failed, over how many batches.
select
    RUN_ID,
    max(DAG_ID) as DAG_ID,
    count(*) as RULES_CHECKED,
    sum(case when SUCCESS then 0 else 1 end) as RULES_FAILED,
    count(distinct BATCH_ID) as BATCHES,
    max(CHECKED_AT) as LAST_CHECKED_AT
from {database}.{schema}.DQ_RESULTS
group by RUN_ID
order by LAST_CHECKED_AT desc
limit 1
