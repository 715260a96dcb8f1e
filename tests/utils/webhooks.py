"""Factories for Twilio webhooks as Twilio would post them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from twilio.request_validator import RequestValidator

from wta_runtime.catalog import Tenant
from wta_runtime.chat import signed_webhook


def new_contact() -> str:
    """A fresh E.164 contact number, so every test has its own conversation."""
    return "+1555" + str(secrets.randbelow(10**7)).zfill(7)


def webhook_for(
    tenant: Tenant,
    url: str,
    *,
    contact: str,
    body: str,
    message_sid: str | None = None,
    media: Sequence[tuple[str, str]] = (),
    profile_name: str = "Test Contact",
) -> tuple[dict[str, str], dict[str, str]]:
    """Form parameters and headers of a correctly signed inbound message webhook.

    `media` is (MediaUrlN, MediaContentTypeN) of each attachment.
    """
    params, signature = signed_webhook(
        tenant,
        url,
        contact=contact,
        body=body,
        profile_name=profile_name,
        message_sid=message_sid or "SM" + secrets.token_hex(16),
    )
    if media:
        params["NumMedia"] = str(len(media))
        for index, (media_url, content_type) in enumerate(media):
            params[f"MediaUrl{index}"] = media_url
            params[f"MediaContentType{index}"] = content_type
        token = tenant.auth_token.get_secret_value()
        signature = RequestValidator(token).compute_signature(url, params)
    return params, {"X-Twilio-Signature": signature}
