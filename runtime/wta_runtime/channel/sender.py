"""Sends WhatsApp messages for a tenant with its own Twilio credentials."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.rest import Client

from wta_runtime.catalog import Tenant
from wta_runtime.channel.sent_lookup import (
    AttemptedPart,
    ListedMessage,
    find_attempted,
    lookup_since,
)
from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient

if TYPE_CHECKING:
    # The Messages resource's package imports every other v2010 resource too (~9 MiB): only a
    # lookup of a sent message (`find_sent`) needs it, and the SDK imports it for that.
    from twilio.rest.api.v2010.account.message import MessageInstance

STATUS_CALLBACK_PATH = "/api/v1/twilio/status"
# The Messages resource (the HTTP client sends it to the configured API base).
MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json"
# Messages to one contact since an attempt: a handful; the bound keeps a lookup one request or two.
LOOKUP_LIMIT = 100
# A send Twilio has not answered in this long is given up and retried (found, not sent again,
# if Twilio had it).
REQUEST_TIMEOUT_SECONDS = 10.0


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


def _may_pass(status: int) -> bool:
    return status == 429 or status >= 500


@asynccontextmanager
async def _twilio_errors(what: str) -> AsyncIterator[None]:
    """Twilio's refusals and network failures as `SendError`, retryable when trying may help.

    A 2xx whose body is not Twilio's JSON (a proxy's page) is retryable too: the retry looks
    the message up before sending it again (`find_sent`), so it is never sent twice.
    """
    try:
        yield
    except (TwilioRestException, TwilioServiceException) as exc:
        # TwilioServiceException: an RFC 9457 problem document instead of the legacy error.
        status, code = int(exc.status), exc.code
        raise SendError(
            f"Twilio refused {what} ({status}, code {code})",
            retryable=_may_pass(status),
            code=code,
        ) from None
    except TwilioException as exc:
        # A page of a listing that failed: its status, when the SDK kept the response.
        response = exc.args[1] if len(exc.args) > 1 else None
        answered: int | None = getattr(response, "status_code", None)
        detail = answered or (exc.args[0] if exc.args else type(exc).__name__)
        raise SendError(
            f"Twilio failed {what} ({detail})",
            retryable=answered is None or _may_pass(answered),
        ) from None
    except json.JSONDecodeError:
        raise SendError(f"Twilio's answer to {what} is not JSON", retryable=True) from None
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        raise SendError(
            f"Twilio unreachable: {exc or type(exc).__name__}", retryable=True
        ) from None


def _listed(message: MessageInstance) -> ListedMessage:
    return ListedMessage(
        sid=str(message.sid),
        status=str(message.status or "queued"),
        to=str(message.to or ""),
        from_=str(message.from_ or ""),
        body=str(message.body or ""),
        num_media=int(message.num_media or 0),
        date_sent=message.date_sent,
        messaging_service_sid=message.messaging_service_sid,
    )


def whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def status_callback_url(public_base_url: str | None) -> str | None:
    """Where Twilio reports delivery: the gateway's status route at the public URL, if known."""
    return public_base_url.rstrip("/") + STATUS_CALLBACK_PATH if public_base_url else None


class OutboundSender:
    """One Twilio client per tenant, all sharing one HTTP session."""

    def __init__(
        self,
        api_base: str,
        *,
        status_callback_url: str | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        """`timeout`: how long one request to Twilio may take, connecting included."""
        self._http = RebasedTwilioHttpClient(api_base, timeout=timeout)
        self.timeout = timeout
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

    def _service(self, tenant: Tenant, from_number: str) -> str | None:
        return next(
            (n.messaging_service_sid for n in tenant.spec.numbers if n.number == from_number),
            None,
        )

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
        """Send text (and media), or a template instead; return Twilio's SID and first status.

        Through the client's `request_async` (the SDK's documented way to any resource, with its
        authentication and HTTP client) with the resource's own parameter names: the message
        resource's layers around it cost a third of a send's CPU (its reply is parsed into an
        instance whose every date is parsed too), and only the SID and status are needed.
        """
        data: dict[str, object] = {"To": whatsapp(to_number)}
        service = self._service(tenant, from_number)
        if service:
            data["MessagingServiceSid"] = service
        else:
            data["From"] = whatsapp(from_number)
        if template is not None:
            data["ContentSid"] = template.content_sid
            data["ContentVariables"] = json.dumps(template.variables)
        else:
            data["Body"] = body
            if media_urls:
                data["MediaUrl"] = list(media_urls)
        if self._status_callback_url:
            data["StatusCallback"] = self._status_callback_url
        url = MESSAGES_URL.format(account=tenant.account_sid)
        async with _twilio_errors("the message"):
            response = await self._client(tenant).request_async("POST", url, data=data)
            if not 200 <= response.status_code < 300:
                raise Version.exception("POST", url, response, "Unable to create record")
            message = json.loads(response.text) if response.text else {}
            if not isinstance(message, dict) or not message.get("sid"):
                raise SendError("Twilio's answer to the message has no SID", retryable=True)
        return SentMessage(sid=str(message["sid"]), status=str(message.get("status") or "queued"))

    async def show_typing(self, tenant: Tenant, message_sid: str) -> None:
        """Show the contact "typing..." for their message `message_sid` (it also marks it read)."""
        async with _twilio_errors("the typing indicator"):
            await self._client(tenant).messaging.v2.typing_indicator.create_async(
                channel="whatsapp", message_id=message_sid
            )

    async def find_sent(
        self,
        tenant: Tenant,
        *,
        from_number: str,
        to_number: str,
        body: str | None,
        media_count: int,
        attempted_at: datetime,
        taken: Collection[str] = (),
    ) -> SentMessage | None:
        """The message Twilio has for a part handed to it at `attempted_at`, if it has one.

        `body` None for a template; `taken` are SIDs already recorded, never adopted twice.
        """
        service = self._service(tenant, from_number)
        query: dict[str, object] = {
            "to": whatsapp(to_number),
            "date_sent_after": lookup_since(attempted_at),
            "limit": LOOKUP_LIMIT,
        }
        if not service:  # a service picks the sender from its pool: match on the service then
            query["from_"] = whatsapp(from_number)
        async with _twilio_errors("the lookup of a message"):
            listed = await self._client(tenant).messages.list_async(**query)
        part = AttemptedPart(
            to=whatsapp(to_number),
            from_=whatsapp(from_number),
            body=body,
            media_count=media_count,
            attempted_at=attempted_at,
            messaging_service_sid=service,
        )
        found = find_attempted((_listed(m) for m in listed), part, taken=taken)
        return SentMessage(sid=found.sid, status=found.status) if found else None

    async def close(self) -> None:
        await self._http.close()
