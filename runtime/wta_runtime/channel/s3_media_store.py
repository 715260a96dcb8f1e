"""Keeps downloaded media in an S3-compatible bucket (AWS S3, MinIO, R2...), one prefix per tenant.

Objects are `<prefix>/<tenant>/<hash[:2]>/<hash>`, written once, private (no ACL is ever sent),
served as attachments and optionally encrypted at rest. The key a message keeps is
`s3://<bucket>/<object>`, so it says where the media is; only its tenant may read it back.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wta_runtime.channel.media_store import (
    MediaStoreError,
    MediaStoreRefused,
    StoredMedia,
    checked_tenant,
    content_key,
    document_key,
)
from wta_runtime.egress.connections import check_host_now
from wta_runtime.egress.policy import EgressPolicy, EgressRefused
from wta_runtime.specs.tenant_media import MEDIA_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectRequestTypeDef

Encryption = Literal["AES256", "aws:kms"]
_HASHED = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{64})$")
_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


@dataclass(frozen=True)
class S3Bucket:
    """Where and how media objects are written; the credentials are not part of it."""

    name: str
    prefix: str = "media"
    endpoint_url: str | None = None
    region: str | None = None
    encryption: Encryption | None = None
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(MEDIA_PREFIX, self.prefix):
            raise ValueError(
                f"media prefix {self.prefix!r}: use letters, digits, '.', '_', '-' and '/' "
                "between segments, none starting with '.'"
            )
        if self.kms_key_id and self.encryption != "aws:kms":
            raise ValueError("a KMS key id needs server-side encryption aws:kms")

    @property
    def location(self) -> str:
        where = f"s3://{self.name}/{self.prefix}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


def s3_client(
    bucket: S3Bucket,
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    pool_size: int = 16,
) -> S3Client:
    """A client for the bucket; without a key pair it uses boto3's chain (AWS_* env, IRSA...)."""
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=bucket.region,
    )
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=pool_size,
        # S3-compatible stores differ in which upload checksums they accept; the content is
        # named by its SHA-256, which `read` verifies.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client("s3", endpoint_url=bucket.endpoint_url, config=config)


def check_endpoint(client: S3Client, egress: EgressPolicy) -> None:
    """Refuse each request of `client` to an endpoint outside the policy (a tenant's bucket)."""

    def check(request: Any, **_: Any) -> None:
        try:
            check_host_now(egress, request.url)
        except EgressRefused as exc:
            raise MediaStoreRefused(str(exc)) from None

    client.meta.events.register("before-send.s3", check)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3MediaStore:
    """A `MediaStore` on one bucket; blocking boto3 calls run in worker threads."""

    def __init__(self, client: S3Client, bucket: S3Bucket) -> None:
        self._client = client
        self.bucket = bucket

    @property
    def location(self) -> str:
        return self.bucket.location

    def _object(self, relative: str) -> str:
        return f"{self.bucket.prefix}/{relative}"

    async def check(self) -> str:
        """The bucket answers HeadBucket with these credentials, else MediaStoreError says why."""
        try:
            await asyncio.to_thread(self._client.head_bucket, Bucket=self.bucket.name)
        except ClientError as exc:
            raise MediaStoreError(self._bucket_problem(_code(exc))) from None
        except BotoCoreError as exc:  # no endpoint, no credentials: messages carry no secret
            raise MediaStoreError(f"{type(exc).__name__}: {exc}") from None
        return f"bucket {self.bucket.name} reachable"

    def _bucket_problem(self, code: str) -> str:
        if code in _MISSING or code == "NoSuchBucket":
            return f"bucket {self.bucket.name} does not exist"
        if code in _DENIED:
            return (
                f"access to bucket {self.bucket.name} denied ({code}): check the credentials "
                "and that they allow s3:ListBucket on it"
            )
        if code in {"301", "PermanentRedirect", "AuthorizationHeaderMalformed"}:
            return f"bucket {self.bucket.name} is in another region ({code}): set the region"
        return f"bucket {self.bucket.name} answered {code or 'an error'}"

    async def save(self, tenant: str, content: bytes, content_type: str) -> StoredMedia:
        """Upload the content unless its object is already there (same bytes, same key)."""
        digest = hashlib.sha256(content).hexdigest()
        name = self._object(content_key(tenant, digest))
        await asyncio.to_thread(self._put_once, name, content, content_type, digest)
        return StoredMedia(sha256=digest, key=f"s3://{self.bucket.name}/{name}")

    def _exists(self, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket.name, Key=name)
        except ClientError as exc:
            # Without s3:ListBucket, S3 answers 403 for a missing object: upload it then.
            if _code(exc) in _MISSING | _DENIED:
                return False
            raise
        return True

    def _put_once(self, name: str, content: bytes, content_type: str, digest: str) -> None:
        if self._exists(name):
            return
        # No ACL: objects stay as private as the bucket (which should block public access).
        request: PutObjectRequestTypeDef = {
            "Bucket": self.bucket.name,
            "Key": name,
            "Body": content,
            "ContentType": content_type or "application/octet-stream",
            "ContentDisposition": "attachment",
            "Metadata": {"sha256": digest},
        }
        if self.bucket.encryption:
            request["ServerSideEncryption"] = self.bucket.encryption
        if self.bucket.kms_key_id:
            request["SSEKMSKeyId"] = self.bucket.kms_key_id
        self._client.put_object(**request)

    def _owned_object(self, tenant: str, key: str) -> tuple[str, str]:
        """The object and hash of a key under the tenant's own prefix; PermissionError if not."""
        own = f"s3://{self.bucket.name}/{self._object(checked_tenant(tenant))}/"
        match = _HASHED.fullmatch(key.removeprefix(own)) if key.startswith(own) else None
        if match is None or not match.group(2).startswith(match.group(1)):
            raise PermissionError(f"media {key!r} does not belong to tenant {tenant!r}")
        return key.removeprefix(f"s3://{self.bucket.name}/"), match.group(2)

    async def read(self, tenant: str, key: str) -> bytes:
        name, digest = self._owned_object(tenant, key)
        content = await asyncio.to_thread(self._get, name)
        if hashlib.sha256(content).hexdigest() != digest:
            raise MediaStoreError(f"media {key!r} does not match its hash")
        return content

    async def read_document(self, tenant: str, key: str) -> bytes:
        name = self._object(document_key(tenant, key))
        try:
            return await asyncio.to_thread(self._get, name)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(f"no object {key!r} in {self.location}") from None
            raise MediaStoreError(f"{self.location} answered {_code(exc)} for {key!r}") from None

    def _get(self, name: str) -> bytes:
        body = self._client.get_object(Bucket=self.bucket.name, Key=name)["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def close(self) -> None:
        self._client.close()
