"""Factories for Twilio webhooks as Twilio would post them."""

from __future__ import annotations

import secrets

from wta_runtime.catalog import Tenant
from wta_runtime.chat import signed_webhook


def new_contact() -> str:
    """A fresh E.164 contact number, so every test has its own conversation."""
    return "+1555" + str(secrets.randbelow(10**7)).zfill(7)


def webhook_for(
    tenant: Tenant, url: str, *, contact: str, body: str, message_sid: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Form parameters and headers of a correctly signed inbound message webhook."""
    params, signature = signed_webhook(
        tenant,
        url,
        contact=contact,
        body=body,
        profile_name="Test Contact",
        message_sid=message_sid or "SM" + secrets.token_hex(16),
    )
    return params, {"X-Twilio-Signature": signature}
