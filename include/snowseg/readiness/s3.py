"""The S3 check: the AWS connection reaches the landing bucket and prefix, and may read the bucket's notifications.

No object is written: a probe object would reach the pipe. botocore's errors are said in plain words, with the IAM
policy to grant.
"""

from __future__ import annotations

from snowseg.readiness.fixes import s3_policy
from snowseg.readiness.model import Check, Target


def s3_failure(error: BaseException, target: Target, step: str) -> Check:
    """The S3 check when a call failed: plain words for botocore's errors, and the IAM policy to grant."""
    url = str(target.landing_url)
    bucket = url.removeprefix("s3://").partition("/")[0]
    name = f"S3 {url} ({target.aws_conn_id})"
    kind = type(error).__name__
    code = ""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    policy = s3_policy(url)
    if kind in ("NoCredentialsError", "PartialCredentialsError"):
        return Check(name, False, f"no AWS credentials for connection {target.aws_conn_id!r} ({error})",
                     "give the connection credentials (a role, a profile, or keys in a secrets backend)")
    if kind in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return Check(name, False, f"cannot reach S3: {error}",
                     "if this is the local twin, start it with `make twin-up`; otherwise check the connection's "
                     "endpoint_url / region and the network")
    if code in ("404", "NoSuchBucket", "NotFound"):
        return Check(name, False, f"bucket {bucket} does not exist ({step}: {code})",
                     f"an AWS admin creates bucket {bucket}, or set SNOWSEG_LANDING_URL to the landing bucket")
    if code in ("403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return Check(name, False, f"the AWS identity of {target.aws_conn_id!r} may not {step} on {bucket} ({code})",
                     f"attach this IAM policy to it: {policy}")
    return Check(name, False, f"{step} failed: {kind}: {error}")


def check_s3(target: Target) -> Check:
    """The AWS connection reaches the landing bucket and prefix, and may read the bucket's notifications."""
    url = str(target.landing_url)
    name = f"S3 {url} ({target.aws_conn_id})"
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.config import Config

    try:
        S3Hook.get_connection(target.aws_conn_id)
    except Exception as e:  # (AirflowNotFoundException)
        return Check(name, True, f"not checked: no Airflow connection {target.aws_conn_id!r} ({e}); load_s3_snowpipe "
                     "uploads through it", f"define it, eg: export AIRFLOW_CONN_{target.aws_conn_id.upper()}="
                     "'{\"conn_type\": \"aws\", \"extra\": {\"region_name\": \"eu-west-1\"}}' with an identity that "
                     f"may s3:PutObject under {url}", warning=True)
    quick = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    hook = S3Hook(aws_conn_id=target.aws_conn_id)
    config = hook.conn_config.botocore_config
    hook = S3Hook(aws_conn_id=target.aws_conn_id, config=config.merge(quick) if config else quick)
    step = "connect"
    try:
        client = hook.get_conn()
        step = "s3:ListBucket (HeadBucket)"
        client.head_bucket(Bucket=bucket)
        step = "s3:ListBucket (ListObjectsV2)"
        client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        step = "s3:GetBucketNotification"
        client.get_bucket_notification_configuration(Bucket=bucket)
    except Exception as e:  # (botocore's errors)
        return s3_failure(e, target, step)
    return Check(name, True, f"bucket {bucket} and prefix {prefix or '/'} are reachable, and the bucket's "
                 "notifications readable (PutObject is not tried: a probe object would reach the pipe)")
