"""A worker process whose media store is an S3-compatible bucket: the photo lands there, once."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import MEDIA_TENANT, EngineWorkers, TwilioServer, engine_worker_env
from tests.utils.conversations import messages_of
from tests.utils.media_server import PHOTO, MediaHost
from tests.utils.s3_server import S3Server
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.tables import MediaItem
from wta_runtime.local.processes import free_port

WEBHOOK = "/api/v1/twilio/webhook"


async def test_a_photo_sent_on_whatsapp_is_kept_in_the_bucket_and_linked_to_its_message(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
    s3_server: S3Server,
    media_host: MediaHost,
) -> None:
    bucket = s3_server.new_bucket()
    worker = engine_workers.spawn(
        MEDIA_TENANT, "media-worker", env=s3_server.env | {"WTA_MEDIA_S3_BUCKET": bucket}
    )
    contact, gateway = new_contact(), engine_workers.platform.gateway_url
    data, headers = webhook_for(
        catalog.by_name(MEDIA_TENANT),
        gateway + WEBHOOK,
        contact=contact,
        body="is this on the menu?",
        media=[(media_host.media_url("ME1"), "image/jpeg")],
    )
    try:
        async with httpx.AsyncClient(base_url=gateway) as client:
            response = await client.post(WEBHOOK, data=data, headers=headers)
        assert response.status_code == 200
        await eventually(lambda: twilio.sent_to(contact), until=bool, timeout=30)
    finally:
        worker.stop()
        engine_workers.processes.remove(worker)

    [message] = [m for m in await messages_of(sessions, contact) if m.direction == "inbound"]
    async with sessions() as session:
        [row] = (
            await session.scalars(select(MediaItem).where(MediaItem.message_id == message.id))
        ).all()
    digest = hashlib.sha256(PHOTO).hexdigest()
    name = f"media/{MEDIA_TENANT}/{digest[:2]}/{digest}"
    assert (row.status, row.sha256, row.storage_key, row.content_type) == (
        "stored",
        digest,
        f"s3://{bucket}/{name}",
        "image/jpeg",
    )
    kept = s3_server.client().get_object(Bucket=bucket, Key=name)
    assert (kept["Body"].read(), kept["ContentType"]) == (PHOTO, "image/jpeg")


def test_a_worker_with_a_missing_bucket_stops_at_start_saying_so(
    engine_workers: EngineWorkers, s3_server: S3Server
) -> None:
    port = free_port()
    env = engine_worker_env(
        engine_workers.platform,
        engine_workers.base_env,
        MEDIA_TENANT,
        port,
        engine_workers.logs / "media",
    )

    result = subprocess.run(
        [sys.executable, "-m", "wta_runtime", "worker"],
        env=env | s3_server.env | {"WTA_MEDIA_S3_BUCKET": "no-such-bucket"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "bucket no-such-bucket does not exist" in result.stderr
    assert s3_server.env["AWS_SECRET_ACCESS_KEY"] not in result.stderr
