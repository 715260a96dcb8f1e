"""`wta check-env`: is everything the platform needs configured and reachable?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import nats
from sqlalchemy import text

from wta_runtime.catalog import load_catalog
from wta_runtime.channel.media_store import MediaStore, MediaStoreError
from wta_runtime.channel.media_stores import platform_media_store, tenant_media_store
from wta_runtime.db.engine import create_engine
from wta_runtime.manifests import ManifestError
from wta_runtime.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    ok: bool
    detail: str
    hint: str = ""


async def check_nats(settings: Settings) -> Check:
    async def quiet(_: Exception) -> None:
        return None

    try:
        connection = await asyncio.wait_for(
            nats.connect(
                settings.nats_url,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=quiet,
            ),
            timeout=5,
        )
    except Exception as exc:
        return Check(
            "NATS",
            settings.nats_url,
            False,
            type(exc).__name__,
            "start it with `make run`, or set WTA_NATS_URL",
        )
    try:
        info = await connection.jetstream().account_info()
        return Check("NATS", settings.nats_url, True, f"JetStream on, {info.streams} stream(s)")
    except Exception:
        return Check(
            "NATS",
            settings.nats_url,
            False,
            "JetStream not enabled",
            "start nats-server with --jetstream",
        )
    finally:
        await connection.close()


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


async def check_postgres(settings: Settings) -> Check:
    target = _redact(settings.database_url)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return Check("PostgreSQL", target, True, f"schema at revision {revision}")
    except Exception as exc:
        message = str(exc).lower()
        if "alembic_version" in message:
            return Check(
                "PostgreSQL", target, False, "reachable, schema missing", "run `make migrate`"
            )
        return Check(
            "PostgreSQL",
            target,
            False,
            type(exc).__name__,
            "start it with `make run`, or set WTA_DATABASE_URL",
        )
    finally:
        await engine.dispose()


async def check_openai(settings: Settings) -> Check:
    base = settings.openai_base_url or "https://api.openai.com/v1"
    if settings.openai_api_key is None:
        return Check(
            "OpenAI endpoint",
            base,
            True,
            "no key: offline agent provider",
            "set WTA_OPENAI_API_KEY to use a real model",
        )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(
                base.rstrip("/") + "/models",
                headers={"Authorization": f"Bearer {settings.openai_api_key.get_secret_value()}"},
            )
    except httpx.HTTPError as exc:
        return Check(
            "OpenAI endpoint",
            base,
            False,
            type(exc).__name__,
            "check WTA_OPENAI_BASE_URL and the network",
        )
    if response.status_code in (401, 403):
        return Check(
            "OpenAI endpoint",
            base,
            False,
            f"HTTP {response.status_code}",
            "the API key was refused: check WTA_OPENAI_API_KEY",
        )
    return Check(
        "OpenAI endpoint", base, response.status_code < 500, f"HTTP {response.status_code}"
    )


async def check_twilio(settings: Settings) -> Check:
    base = settings.twilio_api_url
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(base.rstrip("/") + "/2010-04-01/Accounts.json")
    except httpx.HTTPError as exc:
        return Check(
            "Twilio API",
            base,
            False,
            type(exc).__name__,
            "start the local one with `make run`, or set WTA_TWILIO_API_BASE",
        )
    return Check("Twilio API", base, response.status_code < 500, f"HTTP {response.status_code}")


def check_manifests(settings: Settings) -> Check:
    try:
        catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    except ManifestError as exc:
        return Check(
            "Manifests",
            str(settings.manifests_dir),
            False,
            str(exc),
            "fix the manifest, or set WTA_MANIFESTS_DIR",
        )
    agents = sum(len(t.agents) for t in catalog.tenants.values())
    return Check(
        "Manifests",
        str(settings.manifests_dir),
        bool(catalog.tenants),
        f"{len(catalog.tenants)} tenant(s), {agents} agent(s)",
        "" if catalog.tenants else "add a WhatsAppTenant manifest",
    )


async def _check_store(name: str, store: MediaStore, hint: str) -> Check:
    try:
        return Check(name, store.location, True, await store.check())
    except MediaStoreError as exc:
        return Check(name, store.location, False, str(exc), hint)
    finally:
        store.close()


async def check_media_stores(settings: Settings) -> list[Check]:
    """The platform's media store, and each tenant's own bucket (`spec.media.s3`)."""
    hint = (
        "set WTA_MEDIA_DIR to a writable folder"
        if settings.media_store == "local"
        else "check WTA_MEDIA_S3_BUCKET, _ENDPOINT_URL, _REGION and the AWS credentials"
    )
    checks = [await _check_store("Media store", platform_media_store(settings), hint)]
    try:
        catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    except ManifestError:
        return checks  # the Manifests check says what is wrong
    for tenant in catalog.tenants.values():
        if tenant.spec.media.s3 is not None:
            store = tenant_media_store(
                tenant.spec.media.s3, tenant.media_access_key, egress=settings.egress_policy
            )
            hint = f"check spec.media.s3 of WhatsAppTenant {tenant.name} and its Secret"
            checks.append(await _check_store(f"Media store ({tenant.name})", store, hint))
    return checks


async def run_checks(settings: Settings) -> list[Check]:
    *remote, media = await asyncio.gather(
        check_nats(settings),
        check_postgres(settings),
        check_openai(settings),
        check_twilio(settings),
        check_media_stores(settings),
    )
    return [check_manifests(settings), *remote, *media]
