-- Tag the session's later statements with the batch or model run they work on (QUERY_TAG: JSON, at most 2000 chars).
alter session set query_tag = {tag}
