-- The schema's pipes with their notification_channel (the SQS queue auto-ingest listens on).
show pipes in schema {database}.{schema}
