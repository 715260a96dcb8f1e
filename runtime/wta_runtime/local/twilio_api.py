"""A local server speaking Twilio's Messages API: records sends and posts status callbacks.

It also shows WhatsApp typing indicators (`wta_runtime.local.twilio_typing`).

Tests can hold the answer to a send after it is recorded (`app.state.hold_replies_to`, a set of
`To` addresses): a sender killed then has left a message at Twilio without knowing its SID.
They can also make Twilio act on a send late (`app.state.slow_sends`, `To` -> seconds): it is
recorded that much after it arrived, as by a Twilio slower than its sender's timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from wta_runtime.local.twilio_typing import add_typing_routes

API = "/2010-04-01/Accounts/{account_sid}"
# A held answer is let go after this, so a forgotten hold cannot keep a request open for ever.
HOLD_SECONDS = 120.0


def _variables(raw: str) -> dict[str, str] | None:
    """A JSON object of strings, as Twilio takes `ContentVariables`; None for anything else."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        return None
    return parsed


@dataclass
class RecordedMessage:
    """One message a client asked this server to send."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime
    media_urls: list[str] = field(default_factory=list)
    status_callback: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def content_variables(self) -> dict[str, str] | None:
        """The template's placeholder values (`ContentVariables`), for a template send."""
        raw = self.params.get("ContentVariables")
        return None if raw is None else _variables(raw)

    def resource(self) -> dict[str, Any]:
        """The message as Twilio's API returns it."""
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "num_media": str(len(self.media_urls)),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": format_datetime(self.date_created),
            "date_updated": format_datetime(self.date_created),
            "date_sent": format_datetime(self.date_created),
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "messaging_service_sid": self.params.get("MessagingServiceSid"),
            "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _date_sent_filter(query: Any) -> Callable[[datetime], bool]:
    """Twilio's `DateSent`, `DateSent>` (on or after), `DateSent<` (on or before) filters.

    Each takes a GMT date (`YYYY-MM-DD`, the whole day) or a time (`YYYY-MM-DDTHH:MM:SSZ`).
    """
    earliest, latest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    for key, value in query.multi_items():
        if key not in ("DateSent", "DateSent>", "DateSent<"):
            continue
        try:
            if "T" in value:
                start = end = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            else:
                start = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
                end = start + timedelta(days=1, microseconds=-1)
        except ValueError:
            raise HTTPException(400, f"Invalid {key}: {value!r}") from None
        if key in ("DateSent", "DateSent>"):
            earliest = max(earliest, start)
        if key in ("DateSent", "DateSent<"):
            latest = min(latest, end)

    def within(sent: datetime) -> bool:
        return earliest <= sent.replace(microsecond=0) <= latest  # Twilio's are whole seconds

    return within


