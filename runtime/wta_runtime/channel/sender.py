"""Sends WhatsApp messages for a tenant with its own Twilio credentials."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from wta_runtime.catalog import Tenant
from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient

STATUS_CALLBACK_PATH = "/api/v1/twilio/status"


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


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: Content SID and its placeholder values."""

    content_sid: str
    variables: dict[str, str]


def whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def status_callback_url(public_base_url: str | None) -> str | None:
    """Where Twilio reports delivery: the gateway's status route at the public URL, if known."""
    return public_base_url.rstrip("/") + STATUS_CALLBACK_PATH if public_base_url else None


class OutboundSender:
    """One Twilio client per tenant, all sharing one HTTP session."""

    def __init__(self, api_base: str, *, status_callback_url: str | None = None) -> None:
        self._http = RebasedTwilioHttpClient(api_base)
        self._status_callback_url = status_callback_url
        self._clients: dict[tuple[str, str, str], Client] = {}

    def _client(self, tenant: Tenant) -> Client:
        # Keyed by the credentials too: a rotated token gets a new client, not the stale one.
        key = (tenant.name, tenant.account_sid, tenant.auth_token.get_secret_value())
        if key not in self._clients:
            self._clients[key] = Client(key[1], key[2], http_client=self._http)
        return self._clients[key]

    async def send_text(
        self, tenant: Tenant, *, from_number: str, to_number: str, body: str
    ) -> SentMessage:
        """Send a free-form text message and return Twilio's message SID and first status."""
        return await self.send(tenant, from_number=from_number, to_number=to_number, body=body)

    async def send(
        self,
        tenant: Tenant,
        *,
        from_number: str,
        to_number: str,
        body: str = "",
        media_urls: Sequence[str] = (),
        template: Template | None = None,
    ) -> SentMessage:
        """Send text (and media), or a template instead; return Twilio's SID and first status."""
        params: dict[str, object] = {"to": whatsapp(to_number)}
        service = next(
            (n.messaging_service_sid for n in tenant.spec.numbers if n.number == from_number),
            None,
        )
        if service:
            params["messaging_service_sid"] = service
        else:
            params["from_"] = whatsapp(from_number)
        if template is not None:
            params["content_sid"] = template.content_sid
            params["content_variables"] = json.dumps(template.variables)
        else:
            params["body"] = body
            if media_urls:
                params["media_url"] = list(media_urls)
        if self._status_callback_url:
            params["status_callback"] = self._status_callback_url
        try:
            message = await self._client(tenant).messages.create_async(**params)
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
