-- Per load path since %(since)s: files, rows loaded and rejected, failed or refused files, and files whose
-- counts do not add up (rows_parsed <> rows_loaded + rows_rejected).
select
    LOAD_PATH,
    count(*) as FILES,
    coalesce(sum(ROWS_PARSED), 0) as ROWS_PARSED,
    coalesce(sum(ROWS_LOADED), 0) as ROWS_LOADED,
    coalesce(sum(ROWS_REJECTED), 0) as ROWS_REJECTED,
    sum(case when STATUS in ('FAILED', 'REFUSED') then 1 else 0 end) as FILES_FAILED,
    sum(case when ROWS_PARSED <> ROWS_LOADED + ROWS_REJECTED then 1 else 0 end) as FILES_MISMATCHED
from {database}.{schema}.LOAD_AUDIT
where STARTED_AT >= %(since)s
group by LOAD_PATH
order by LOAD_PATH