def create_twilio_app(
    accounts: dict[str, str], *, callback_statuses: tuple[str, ...] = ("sent", "delivered")
) -> FastAPI:
    """The app; `accounts` maps Account SID to auth token (Basic auth and callback signatures)."""
    app = FastAPI(title="Local Twilio-compatible API")
    app.state.messages = []
    app.state.hold_replies_to = set()
    app.state.slow_sends = {}
    messages: list[RecordedMessage] = app.state.messages
    held: set[str] = app.state.hold_replies_to
    slow: dict[str, float] = app.state.slow_sends
    tasks: set[asyncio.Task[None]] = set()

    def account_of(authorization: str | None) -> str:
        """The account whose SID and auth token the Basic credentials are; 401 otherwise."""
        if not authorization or not authorization.startswith("Basic "):
            raise HTTPException(401, "Authenticate")
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        expected = accounts.get(user)
        if expected is None or not secrets.compare_digest(password, expected):
            raise HTTPException(401, "Authenticate")
        return user

    def authenticate(account_sid: str, authorization: str | None) -> None:
        if account_of(authorization) != account_sid:
            raise HTTPException(401, "Authenticate")

    add_typing_routes(app, account_of=account_of, error=_error)

    async def send_callbacks(message: RecordedMessage) -> None:
        assert message.status_callback
        validator = RequestValidator(accounts[message.account_sid])
        async with httpx.AsyncClient(timeout=5) as client:
            for status in callback_statuses:
                await asyncio.sleep(0.05)
                message.status = status
                params = {
                    "MessageSid": message.sid,
                    "SmsSid": message.sid,
                    "AccountSid": message.account_sid,
                    "From": message.from_,
                    "To": message.to,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "ApiVersion": "2010-04-01",
                }
                signature = validator.compute_signature(message.status_callback, params)
                try:
                    await client.post(
                        message.status_callback,
                        data=params,
                        headers={"X-Twilio-Signature": signature},
                    )
                except httpx.HTTPError:
                    return

    @app.post(API + "/Messages.json", status_code=201)
    async def create_message(
        account_sid: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """Record a message like Twilio's Messages API does."""
        authenticate(account_sid, authorization)
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        to = params.get("To", "")
        sender = params.get("From") or params.get("MessagingServiceSid", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not params.get("Body") and not form.getlist("MediaUrl") and not params.get("ContentSid"):
            return _error(400, 21619, "A text message body, media or content is required.")
        if "ContentVariables" in params and _variables(params["ContentVariables"]) is None:
            return _error(400, 21656, "The ContentVariables Parameter is invalid.")
        if len(params.get("Body", "")) > 1600:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in slow:
            await asyncio.sleep(slow[to])  # acted on late, its sender may have given up by now
        message = RecordedMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=account_sid,
            to=to,
            from_=sender,
            body=params.get("Body", ""),
            status="queued",
            date_created=datetime.now(UTC),
            media_urls=[str(u) for u in form.getlist("MediaUrl")],
            status_callback=params.get("StatusCallback"),
            params=params,
        )
        messages.append(message)
        if message.status_callback:
            task = asyncio.create_task(send_callbacks(message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        resource = message.resource()
        deadline = time.monotonic() + HOLD_SECONDS
        # Recorded, but the sender does not know it yet. Polled: tests change the set from
        # another thread, which an asyncio.Event of this loop would not notice.
        while to in held and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return JSONResponse(resource, status_code=201)

    @app.get(API + "/Messages.json")
    async def list_messages(
        account_sid: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        To: str | None = None,
        From: str | None = None,
        PageSize: Annotated[int, Query(ge=1, le=1000)] = 50,
        Page: Annotated[int, Query(ge=0)] = 0,
        PageToken: str | None = None,
    ) -> dict[str, Any]:
        """List recorded messages, newest first, filtered and paged like Twilio's API."""
        authenticate(account_sid, authorization)
        sent_when = _date_sent_filter(request.query_params)
        found = [
            m
            for m in reversed(messages)
            if m.account_sid == account_sid
            and (To is None or m.to == To)
            and (From is None or m.from_ == From)
            and sent_when(m.date_created)
        ]
        # Twilio's PageToken is "PA" + the SID the previous page ended with.
        start = 0
        if PageToken:
            after = PageToken.removeprefix("PA")
            start = next((i + 1 for i, m in enumerate(found) if m.sid == after), len(found))
        page = found[start : start + PageSize]
        base = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        filters = [
            (k, v) for k, v in request.query_params.multi_items() if not k.startswith("Page")
        ]

        def page_uri(number: int, token: str | None = None) -> str:
            query = [*filters, ("PageSize", str(PageSize)), ("Page", str(number))]
            if token:
                query.append(("PageToken", token))
            return f"{base}?{urlencode(query)}"

        more = start + PageSize < len(found)
        return {
            "messages": [m.resource() for m in page],
            "page": Page,
            "page_size": PageSize,
            "start": start,
            "end": start + len(page) - 1 if page else start,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(Page + 1, "PA" + page[-1].sid) if more else None,
            "previous_page_uri": page_uri(Page - 1) if Page > 0 else None,
            "uri": f"{base}?{request.url.query}" if request.url.query else base,
        }

    @app.get(API + "/Messages/{message_sid}.json")
    async def read_message(
        account_sid: str, message_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """One recorded message."""
        authenticate(account_sid, authorization)
        for message in messages:
            if message.sid == message_sid and message.account_sid == account_sid:
                return message.resource()
        raise HTTPException(404, "The requested resource was not found")

    return app
