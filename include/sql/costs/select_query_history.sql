-- Snowseg's queries (QUERY_TAG names "app":"snowseg") in Snowflake's query history since %(since)s: the Information
-- Schema table function reaches back 7 days and returns at most 10,000 rows (RESULT_LIMIT's maximum), the newest;
-- HISTORY_ROWS counts what it returned before the tag filter, so the caller knows when the limit cut the history.
with history as (
    select QUERY_ID, QUERY_TAG, USER_NAME, ROLE_NAME, WAREHOUSE_NAME, WAREHOUSE_SIZE, EXECUTION_STATUS, START_TIME,
        END_TIME, TOTAL_ELAPSED_TIME, EXECUTION_TIME, CREDITS_USED_CLOUD_SERVICES
    from table({database}.INFORMATION_SCHEMA.QUERY_HISTORY(
        END_TIME_RANGE_START => to_timestamp_ltz(%(since)s), RESULT_LIMIT => 10000))
),
counted as (
    select *, count(*) over () as HISTORY_ROWS
    from history
)
select * from counted where QUERY_TAG like %(app_tag)s order by END_TIME
