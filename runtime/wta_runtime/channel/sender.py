"""Sends WhatsApp messages for a tenant with its own Twilio credentials."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from wta_runtime.catalog import Tenant
from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient


class SendError(RuntimeError):
    """Twilio refused or failed the send; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str


def whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class OutboundSender:
    """One Twilio client per tenant, all sharing one HTTP session."""

    def __init__(self, api_base: str, *, status_callback_url: str | None = None) -> None:
        self._http = RebasedTwilioHttpClient(api_base)
        self._status_callback_url = status_callback_url
        self._clients: dict[str, Client] = {}

    def _client(self, tenant: Tenant) -> Client:
        if tenant.name not in self._clients:
            self._clients[tenant.name] = Client(
                tenant.account_sid,
                tenant.auth_token.get_secret_value(),
                http_client=self._http,
            )
        return self._clients[tenant.name]

    async def send_text(
        self, tenant: Tenant, *, from_number: str, to_number: str, body: str
    ) -> SentMessage:
        """Send a free-form text message and return Twilio's message SID and first status."""
        params: dict[str, str] = {}
        if self._status_callback_url:
            params["status_callback"] = self._status_callback_url
        try:
            message = await self._client(tenant).messages.create_async(
                to=whatsapp(to_number), from_=whatsapp(from_number), body=body, **params
            )
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise SendError(
                f"Twilio refused the message ({exc.status}, code {exc.code})",
                retryable=retryable,
                code=exc.code,
            ) from None
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise SendError(f"Twilio unreachable: {exc}", retryable=True) from None
        return SentMessage(sid=str(message.sid), status=str(message.status or "queued"))

    async def close(self) -> None:
        await self._http.close()
