"""The typing indicator through the real Twilio SDK to the local Twilio server, which accepts it
only for an inbound message it has, as Twilio does; a refusal is counted, never raised."""

from __future__ import annotations

import secrets

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.conftest import TwilioServer
from tests.utils.catalogs import catalog_variant
from tests.utils.conversations import Clock, inbound
from tests.utils.scripted_agent import ScriptedAgent
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender, SendError
from wta_runtime.channel.typing import TypingIndicator
from wta_runtime.specs.tenant_typing import TypingIndicatorSettings
from wta_runtime.worker.turn_processor import TurnProcessor


def _counted(metric: str) -> float:
    return REGISTRY.get_sample_value(metric, {"tenant": "acme-pizza"}) or 0.0


def _new_sid() -> str:
    return "SM" + secrets.token_hex(16)


async def test_a_known_inbound_message_is_shown_typing_and_recorded(
    catalog: TenantCatalog, sender: OutboundSender, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    sid = _new_sid()
    twilio.receive(tenant, sid)
    shown_before = _counted("wta_typing_indicators_total")

    shown = await TypingIndicator(sender).show(tenant, sid)

    assert shown
    assert twilio.typing_on({sid}) == [sid]
    assert _counted("wta_typing_indicators_total") == shown_before + 1


@pytest.mark.parametrize(
    ("message_id", "code"),
    [("SM" + "0" * 32, 20001), ("SM123", 90001), ("AC" + "0" * 32, 90001)],
    ids=["unknown", "malformed", "not-a-message"],
)
async def test_twilio_refuses_typing_on_a_message_it_has_no_inbound_for(
    catalog: TenantCatalog, sender: OutboundSender, message_id: str, code: int
) -> None:
    with pytest.raises(SendError) as refused:
        await sender.show_typing(catalog.by_name("acme-pizza"), message_id)

    assert refused.value.code == code
    assert not refused.value.retryable


async def test_an_outbound_message_or_another_accounts_message_is_refused(
    catalog: TenantCatalog, sender: OutboundSender, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    sent = await sender.send_text(
        tenant, from_number="+14155550100", to_number="+15550001", body="hi"
    )
    elsewhere = _new_sid()
    twilio.inbound_messages[elsewhere] = "AC" + "9" * 32

    for sid in (sent.sid, elsewhere):
        with pytest.raises(SendError, match="400, code 20001"):
            await sender.show_typing(tenant, sid)
    assert twilio.typing_on({sent.sid, elsewhere}) == []


async def test_a_refused_typing_indicator_is_counted_and_the_caller_goes_on(
    catalog: TenantCatalog, sender: OutboundSender, twilio: TwilioServer
) -> None:
    failed_before = _counted("wta_typing_indicator_failures_total")

    shown = await TypingIndicator(sender).show(catalog.by_name("acme-pizza"), _new_sid())

    assert not shown
    assert _counted("wta_typing_indicator_failures_total") == failed_before + 1


async def test_a_tenant_with_the_indicator_off_asks_twilio_nothing(
    catalog: TenantCatalog, sender: OutboundSender, twilio: TwilioServer
) -> None:
    off = catalog_variant(catalog, typing_indicator=TypingIndicatorSettings(enabled=False))
    tenant = off.by_name("acme-pizza")
    sid = _new_sid()
    twilio.receive(tenant, sid)

    shown = await TypingIndicator(sender).show(tenant, sid)

    assert not shown
    assert twilio.typing_on({sid}) == []


async def test_a_reply_ready_at_once_still_shows_typing_first(
    catalog: TenantCatalog, sender: OutboundSender, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    sid = _new_sid()
    twilio.receive(tenant, sid)

    async with TypingIndicator(sender).while_replying(tenant, sid):
        pass  # an answer made without waiting on anything (the offline agent, a canned reply)

    assert twilio.typing_on({sid}) == [sid]


async def test_the_local_only_routes_need_the_accounts_credentials(
    catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    base = f"{twilio.url}/local/Accounts/{tenant.account_sid}"
    async with httpx.AsyncClient() as client:
        anonymous = await client.post(f"{base}/Inbound/{_new_sid()}.json")
        wrong = await client.get(
            f"{base}/Indicators/Typing.json", auth=(tenant.account_sid, "not-the-token")
        )

    assert (anonymous.status_code, wrong.status_code) == (401, 401)


async def test_a_typing_indicator_still_on_its_way_is_shown_before_the_reply_not_after(
    catalog: TenantCatalog,
    processor: TurnProcessor,
    agent: ScriptedAgent,
    twilio: TwilioServer,
    clock: Clock,
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    message = inbound(contact, "menu", at=clock.now)
    twilio.receive(tenant, message.message_sid)
    # The indicator leaves as the agent starts; Twilio acts on it after the reply is ready.
    agent.thinking_seconds = 0.2
    twilio.slow_typing[message.message_sid] = 1.5

    outcome = await processor.handle(message)

    assert outcome.outcome == "replied"
    [typing] = await eventually(
        lambda: [t for t in twilio.typing_indicators if t.message_id == message.message_sid],
        until=bool,
    )
    [reply] = twilio.sent_to(contact)
    assert typing.at < reply.date_created
