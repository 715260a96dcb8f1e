"""The local Twilio API, failing the next sends with scripted HTTP statuses (429, 5xx, 4xx)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.utils.servers import serve_in_thread
from wta_runtime.catalog import TenantCatalog
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app

TWILIO_CODES = {400: 21211, 429: 20429, 500: 20500, 503: 20503}


def flaky_twilio_app(accounts: dict[str, str], failures: list[int]) -> FastAPI:
    """Each send pops one status from `failures` and fails with it; an empty list means success."""
    app = create_twilio_app(accounts)

    @app.middleware("http")
    async def fail_next(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method == "POST" and request.url.path.endswith("/Messages.json") and failures:
            status = failures.pop(0)
            code = TWILIO_CODES.get(status, 20500)
            return JSONResponse(
                {"code": code, "message": "scripted failure", "status": status},
                status_code=status,
            )
        return await call_next(request)

    return app


@dataclass
class FlakyTwilio:
    """A running flaky Twilio API: append statuses to `failures` to fail the next sends."""

    failures: list[int]
    messages: list[RecordedMessage]
    url: str

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]


@contextmanager
def serve_flaky_twilio(catalog: TenantCatalog) -> Iterator[FlakyTwilio]:
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    failures: list[int] = []
    app = flaky_twilio_app(accounts, failures)
    with serve_in_thread(app) as url:
        yield FlakyTwilio(failures, app.state.messages, url)
