-- Snowseg: the one-time setup a Snowflake admin runs before the DAGs' first run on real Snowflake.
--
-- Not run by the pipeline. Run it once, top to bottom, in a Snowsight worksheet (or `snowsql -f`), as a user who
-- has the roles ACCOUNTADMIN, SECURITYADMIN and SYSADMIN. Every statement is idempotent (IF NOT EXISTS, GRANT), so
-- running it again is safe. Then check the result from where Airflow runs: `make check-connection CONN=<conn id>`.
--
-- Replace these placeholders first (everything else is a name the DAGs use by default):
--   <RSA_PUBLIC_KEY>  the service user's public key: the lines between -----BEGIN PUBLIC KEY----- and
--                     -----END PUBLIC KEY----- of `openssl rsa -in rsa_key.p8 -pubout`, joined on one line.
--                     The private key (rsa_key.p8, made by `openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes256
--                     -inform PEM -out rsa_key.p8`) stays with Airflow: the connection's extra private_key_file,
--                     its passphrase as the connection's password.
--   <AWS_ROLE_ARN>    the IAM role Snowflake assumes to read the landing bucket, eg:
--                     arn:aws:iam::123456789012:role/snowseg-snowflake-s3 (see step 6 for its trust policy).
--   <BUCKET>          the landing bucket, eg: snowseg-landing
--   <PREFIX>          the landing prefix inside the bucket, without slashes at either end, eg: sales
--                     (SNOWSEG_LANDING_URL is then s3://<BUCKET>/<PREFIX>/).
-- Steps 5-7 are only for load_s3_snowpipe (S3 + Snowpipe); load_small_file, load_bulk_stage and segment_customers
-- need steps 1-4 only.
--
-- Other names (change them everywhere here, then in the Airflow connection and the environment):
--   SNOWSEG_ROLE (connection extra role), SNOWSEG_WH (extra warehouse), SNOWSEG_SVC (connection login),
--   database SNOWSEG and schemas RAW, AUDIT, ANALYTICS (SNOWSEG_DATABASE, SNOWSEG_RAW_SCHEMA, SNOWSEG_AUDIT_SCHEMA,
--   SNOWSEG_ANALYTICS_SCHEMA), storage integration SNOWSEG_S3_INT (SNOWSEG_STORAGE_INTEGRATION).
--
-- What the DAGs create themselves, as SNOWSEG_ROLE, on their first run: the tables, views, file formats, the
-- internal stages SNOWSEG_BULK and SNOWSEG_WRITEBACK, and the pipe RAW.SALES_RAW_PIPE (it needs the raw table and
-- file format first). What needs an admin is below: the role, warehouse, database and schemas with their grants,
-- the service user, and the storage integration (CREATE INTEGRATION is an ACCOUNTADMIN privilege).

-- 1. The role the DAGs run as, under SYSADMIN so admins keep seeing what it creates.
use role securityadmin;
create role if not exists SNOWSEG_ROLE comment = 'Snowseg Airflow DAGs';
grant role SNOWSEG_ROLE to role SYSADMIN;

-- 2. Compute: the smallest warehouse, suspended after 60 s idle, resumed by the next query.
use role sysadmin;
create warehouse if not exists SNOWSEG_WH
    warehouse_size = xsmall
    auto_suspend = 60
    auto_resume = true
    initially_suspended = true
    comment = 'Snowseg Airflow DAGs';
grant usage on warehouse SNOWSEG_WH to role SNOWSEG_ROLE;

-- 3. Storage: the database and its three schemas. The DAGs run CREATE ... IF NOT EXISTS on them too.
create database if not exists SNOWSEG;
create schema if not exists SNOWSEG.RAW;
create schema if not exists SNOWSEG.AUDIT;
create schema if not exists SNOWSEG.ANALYTICS;
grant usage, create schema on database SNOWSEG to role SNOWSEG_ROLE;
grant usage on schema SNOWSEG.RAW to role SNOWSEG_ROLE;
grant usage on schema SNOWSEG.AUDIT to role SNOWSEG_ROLE;
grant usage on schema SNOWSEG.ANALYTICS to role SNOWSEG_ROLE;
-- RAW: the raw and rejected tables, the published view, the CSV file format, the bulk and landing stages, the pipe
grant create table, create view, create file format, create stage, create pipe on schema SNOWSEG.RAW to role SNOWSEG_ROLE;
-- AUDIT: load audit, quality results, batch verdicts
grant create table on schema SNOWSEG.AUDIT to role SNOWSEG_ROLE;
-- ANALYTICS: features, segments, profiles, model runs, the current-segments view, the writeback stage and format
grant create table, create view, create file format, create stage on schema SNOWSEG.ANALYTICS to role SNOWSEG_ROLE;
-- Tables and views that someone else creates in these schemas later stay usable by the DAGs.
use role securityadmin;
grant select, insert, update, delete, truncate on future tables in schema SNOWSEG.RAW to role SNOWSEG_ROLE;
grant select, insert, update, delete, truncate on future tables in schema SNOWSEG.AUDIT to role SNOWSEG_ROLE;
grant select, insert, update, delete, truncate on future tables in schema SNOWSEG.ANALYTICS to role SNOWSEG_ROLE;
grant select on future views in schema SNOWSEG.RAW to role SNOWSEG_ROLE;
grant select on future views in schema SNOWSEG.ANALYTICS to role SNOWSEG_ROLE;

-- 4. The service user Airflow logs in as: key-pair auth only (TYPE = SERVICE users have no password).
create user if not exists SNOWSEG_SVC
    type = service
    rsa_public_key = '<RSA_PUBLIC_KEY>'
    default_role = SNOWSEG_ROLE
    default_warehouse = SNOWSEG_WH
    default_namespace = SNOWSEG.RAW
    comment = 'Snowseg Airflow DAGs (key pair in the Airflow connection)';
grant role SNOWSEG_ROLE to user SNOWSEG_SVC;
-- To rotate the key later: ALTER USER SNOWSEG_SVC SET RSA_PUBLIC_KEY_2 = '<new key>'; switch the connection to the
-- new private key, then ALTER USER SNOWSEG_SVC UNSET RSA_PUBLIC_KEY;

-- 5. load_s3_snowpipe: Snowflake reads the landing bucket through a storage integration (no keys in Snowflake).
use role accountadmin;
create storage integration if not exists SNOWSEG_S3_INT
    type = external_stage
    storage_provider = 'S3'
    enabled = true
    storage_aws_role_arn = '<AWS_ROLE_ARN>'
    storage_allowed_locations = ('s3://<BUCKET>/<PREFIX>/')
    comment = 'Snowseg landing bucket';
grant usage on integration SNOWSEG_S3_INT to role SNOWSEG_ROLE;

-- 6. Copy STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from this output into the trust policy of
--    <AWS_ROLE_ARN> (Principal AWS = the user ARN, Condition StringEquals sts:ExternalId = the external id). Give
--    that role s3:GetObject and s3:GetObjectVersion on arn:aws:s3:::<BUCKET>/<PREFIX>/* and s3:ListBucket on
--    arn:aws:s3:::<BUCKET>. (The AWS identity of Airflow's aws_default connection is separate: it needs
--    s3:PutObject on the prefix, and s3:GetBucketNotification / s3:PutBucketNotification on the bucket for
--    notify=auto.)
describe integration SNOWSEG_S3_INT;

-- 7. Optional: create the landing stage now, owned by SNOWSEG_ROLE, so `make check-connection` can LIST the bucket
--    through the integration right away. Otherwise load_s3_snowpipe creates it on its first run.
use role SNOWSEG_ROLE;
create stage if not exists SNOWSEG.RAW.SNOWSEG_LANDING
    url = 's3://<BUCKET>/<PREFIX>/'
    storage_integration = SNOWSEG_S3_INT;
