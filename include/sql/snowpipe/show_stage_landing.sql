-- The landing stage as it exists (its url may predate a change of SNOWSEG_LANDING_URL).
show stages like {stage_pattern} in schema {database}.{schema}
