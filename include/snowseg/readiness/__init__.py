"""Is a Snowflake connection ready for the DAGs? Each check in plain words, with the exact fix.

The day a team points the DAGs at real Snowflake, ``python -m snowseg.readiness --conn snowflake_default`` (or
``make check-connection CONN=...``) tells them what is missing instead of a DAG failing deep inside a task. It
logs in through the Snowflake provider's ``SnowflakeHook`` (:func:`snowseg.warehouse.connect`) and checks, in
order:

1. **login**: the login works, with which auth (key pair from ``private_key_file`` / ``private_key_content``, or a
   password fallback, which is a warning), and as which user, role and warehouse;
2. **warehouse**: ``USE WAREHOUSE`` works for the connection's warehouse;
3. **database**: it exists and the role may use it (the DAGs create nothing: an admin's ``admin_setup.sql``
   creates it);
4. **setup**: the versioned setup (``make setup-warehouse``) is recorded in ``AUDIT.SCHEMA_VERSION`` for the
   database and the contract's dataset (with its Snowpipe objects when ``snowpipe``);
5. **stages** the DAGs use: the intake table's stage (the small path; the role must own that table), the bulk
   stage and the writeback stage (READ and WRITE): a tiny file PUT under a probe path, LISTed and REMOVEd;
6. **landing stage** ``RAW.SNOWSEG_LANDING``: it exists on the landing URL and LIST reaches the bucket;
7. **storage integration**: the role can see (use) it, it is enabled and allows the landing URL;
8. **pipe** ``RAW.<TABLE>_PIPE``: it exists, has a notification channel and is running (``SYSTEM$PIPE_STATUS``);
9. **S3**: the AWS connection reaches the landing bucket and prefix (HeadBucket, ListObjectsV2,
   GetBucketNotificationConfiguration; no object is written, as a probe object would reach the pipe).

No check creates an object: the role the DAGs run as may not, and a missing object is the setup's to make.
Checks 6-9 are for load_s3_snowpipe only (``snowpipe=False`` / ``--no-snowpipe`` leaves them out). Each check
runs whatever the others found; without a login only the S3 check can run. A failure's ``fix`` is the SQL to run
(with the connection's real names) or what to do; Snowflake's error codes are turned into plain words
(:func:`explain`). Secrets are never printed: no password, passphrase or private key, only the key file's path
and the public key's fingerprint.

Modules, one concern each: :mod:`~snowseg.readiness.connection` (the run of every check),
:mod:`~snowseg.readiness.login` (auth, keys, login), :mod:`~snowseg.readiness.checks` (warehouse, database, setup,
stages, landing stage, integration, pipe), :mod:`~snowseg.readiness.s3`, :mod:`~snowseg.readiness.errors` (Snowflake's
errors in words), :mod:`~snowseg.readiness.fixes` (the fix SQL, from the admin script and the migrations),
:mod:`~snowseg.readiness.model` (:class:`Check`) and :mod:`~snowseg.readiness.cli`.
"""

from snowseg.readiness.cli import format_checks, main
from snowseg.readiness.connection import check_connection
from snowseg.readiness.errors import explain
from snowseg.readiness.fixes import ADMIN_SCRIPT
from snowseg.readiness.model import Check

__all__ = ["ADMIN_SCRIPT", "Check", "check_connection", "explain", "format_checks", "main"]
