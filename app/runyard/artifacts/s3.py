"""``S3ArtifactRepo``: artifacts in an S3 bucket (AWS, MinIO or any S3-compatible server).

Uploads stream through boto3's transfer manager (multipart above a threshold, a bounded number
of parts in memory), so a multi-gigabyte file never sits in RAM. S3 makes an object visible
only when its PUT or multipart upload completes, and a failed multipart upload is aborted, so an
interrupted upload never leaves a partial object behind. The endpoint comes from the
``s3_endpoint_url`` setting; credentials from boto3's usual chain.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Any, BinaryIO

from runyard import config
from runyard.artifacts.base import CHUNK_SIZE, ArtifactRepo, CountingReader, listable
from runyard.entities import FileInfo
from runyard.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    RunyardError,
    TemporarilyUnavailable,
)
from runyard.locations import parse_location
from runyard.validation import safe_relative_path

#: Parts of 8 MiB, at most 4 in memory at once: about 32 MiB per upload whatever its size.
PART_SIZE = 8 * 1024 * 1024
MAX_PARTS_IN_MEMORY = 4
DELETE_BATCH = 1000
#: An unreachable endpoint fails within seconds (a 503 the client retries), not minutes.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 60
MAX_ATTEMPTS = 3


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    transfer = TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_concurrency=MAX_PARTS_IN_MEMORY,
        use_threads=True,
    )
    # s3transfer's own knob (boto3's constructor does not take it): parts held in memory.
    transfer.max_in_memory_upload_chunks = MAX_PARTS_IN_MEMORY
    return transfer


def _make_client(connect_timeout: float, read_timeout: float, max_attempts: int) -> Any:
    """A boto3 S3 client for the configured endpoint, with these timeouts and attempts."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=config.get("s3_endpoint_url") or None,
        verify=not config.get_bool("s3_ignore_tls"),
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        ),
    )


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3ArtifactRepo(ArtifactRepo):
    """Files under ``s3://bucket/prefix``; paths handed in are relative to that prefix."""

    def __init__(self, root_uri: str, client: Any = None) -> None:
        super().__init__(root_uri)
        location = parse_location(root_uri)
        if location.scheme != "s3":
            raise InvalidParameterValue(f"Not an S3 URI: {root_uri!r} (expected s3://bucket/…)")
        self.bucket = location.authority
        self.prefix = location.path.strip("/")
        self._client = client
        # A client handed in (tests) also answers the readiness probe.
        self._probe_client: Any = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _make_client(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, MAX_ATTEMPTS)
        return self._client

    def check_ready(self) -> None:
        """One quick HEAD of the bucket, no retries: a readiness answer within seconds."""
        if self._probe_client is None:
            self._probe_client = _make_client(connect_timeout=1, read_timeout=2, max_attempts=1)
        try:
            with _s3_errors(""):
                self._probe_client.head_bucket(Bucket=self.bucket)
        except ResourceDoesNotExist:
            raise TemporarilyUnavailable(f"the bucket {self.bucket!r} does not exist") from None

    # ---- keys --------------------------------------------------------------------------------
    def _key(self, rel: str) -> str:
        return "/".join(p for p in (self.prefix, rel) if p)

    def _dir_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return f"{key}/" if key else ""

    # ---- writes ------------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("Invalid path: cannot write a file at the artifact root")
        counter = CountingReader(stream)
        key = self._key(rel)
        with _s3_errors(rel):
            self.client.upload_fileobj(
                counter,
                self.bucket,
                key,
                ExtraArgs={"ContentType": _content_type(key)},
                Config=_transfer_config(),
            )
        return counter.count

    # ---- reads -------------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        with _s3_errors(rel):
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(rel))
        return self._chunks(reply["Body"], rel)

    @staticmethod
    def _chunks(body: Any, rel: str) -> Iterator[bytes]:
        try:
            with _s3_errors(rel):
                yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_relative_path(path)
        prefix = self._dir_prefix(rel)
        infos: list[FileInfo] = []
        paginator = self.client.get_paginator("list_objects_v2")
        with _s3_errors(rel):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix) : -1]  # "<prefix><name>/"
                    if listable(name, rel):
                        infos.append(FileInfo(_join(rel, name), True))
                for obj in page.get("Contents", []):
                    if obj["Key"] == prefix:  # a "directory marker" object
                        continue
                    name = obj["Key"][len(prefix) :]
                    if listable(name, rel):
                        infos.append(FileInfo(_join(rel, name), False, int(obj["Size"])))
        return sorted(infos, key=lambda info: info.path)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = safe_relative_path(artifact_path)
        if not rel:
            return FileInfo("", True)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(rel))
            return FileInfo(rel, False, int(head["ContentLength"]))
        except ClientError as exc:
            if _status(exc) != 404:
                raise _translate(exc, rel) from exc
        except BotoCoreError as exc:  # the endpoint is down or timed out: 503, not 500
            raise _translate(exc, rel) from exc
        with _s3_errors(rel):
            reply = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=self._dir_prefix(rel), MaxKeys=1
            )
        return FileInfo(rel, True) if reply.get("KeyCount", 0) else None

    # ---- deletes -----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_relative_path(artifact_path)
        keys: list[str] = [self._key(rel)] if rel else []
        paginator = self.client.get_paginator("list_objects_v2")
        with _s3_errors(rel):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._dir_prefix(rel)):
                keys.extend(obj["Key"] for obj in page.get("Contents", []))
            for start in range(0, len(keys), DELETE_BATCH):
                batch = keys[start : start + DELETE_BATCH]
                self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _translate(exc: Exception, rel: str) -> RunyardError:
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as EndpointDown

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = _status(exc)
        if status == 404 or code in ("NoSuchKey", "404", "NotFound"):
            return ResourceDoesNotExist(f"No such artifact: '{rel}'")
        if status == 403:
            return PermissionDenied(f"S3 refused access to '{rel}': {code}")
        if status in (500, 502, 503, 504) or code == "SlowDown":
            return TemporarilyUnavailable(f"S3 is unavailable ({code}) for '{rel}'")
        return RunyardError(f"S3 error for '{rel}': {code}: {exc}")
    if isinstance(exc, (EndpointDown, HTTPClientError)):  # refused, reset, timed out
        return TemporarilyUnavailable(f"S3 endpoint unreachable: {exc}")
    return RunyardError(f"S3 error for '{rel}': {exc}")


class _s3_errors:
    """Turn botocore's exceptions into ``RunyardError`` subclasses."""

    def __init__(self, rel: str) -> None:
        self.rel = rel

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, RunyardError):
            return False
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (ClientError, BotoCoreError)):
            raise _translate(exc, self.rel) from exc
        return False


__all__ = ["S3ArtifactRepo"]
