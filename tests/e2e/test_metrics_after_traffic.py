"""After real traffic the documented metrics are served, labelled by tenant, never by number."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Platform, TwilioServer
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog

WEBHOOK = "/api/v1/twilio/webhook"
PHONE_OR_SID = re.compile(r'="[^"]*(\+\d{6,}|whatsapp:|SM[0-9a-f]{32})')


async def test_gateway_and_worker_metrics_after_a_conversation(
    platform: Platform, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=contact, body="menu"
    )
    async with httpx.AsyncClient() as client:
        assert (
            await client.post(platform.gateway_url + WEBHOOK, data=data, headers=headers)
        ).status_code == 200
        await eventually(lambda: twilio.sent_to(contact), until=bool)
        worker = next(p for p in platform.processes if p.name == "worker-offline")
        gateway_text = (await client.get(platform.gateway_url + "/metrics")).text
        worker_text = (await client.get(f"http://127.0.0.1:{worker.port}/metrics")).text

    assert 'wta_webhook_requests_total{outcome="accepted",tenant="acme-pizza"}' in gateway_text
    assert 'wta_webhook_publish_seconds_count{tenant="acme-pizza"}' in gateway_text
    assert re.search(
        r'wta_turns_total\{agent="pizza-assistant",outcome="replied",tenant="acme-pizza"\} [1-9]',
        worker_text,
    )
    assert 'wta_turn_seconds_count{tenant="acme-pizza"}' in worker_text
    assert re.search(
        r'wta_outbound_messages_total\{status="\w+",tenant="acme-pizza"\} [1-9]', worker_text
    )
    assert 'wta_stream_pending_messages{tenant="acme-pizza"}' in worker_text
    assert 'wta_agent_selections_total{agent="pizza-assistant",tenant="acme-pizza"}' in worker_text
    for text in (gateway_text, worker_text):
        assert not PHONE_OR_SID.search(text), PHONE_OR_SID.search(text)
