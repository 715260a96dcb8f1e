"""`wta chat`: a terminal WhatsApp contact that posts signed webhooks and prints the replies."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from twilio.request_validator import RequestValidator

from wta_runtime.catalog import Tenant


def new_message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def signed_webhook(
    tenant: Tenant, url: str, *, contact: str, body: str, profile_name: str, message_sid: str
) -> tuple[dict[str, str], str]:
    """The form Twilio would post for this message, and its `X-Twilio-Signature`."""
    params = {
        "MessageSid": message_sid,
        "SmsMessageSid": message_sid,
        "AccountSid": tenant.account_sid,
        "From": f"whatsapp:{contact}",
        "To": f"whatsapp:{tenant.numbers[0]}",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": profile_name,
        "WaId": contact.lstrip("+"),
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(tenant.auth_token.get_secret_value()).compute_signature(
        url, params
    )
    return params, signature


@dataclass
class ChatSession:
    """One simulated contact talking to one tenant through the gateway and the local Twilio API."""

    tenant: Tenant
    gateway_url: str
    twilio_api_base: str
    contact: str
    profile_name: str = "Local Tester"
    seen: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    typing_seen: set[str] = field(default_factory=set)

    @property
    def webhook_url(self) -> str:
        return self.gateway_url.rstrip("/") + "/api/v1/twilio/webhook"

    @property
    def _auth(self) -> tuple[str, str]:
        return (self.tenant.account_sid, self.tenant.auth_token.get_secret_value())

    def _replies(self, client: httpx.Client) -> list[dict[str, str]]:
        response = client.get(
            f"{self.twilio_api_base}/2010-04-01/Accounts/{self.tenant.account_sid}/Messages.json",
            params={"To": f"whatsapp:{self.contact}", "PageSize": 1000},
            auth=self._auth,
        )
        response.raise_for_status()
        return list(reversed(response.json()["messages"]))

    def _typing_shown(self, client: httpx.Client) -> list[str]:
        """Our messages the local Twilio showed "typing..." for, once each, new ones only."""
        response = client.get(
            f"{self.twilio_api_base}/local/Accounts/{self.tenant.account_sid}"
            "/Indicators/Typing.json",
            auth=self._auth,
        )
        response.raise_for_status()
        shown = [t["message_id"] for t in response.json()["typing_indicators"]]
        new = [sid for sid in dict.fromkeys(shown) if sid in self.sent - self.typing_seen]
        self.typing_seen.update(new)
        return new

    def mark_seen(self, client: httpx.Client) -> None:
        self.seen.update(m["sid"] for m in self._replies(client))

    def send(self, client: httpx.Client, text: str) -> httpx.Response:
        """The message reaches the local Twilio first (as on WhatsApp), then its webhook."""
        sid = new_message_sid()
        client.post(
            f"{self.twilio_api_base}/local/Accounts/{self.tenant.account_sid}/Inbound/{sid}.json",
            auth=self._auth,
        ).raise_for_status()
        self.sent.add(sid)
        params, signature = signed_webhook(
            self.tenant,
            self.webhook_url,
            contact=self.contact,
            body=text,
            profile_name=self.profile_name,
            message_sid=sid,
        )
        return client.post(self.webhook_url, data=params, headers={"X-Twilio-Signature": signature})

    def wait_for_replies(
        self,
        client: httpx.Client,
        *,
        timeout: float,
        on_reply: Callable[[str], None],
        on_typing: Callable[[], None] = lambda: None,
    ) -> int:
        """Print replies as they arrive; stop once one came and no more for a moment, or timeout.

        `on_typing` is called when the business is shown typing on one of our messages.
        """
        deadline = time.monotonic() + timeout
        got = 0
        quiet_until: float | None = None
        while time.monotonic() < deadline:
            for _ in self._typing_shown(client):
                on_typing()
            for message in self._replies(client):
                if message["sid"] not in self.seen:
                    self.seen.add(message["sid"])
                    on_reply(message["body"])
                    got += 1
                    quiet_until = time.monotonic() + 0.7
            if quiet_until is not None and time.monotonic() > quiet_until:
                break
            time.sleep(0.1)
        return got
