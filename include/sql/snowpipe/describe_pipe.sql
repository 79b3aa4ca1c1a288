-- The pipe's definition and its notification_channel (the SQS queue S3 events must go to).
describe pipe {database}.{schema}.{pipe}
