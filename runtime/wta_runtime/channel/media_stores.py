"""Which store keeps a tenant's media: the platform's (`WTA_MEDIA_STORE`) or the tenant's bucket.

The S3 store (and boto3, some 25 MB of a process) is imported only when a store uses S3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wta_runtime.catalog import MediaAccessKey, Tenant
from wta_runtime.channel.media_store import LocalMediaStore, MediaStore
from wta_runtime.egress.policy import EgressPolicy
from wta_runtime.settings import Settings
from wta_runtime.specs import TenantBucket

if TYPE_CHECKING:
    from wta_runtime.channel.s3_media_store import S3MediaStore


def platform_media_store(settings: Settings, *, pool_size: int = 16) -> MediaStore:
    """The store every tenant uses unless its spec names its own bucket."""
    if settings.media_store == "local":
        return LocalMediaStore(settings.media_dir)
    from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore, s3_client

    assert settings.media_s3_bucket is not None  # Settings refuses s3 without a bucket
    bucket = S3Bucket(
        name=settings.media_s3_bucket,
        prefix=settings.media_s3_prefix,
        endpoint_url=settings.media_s3_endpoint_url,
        region=settings.media_s3_region,
        encryption=settings.media_s3_server_side_encryption,
        kms_key_id=settings.media_s3_kms_key_id,
    )
    return S3MediaStore(s3_client(bucket, pool_size=pool_size), bucket)


def tenant_media_store(
    spec: TenantBucket,
    access_key: MediaAccessKey | None,
    *,
    egress: EgressPolicy,
    pool_size: int = 16,
) -> S3MediaStore:
    """A store on the tenant's own bucket, with its key pair or the pod's identity; its
    endpoint, which the tenant wrote, is reached only where `egress` allows."""
    from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore, check_endpoint, s3_client

    bucket = S3Bucket(
        name=spec.bucket,
        prefix=spec.prefix,
        endpoint_url=spec.endpoint_url,
        region=spec.region,
        encryption=spec.server_side_encryption,
        kms_key_id=spec.kms_key_id,
    )
    client = s3_client(
        bucket,
        access_key_id=access_key.access_key_id.get_secret_value() if access_key else None,
        secret_access_key=access_key.secret_access_key.get_secret_value() if access_key else None,
        pool_size=pool_size,
    )
    check_endpoint(client, egress)
    return S3MediaStore(client, bucket)


class MediaStores:
    """The platform's store, or a tenant's own bucket, rebuilt when the tenant's spec changes."""

    def __init__(
        self, platform: MediaStore, *, pool_size: int = 16, egress: EgressPolicy | None = None
    ) -> None:
        """`egress`: where tenants' own buckets may be (public addresses unless it says more)."""
        self.platform = platform
        self._pool_size = pool_size
        self._egress = egress or EgressPolicy()
        self._own: dict[str, tuple[TenantBucket, MediaAccessKey | None, S3MediaStore]] = {}
        self._retired: list[S3MediaStore] = []

    def for_tenant(self, tenant: Tenant) -> MediaStore:
        """Where this tenant's media goes now."""
        spec = tenant.spec.media.s3
        if spec is None:
            return self.platform
        known = self._own.get(tenant.name)
        if known is not None and known[:2] == (spec, tenant.media_access_key):
            return known[2]
        if known is not None:
            self._retired.append(known[2])  # a turn may still use it: closed on shutdown
        store = tenant_media_store(
            spec, tenant.media_access_key, egress=self._egress, pool_size=self._pool_size
        )
        self._own[tenant.name] = (spec, tenant.media_access_key, store)
        return store

    def close(self) -> None:
        """Close the clients of every S3 store made."""
        for store in [*(own[2] for own in self._own.values()), *self._retired, self.platform]:
            store.close()
        self._own.clear()
        self._retired.clear()
