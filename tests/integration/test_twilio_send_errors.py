"""Every way a Twilio call can fail reaches the caller as a `SendError` saying whether to retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.utils.flaky_twilio import Fault, FlakyTwilio
from tests.utils.webhooks import new_contact
from wta_runtime.catalog import Tenant, TenantCatalog
from wta_runtime.channel.sender import OutboundSender, SendError

# Shorter than a too-slow Twilio's answer (`Fault.TOO_SLOW`), long enough for a busy machine.
TIMEOUT = 3.0
RETRYABLE: list[int | Fault] = [
    429,
    500,
    503,
    Fault.HTML_502,
    Fault.PROBLEM_503,
    Fault.CUT_OFF,
    Fault.TOO_SLOW,
    Fault.NOT_JSON,
]
FINAL: list[tuple[int | Fault, int]] = [(400, 21211), (Fault.PROBLEM_400, 21211)]


@pytest.fixture
async def flaky_sender(flaky: FlakyTwilio) -> AsyncIterator[OutboundSender]:
    created = OutboundSender(flaky.url, timeout=TIMEOUT)
    yield created
    await created.close()


@pytest.fixture
def tenant(catalog: TenantCatalog) -> Tenant:
    return catalog.by_name("acme-pizza")


async def _send(sender: OutboundSender, tenant: Tenant, contact: str) -> str:
    number = tenant.spec.numbers[0].number
    sent = await sender.send(tenant, from_number=number, to_number=contact, body="hello")
    return sent.sid


@pytest.mark.parametrize("failure", RETRYABLE, ids=str)
async def test_a_send_that_may_pass_later_is_a_retryable_send_error(
    failure: int | Fault, flaky: FlakyTwilio, flaky_sender: OutboundSender, tenant: Tenant
) -> None:
    flaky.failures.append(failure)

    with pytest.raises(SendError) as failed:
        await _send(flaky_sender, tenant, new_contact())

    assert failed.value.retryable


@pytest.mark.parametrize(("failure", "code"), FINAL, ids=str)
async def test_a_refused_send_is_a_final_send_error_with_twilios_code(
    failure: int | Fault,
    code: int,
    flaky: FlakyTwilio,
    flaky_sender: OutboundSender,
    tenant: Tenant,
) -> None:
    flaky.failures.append(failure)

    with pytest.raises(SendError) as failed:
        await _send(flaky_sender, tenant, new_contact())

    assert (failed.value.retryable, failed.value.code) == (False, code)


@pytest.mark.parametrize("failure", [503, Fault.HTML_502, Fault.NOT_JSON, Fault.CUT_OFF], ids=str)
async def test_a_failed_lookup_of_a_lost_send_is_a_retryable_send_error(
    failure: int | Fault, flaky: FlakyTwilio, flaky_sender: OutboundSender, tenant: Tenant
) -> None:
    contact = new_contact()
    attempted_at = datetime.now(UTC)
    await _send(flaky_sender, tenant, contact)
    flaky.lookup_failures.append(failure)

    with pytest.raises(SendError) as failed:
        await flaky_sender.find_sent(
            tenant,
            from_number=tenant.spec.numbers[0].number,
            to_number=contact,
            body="hello",
            media_count=0,
            attempted_at=attempted_at,
        )

    assert failed.value.retryable
