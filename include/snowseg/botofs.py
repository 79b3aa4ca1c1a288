"""A small fsspec filesystem for ``s3://`` over boto3, for when ``s3fs`` is not installed.

Airflow's ``ObjectStoragePath`` reaches S3 through the Amazon provider's filesystem, which needs ``s3fs``
(``apache-airflow-providers-amazon[s3fs]``, with aiobotocore). Where it is missing, :mod:`snowseg.storage`
attaches this filesystem to the same connection instead (``airflow.sdk.io.attach(fs=...)``, Airflow's own way
to give a store its filesystem): the client is the provider's ``S3Hook(aws_conn_id).get_conn()``, so the
connection's credentials, region and endpoint (the twin's moto S3) are used exactly as the hooks use them.

It does what Snowseg asks of a store, no more: list (one level, or recursively), stat, ranged reads, whole-object
writes (an object is written by one ``PutObject`` when its file is closed), copy, delete, download and upload
(boto3's managed transfers: streamed, multipart). S3 has no folders: ``mkdir`` does nothing, a "folder" is a
prefix some key starts with.
"""

from __future__ import annotations

from typing import Any

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem


def _missing(error: Exception) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class BotoS3FileSystem(AbstractFileSystem):
    """``s3://bucket/key`` through one boto3 S3 client."""

    protocol = ("s3", "s3a")
    root_marker = ""
    cachable = False  # one instance per attached store (snowseg.storage), built with its connection's client

    def __init__(self, client: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        text = str(path)
        for p in ("s3://", "s3a://"):
            if text.startswith(p):
                text = text[len(p):]
        return text.rstrip("/")

    @staticmethod
    def split(path: str) -> tuple[str, str]:
        """``bucket/key`` -> (bucket, key)."""
        bucket, _, key = BotoS3FileSystem._strip_protocol(path).partition("/")
        return bucket, key

    def _entry(self, bucket: str, obj: dict) -> dict:
        return {"name": f"{bucket}/{obj['Key']}", "size": obj.get("Size", obj.get("ContentLength", 0)),
                "type": "file", "LastModified": obj.get("LastModified"), "ETag": obj.get("ETag")}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list:
        bucket, key = self.split(path)
        prefix = f"{key}/" if key else ""
        out: list[dict] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                                          Delimiter="/"):
            out += [{"name": f"{bucket}/{p['Prefix'].rstrip('/')}", "size": 0, "type": "directory"}
                    for p in page.get("CommonPrefixes", [])]
            out += [self._entry(bucket, o) for o in page.get("Contents", []) if o["Key"] != prefix]
        if not out and key:
            info = self.info(path)  # a file, or FileNotFoundError
            out = [info] if info["type"] == "file" else []
        return out if detail else [o["name"] for o in out]

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Every object under `path` (one listing, no per-level calls); folders are not listed."""
        bucket, key = self.split(path)
        prefix = f"{key}/" if key else ""
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                rest = o["Key"][len(prefix):]
                if rest and (maxdepth is None or rest.count("/") < maxdepth):
                    found[f"{bucket}/{o['Key']}"] = self._entry(bucket, o)
        if not found and key:
            try:
                info = self.info(path)
                if info["type"] == "file":
                    found[info["name"]] = info
            except FileNotFoundError:
                pass
        return found if detail else sorted(found)

    def info(self, path: str, **kwargs: Any) -> dict:
        bucket, key = self.split(path)
        if not key:
            return {"name": bucket, "size": 0, "type": "directory"}
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
            return self._entry(bucket, {**head, "Key": key})
        except Exception as e:
            if not _missing(e):
                raise
        listed = self.client.list_objects_v2(Bucket=bucket, Prefix=f"{key}/", MaxKeys=1)
        if listed.get("KeyCount", 0):
            return {"name": f"{bucket}/{key}", "size": 0, "type": "directory"}
        raise FileNotFoundError(f"s3://{bucket}/{key}")

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> BotoS3File:
        return BotoS3File(self, path, mode, block_size=block_size or "default", autocommit=autocommit,
                          cache_options=cache_options, **kwargs)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to make: S3 has no folders."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to make: S3 has no folders."""

    def rm_file(self, path: str) -> None:
        bucket, key = self.split(path)
        self.client.delete_object(Bucket=bucket, Key=key)

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        b1, k1 = self.split(path1)
        b2, k2 = self.split(path2)
        self.client.copy({"Bucket": b1, "Key": k1}, b2, k2)

    def get_file(self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None, **kwargs: Any) -> None:
        """Download one object to a local file (boto3's managed, streamed transfer)."""
        bucket, key = self.split(rpath)
        self.client.download_file(bucket, key, str(lpath))

    def put_file(self, lpath: str, rpath: str, callback: Any = None, mode: str = "overwrite", **kwargs: Any) -> None:
        """Upload one local file (boto3's managed transfer: multipart for large files)."""
        bucket, key = self.split(rpath)
        self.client.upload_file(str(lpath), bucket, key)


class BotoS3File(AbstractBufferedFile):
    """Ranged reads; a write is one ``PutObject`` when the file is closed (what reports and alerts need)."""

    fs: BotoS3FileSystem

    def _fetch_range(self, start: int, end: int) -> bytes:
        bucket, key = self.fs.split(self.path)
        if end <= start:
            return b""
        body = self.fs.client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")["Body"]
        return bytes(body.read())

    def _initiate_upload(self) -> None:
        """Nothing before the single PutObject."""

    def _upload_chunk(self, final: bool = False) -> bool:
        if not final:
            return False  # keep buffering: the object is written whole
        bucket, key = self.fs.split(self.path)
        self.fs.client.put_object(Bucket=bucket, Key=key, Body=self.buffer.getvalue())
        return True
