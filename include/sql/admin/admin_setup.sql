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
--   SNOWSEG_ROLE (connection extra role; SNOWSEG_SERVICE_ROLE), SNOWSEG_WH (extra warehouse), SNOWSEG_SVC (connection
--   login), database SNOWSEG (SNOWSEG_DATABASE), storage integration SNOWSEG_S3_INT (SNOWSEG_STORAGE_INTEGRATION).
--
-- This script makes what needs an account admin: the role, the warehouse, the database, the service user and the
-- storage integration. Everything inside the database (schemas, tables, views, file formats, stages, the pipe) comes
-- from the versioned setup, run next as SYSADMIN (or a role that owns the database):
--   make setup-warehouse CONN=<an Airflow connection that logs in as SYSADMIN>   (or the setup_warehouse DAG)
-- It grants SNOWSEG_ROLE exactly what the DAGs use (SELECT/INSERT on tables, READ/WRITE on stages, USAGE on file
-- formats, OPERATE/MONITOR on the pipe, ownership of two transient landing tables). SNOWSEG_ROLE creates nothing.
-- (OPERATE on the pipe, with USAGE on its stage and file format and INSERT on its table, is also what watch_loads'
-- ALTER PIPE ... REFRESH needs to queue files whose S3 event was lost; no ownership of the pipe.)

-- 1. The role the DAGs run as, under SYSADMIN so admins keep seeing what it uses.
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

-- 3. Storage: the database, owned by SYSADMIN; the role may use it (the setup grants the rest).
create database if not exists SNOWSEG;
grant usage on database SNOWSEG to role SNOWSEG_ROLE;

-- 4. The service user Airflow logs in as: key-pair auth only (TYPE = SERVICE users have no password). Creating a
--    user is USERADMIN's (SECURITYADMIN inherits it); granting the role, its owner's (SECURITYADMIN).
use role securityadmin;
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

-- 7. Then, from where Airflow runs (with SNOWSEG_LANDING_URL = s3://<BUCKET>/<PREFIX>/ for the pipe):
--      make setup-warehouse CONN=<admin connection>      # the schemas, tables, stages, pipe and the role's grants
--      make check-connection CONN=<service connection>   # every check OK
