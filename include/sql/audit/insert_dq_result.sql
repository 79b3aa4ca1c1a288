insert into {database}.{schema}.DQ_RESULTS (
    RUN_ID, DAG_ID, BATCH_ID, SUITE, EXPECTATION, EXPECTATION_TYPE, COLUMN_NAME, SEVERITY, SUCCESS,
    OBSERVED_VALUE, UNEXPECTED_COUNT, ELEMENT_COUNT, CHECKED_AT
) values (
    %(run_id)s, %(dag_id)s, %(batch_id)s, %(suite)s, %(expectation)s, %(expectation_type)s, %(column_name)s,
    %(severity)s, %(success)s, %(observed_value)s, %(unexpected_count)s, %(element_count)s, %(checked_at)s
)
