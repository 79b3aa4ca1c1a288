-- Queue the files under PREFIX (appended to the pipe's stage) that were staged within the last 7 days and that
-- neither the pipe's nor the table's load metadata has loaded; one row per file queued (File, Status = SENT).
-- Reconciliation names the narrowest prefix: a lost file's own path, or the folder when all of its files were lost.
alter pipe {database}.{schema}.{pipe} refresh prefix = {prefix}
