"""When JetStream cannot take a message the gateway says 503, so Twilio retries it later."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.gateway.app import create_app
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import free_port
from wta_runtime.settings import Settings

BASE = "http://gateway.test"
WEBHOOK = "/api/v1/twilio/webhook"


async def test_webhook_gets_503_when_jetstream_is_down(
    tmp_path: Path, catalog: TenantCatalog
) -> None:
    port = free_port()
    nats = nats_process(tmp_path / "nats", port=port, log_path=tmp_path / "nats.log")
    nats.start()
    settings = Settings(
        nats_url=f"nats://127.0.0.1:{port}",
        public_base_url=BASE,
        publish_timeout_seconds=0.5,
    )
    app = create_app(settings, catalog)
    tenant = catalog.by_name("acme-pizza")
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                data, headers = webhook_for(tenant, BASE + WEBHOOK, contact=new_contact(), body="1")
                accepted = await client.post(WEBHOOK, data=data, headers=headers)
                nats.stop()
                data, headers = webhook_for(tenant, BASE + WEBHOOK, contact=new_contact(), body="2")
                refused = await client.post(WEBHOOK, data=data, headers=headers)
                not_ready = await client.get("/readyz")
    finally:
        nats.stop()

    assert accepted.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert not_ready.status_code == 503


async def test_signature_is_checked_against_the_public_url_behind_a_proxy(
    tmp_path: Path, catalog: TenantCatalog, nats_url: str
) -> None:
    """Twilio signs https://public-host/...; the pod sees http://pod:8000/... behind the proxy."""
    app = create_app(Settings(nats_url=nats_url, trust_forwarded_headers=True), catalog)
    tenant = catalog.by_name("acme-pizza")
    public = "https://wta.example.com"
    data, headers = webhook_for(tenant, public + WEBHOOK, contact=new_contact(), body="hi")
    forwarded = {**headers, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "wta.example.com"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.7:8000") as c:
            behind_proxy = await c.post(WEBHOOK, data=data, headers=forwarded)
            direct = await c.post(WEBHOOK, data=data, headers=headers)

    assert behind_proxy.status_code == 200
    assert direct.status_code == 403
