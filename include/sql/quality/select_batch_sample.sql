-- The checked batches' rows for the report's pictures: all of them, or a fixed-size random sample when
-- there are more than the contract's quality.picture_rows ({sample} is empty or `sample (N rows)`).
select *
from (
    select {select_columns}
    from {database}.{schema}.{table}
    where _BATCH_ID in ({batch_ids})
) {sample}
