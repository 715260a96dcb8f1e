"""The S3-compatible media store against a real S3 HTTP server: once, private, per tenant."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from tests.conftest import EXAMPLES
from tests.utils.media_server import PHOTO
from tests.utils.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server
from wta_runtime.catalog import MediaAccessKey, TenantCatalog, load_catalog
from wta_runtime.channel.media_store import LocalMediaStore, MediaStoreError
from wta_runtime.channel.media_stores import MediaStores
from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore
from wta_runtime.check_env import check_media_stores
from wta_runtime.egress.policy import LOOPBACK
from wta_runtime.local.processes import free_port
from wta_runtime.settings import Settings
from wta_runtime.specs import MediaStorage, TenantBucket

PUBLIC_GRANTEES = ("AllUsers", "AuthenticatedUsers")


@pytest.fixture
def bucket(s3_server: S3Server) -> S3Bucket:
    return S3Bucket(s3_server.new_bucket(versioned=True), endpoint_url=s3_server.endpoint_url)


@pytest.fixture
def store(s3_server: S3Server, bucket: S3Bucket) -> S3MediaStore:
    return s3_server.store(bucket)


async def test_media_is_kept_under_the_tenants_prefix_with_its_content_type(
    store: S3MediaStore, s3_server: S3Server
) -> None:
    digest = hashlib.sha256(PHOTO).hexdigest()

    kept = await store.save("acme-pizza", PHOTO, "image/jpeg")

    name = f"media/acme-pizza/{digest[:2]}/{digest}"
    assert (kept.sha256, kept.key) == (digest, f"s3://{store.bucket.name}/{name}")
    assert await store.read("acme-pizza", kept.key) == PHOTO
    client = s3_server.client()
    head = client.head_object(Bucket=store.bucket.name, Key=name)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentDisposition"] == "attachment"
    assert head["Metadata"] == {"sha256": digest}
    grants = client.get_object_acl(Bucket=store.bucket.name, Key=name)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith(PUBLIC_GRANTEES)]


async def test_the_same_bytes_are_uploaded_once(store: S3MediaStore, s3_server: S3Server) -> None:
    first = await store.save("acme-pizza", PHOTO, "image/jpeg")
    again = await store.save("acme-pizza", PHOTO, "image/jpeg")
    other = await store.save("other-pizza", PHOTO, "image/jpeg")

    assert again == first
    assert other.key != first.key  # the same photo sent to another tenant is that tenant's copy
    versions = s3_server.client().list_object_versions(Bucket=store.bucket.name)["Versions"]
    assert sorted(v["Key"] for v in versions) == sorted(
        k.removeprefix(f"s3://{store.bucket.name}/") for k in (first.key, other.key)
    )


async def test_a_tenant_cannot_read_another_tenants_media(
    store: S3MediaStore, s3_server: S3Server
) -> None:
    kept = await store.save("acme-pizza", b"secret menu", "application/pdf")
    digest = kept.sha256
    elsewhere = S3Bucket(s3_server.new_bucket(), endpoint_url=s3_server.endpoint_url)

    for tenant, key in [
        ("other-pizza", kept.key),
        ("acme-pizza", f"s3://{elsewhere.name}/media/acme-pizza/{digest[:2]}/{digest}"),
        ("acme-pizza", f"s3://{store.bucket.name}/media/acme-pizza/../other-pizza/x"),
        ("acme-pizza", f"s3://{store.bucket.name}/media/acme-pizza/00/{digest}"),
        ("acme-pizza", f"acme-pizza/{digest[:2]}/{digest}"),  # a local store's key
    ]:
        with pytest.raises(PermissionError):
            await store.read(tenant, key)
    with pytest.raises(ValueError, match="not a tenant name"):
        await store.save("../other-pizza", b"x", "image/png")


async def test_an_object_changed_in_the_bucket_is_refused(
    store: S3MediaStore, s3_server: S3Server
) -> None:
    kept = await store.save("acme-pizza", PHOTO, "image/jpeg")
    name = kept.key.removeprefix(f"s3://{store.bucket.name}/")
    s3_server.client().put_object(Bucket=store.bucket.name, Key=name, Body=b"tampered")

    with pytest.raises(MediaStoreError, match="does not match its hash"):
        await store.read("acme-pizza", kept.key)


async def test_objects_are_encrypted_at_rest_when_asked(s3_server: S3Server) -> None:
    bucket = S3Bucket(
        s3_server.new_bucket(), endpoint_url=s3_server.endpoint_url, encryption="AES256"
    )
    store = s3_server.store(bucket)

    kept = await store.save("acme-pizza", PHOTO, "image/jpeg")

    name = kept.key.removeprefix(f"s3://{bucket.name}/")
    head = s3_server.client().head_object(Bucket=bucket.name, Key=name)
    assert head["ServerSideEncryption"] == "AES256"


async def test_check_says_when_the_bucket_is_missing_or_unreachable(
    store: S3MediaStore, s3_server: S3Server
) -> None:
    missing = s3_server.store(S3Bucket("no-such-bucket", endpoint_url=s3_server.endpoint_url))
    nowhere = s3_server.store(
        S3Bucket(store.bucket.name, endpoint_url=f"http://127.0.0.1:{free_port()}")
    )

    assert await store.check() == f"bucket {store.bucket.name} reachable"
    with pytest.raises(MediaStoreError, match="bucket no-such-bucket does not exist"):
        await missing.check()
    with pytest.raises(MediaStoreError, match="EndpointConnectionError"):
        await nowhere.check()


async def test_a_tenant_with_its_own_bucket_keeps_its_media_there(
    s3_server: S3Server, catalog: TenantCatalog, tmp_path: Path
) -> None:
    acme = catalog.by_name("acme-pizza")
    own = TenantBucket(
        bucket=s3_server.new_bucket(),
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        prefix="acme/inbound",
    )
    keys = MediaAccessKey(SecretStr(ACCESS_KEY_ID), SecretStr(SECRET_ACCESS_KEY))
    tenant = dataclasses.replace(
        acme,
        spec=acme.spec.model_copy(update={"media": MediaStorage(s3=own)}),
        media_access_key=keys,
    )
    stores = MediaStores(LocalMediaStore(tmp_path), egress=LOOPBACK)  # the server's loopback

    kept = await stores.for_tenant(tenant).save(tenant.name, PHOTO, "image/jpeg")

    assert kept.key.startswith(f"s3://{own.bucket}/acme/inbound/acme-pizza/")
    assert stores.for_tenant(tenant) is stores.for_tenant(tenant)
    assert stores.for_tenant(acme) is stores.platform
    moved = dataclasses.replace(
        tenant,
        spec=tenant.spec.model_copy(
            update={"media": MediaStorage(s3=own.model_copy(update={"prefix": "other"}))}
        ),
    )
    assert stores.for_tenant(moved).location == f"s3://{own.bucket}/other at {own.endpoint_url}"
    stores.close()


async def test_a_tenants_bucket_on_an_internal_address_is_refused_without_a_request(
    s3_server: S3Server, catalog: TenantCatalog, tmp_path: Path
) -> None:
    acme = catalog.by_name("acme-pizza")
    own = TenantBucket(bucket=s3_server.new_bucket(), endpoint_url=s3_server.endpoint_url)
    keys = MediaAccessKey(SecretStr(ACCESS_KEY_ID), SecretStr(SECRET_ACCESS_KEY))
    tenant = dataclasses.replace(
        acme,
        spec=acme.spec.model_copy(update={"media": MediaStorage(s3=own)}),
        media_access_key=keys,
    )
    stores = MediaStores(LocalMediaStore(tmp_path))  # the platform's default: public only

    with pytest.raises(MediaStoreError, match="not allowed by the platform's egress policy"):
        await stores.for_tenant(tenant).save(tenant.name, PHOTO, "image/jpeg")
    with pytest.raises(MediaStoreError, match="not allowed by the platform's egress policy"):
        await stores.for_tenant(tenant).read_document(tenant.name, "menu.pdf")
    stores.close()

    assert s3_server.client().list_objects_v2(Bucket=own.bucket).get("KeyCount") == 0


async def test_check_env_reports_the_platform_store_and_each_tenant_bucket(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The platform store takes boto3's usual chain: here the AWS_* variables.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    platform_bucket = s3_server.new_bucket()
    manifests = _manifests_with_tenant_bucket(tmp_path, s3_server, bucket="missing-bucket")
    settings = Settings(
        manifests_dir=manifests,
        media_store="s3",
        media_s3_bucket=platform_bucket,
        media_s3_endpoint_url=s3_server.endpoint_url,
        media_s3_region=REGION,
        media_s3_prefix="wta/media",
        egress_allow="127.0.0.0/8",  # the tenant's bucket is on the loopback S3 server
    )

    platform, tenant = await check_media_stores(settings)

    assert (platform.name, platform.ok) == ("Media store", True)
    assert platform.target == f"s3://{platform_bucket}/wta/media at {s3_server.endpoint_url}"
    assert (tenant.name, tenant.ok) == ("Media store (bucket-pizza)", False)
    assert tenant.detail == "bucket missing-bucket does not exist"
    assert "spec.media.s3 of WhatsAppTenant bucket-pizza" in tenant.hint
    assert SECRET_ACCESS_KEY not in repr([platform, tenant])
    assert load_catalog(manifests).by_name("bucket-pizza").media_access_key == MediaAccessKey(
        SecretStr(ACCESS_KEY_ID), SecretStr(SECRET_ACCESS_KEY)
    )


def _manifests_with_tenant_bucket(folder: Path, s3_server: S3Server, *, bucket: str) -> Path:
    """The examples, plus a tenant whose media goes to its own bucket with its own key pair."""
    for path in EXAMPLES.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    tenant = next(
        doc
        for path in sorted(EXAMPLES.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc["kind"] == "WhatsAppTenant"
    )
    tenant["metadata"]["name"] = "bucket-pizza"
    tenant["spec"]["numbers"] = [{"number": "+14155550155"}]
    tenant["spec"]["media"] = {
        "s3": {
            "bucket": bucket,
            "endpointUrl": s3_server.endpoint_url,
            "region": REGION,
            "accessKeyIdSecretRef": {"name": "bucket-pizza-s3", "key": "accessKeyId"},
            "secretAccessKeySecretRef": {"name": "bucket-pizza-s3", "key": "secretAccessKey"},
        }
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bucket-pizza-s3"},
        "stringData": {"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY},
    }
    (folder / "zz-bucket-pizza.yaml").write_text(yaml.safe_dump_all([secret, tenant]))
    return folder
