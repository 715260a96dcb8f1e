"""The local Twilio API, failing the next sends as scripted: an HTTP status (429, 5xx, 4xx) with
Twilio's JSON error, or a `Fault` a real Twilio or a proxy in front of it can show."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.utils.servers import serve_in_thread
from wta_runtime.catalog import TenantCatalog
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app

TWILIO_CODES = {400: 21211, 429: 20429, 500: 20500, 503: 20503}


class Fault(StrEnum):
    """A failed send that is not Twilio's JSON error."""

    # A proxy's 502 page: HTML, not JSON. Twilio never saw the message.
    HTML_502 = "html-502"
    # RFC 9457 problem documents (the SDK raises TwilioServiceException for them).
    PROBLEM_503 = "problem-503"
    PROBLEM_400 = "problem-400"
    # Twilio recorded the message, then the connection closed in the middle of its answer.
    CUT_OFF = "cut-off"
    # Twilio recorded the message, but answered after the client stopped waiting.
    TOO_SLOW = "too-slow"
    # Twilio recorded the message, and a proxy answered 200 with a body that is not JSON.
    NOT_JSON = "not-json"


# TOO_SLOW answers once the client has gone, or after this if it waits that long.
TOO_SLOW_SECONDS = 60.0


def _response(
    status: int, body: bytes, content_type: bytes, length: int | None = None
) -> list[Message]:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(length or len(body)).encode()),
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


def _failure(status: int) -> list[Message]:
    code = TWILIO_CODES.get(status, 20500)
    body = json.dumps({"code": code, "message": "scripted failure", "status": status})
    return _response(status, body.encode(), b"application/json")


def _fault(fault: Fault) -> list[Message]:
    if fault is Fault.HTML_502:
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return _response(502, page, b"text/html")
    if fault in (Fault.PROBLEM_503, Fault.PROBLEM_400):
        status = 503 if fault is Fault.PROBLEM_503 else 400
        code = TWILIO_CODES[status]
        problem = {
            "type": f"https://www.twilio.com/docs/errors/{code}",
            "title": "Service Unavailable" if status == 503 else "Invalid 'To' Phone Number",
            "status": status,
            "code": code,
            "detail": "scripted failure",
        }
        return _response(status, json.dumps(problem).encode(), b"application/problem+json")
    if fault is Fault.CUT_OFF:
        # Fewer bytes than announced: the server closes the connection after them.
        return _response(201, b'{"sid": "SM', b"application/json", length=400)
    return _response(200, b"<html>Please log in to the proxy</html>", b"text/html")


class FaultyTwilio:
    """An ASGI wrapper of the local Twilio API: each send pops one failure from `failures`,
    each listing of messages (a lookup of a lost send) one from `lookup_failures`."""

    def __init__(
        self, app: ASGIApp, failures: list[int | Fault], lookup_failures: list[int | Fault]
    ) -> None:
        self._app = app
        self._failures = {"POST": failures, "GET": lookup_failures}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scripted = (
            self._failures.get(scope["method"])
            if scope["type"] == "http" and scope["path"].endswith("/Messages.json")
            else None
        )
        if not scripted:
            await self._app(scope, receive, send)
            return
        failure = scripted.pop(0)
        if isinstance(failure, int):
            messages = _failure(failure)
        elif failure in (Fault.HTML_502, Fault.PROBLEM_503, Fault.PROBLEM_400):
            messages = _fault(failure)
        else:
            answer: list[Message] = []

            async def keep(message: Message) -> None:
                answer.append(message)

            await self._app(scope, receive, keep)  # recorded, as Twilio would
            if failure is Fault.TOO_SLOW:
                # The request was read whole: the next event is the client hanging up.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(receive(), TOO_SLOW_SECONDS)
                messages = answer
            else:
                messages = _fault(failure)
        for message in messages:
            await send(message)


@dataclass
class FlakyTwilio:
    """A running flaky Twilio API: append statuses or faults to `failures` to fail the next
    sends."""

    failures: list[int | Fault]
    messages: list[RecordedMessage]
    url: str
    lookup_failures: list[int | Fault]

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]


@contextmanager
def serve_flaky_twilio(catalog: TenantCatalog) -> Iterator[FlakyTwilio]:
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    failures: list[int | Fault] = []
    lookup_failures: list[int | Fault] = []
    app = create_twilio_app(accounts)
    with serve_in_thread(FaultyTwilio(app, failures, lookup_failures)) as url:
        yield FlakyTwilio(failures, app.state.messages, url, lookup_failures)
