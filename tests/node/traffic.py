"""Contacts writing through the gateway's Service at a steady rate, and what they got back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from tests.node.services import NodeServices
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import Tenant

WEBHOOK = "/api/v1/twilio/webhook"
# Twilio retries a webhook that got no 2xx; so do these contacts, a bounded number of times.
RETRIES = 5


@dataclass
class Sent:
    """One contact's message: when it was posted and the gateway's last answer."""

    contact: str
    sent_at: float
    status: int


async def _post(client: httpx.AsyncClient, tenant: Tenant, url: str, body: str) -> Sent:
    contact = new_contact()
    data, headers = webhook_for(tenant, url, contact=contact, body=body)
    sent = Sent(contact, time.monotonic(), 0)
    for _ in range(RETRIES):
        try:
            sent.status = (await client.post(url, data=data, headers=headers)).status_code
        except httpx.TransportError:
            sent.status = 0
        if sent.status == 200:
            break
        await asyncio.sleep(1)
    return sent


async def write_steadily(
    gateway_url: str,
    tenant: Tenant,
    *,
    per_second: float,
    stop: asyncio.Event,
    then: int,
    at_most: int,
) -> list[Sent]:
    """A message a tick from a new contact each, until `stop` is set and `then` more were sent.

    Bounded by `at_most` messages whatever happens.
    """
    url = gateway_url + WEBHOOK
    tasks: list[asyncio.Task[Sent]] = []
    after_stop = 0
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        while len(tasks) < at_most and after_stop < then:
            if stop.is_set():
                after_stop += 1
            body = f"When are you open? #{len(tasks)}"
            tasks.append(asyncio.create_task(_post(client, tenant, url, body)))
            # On a schedule from the start, so a slow tick does not lower the rate.
            await asyncio.sleep(max(0.0, start + len(tasks) / per_second - time.monotonic()))
        return list(await asyncio.gather(*tasks))


async def post_until_accepted(
    url: str, data: dict[str, str], headers: dict[str, str], *, timeout: float
) -> httpx.Response:
    """Post the same webhook (Twilio's retry: same MessageSid) until the gateway takes it.

    The gateway answers 404 until it has read the tenant's route the operator writes.
    """
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            try:
                response = await client.post(url, data=data, headers=headers)
                if response.status_code == 200 or time.monotonic() > deadline:
                    return response
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(1)


async def every_contact_answered(
    services: NodeServices, sent: list[Sent], *, timeout: float, then_wait: float
) -> None:
    """Wait until every contact has a reply, then `then_wait` more so a resend would show."""
    await eventually(
        lambda: [s.contact for s in sent if not services.sent_to(s.contact)],
        until=lambda missing: not missing,
        timeout=timeout,
    )
    await asyncio.sleep(then_wait)
