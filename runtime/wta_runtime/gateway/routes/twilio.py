"""The lean route: Twilio's posts are served before FastAPI's middleware, routing and dependencies.

Every inbound message and delivery callback comes this way, so it is the gateway's hot path; the
FastAPI stack (telemetry, exception middleware, dependency solving) cost more than the checks
themselves. The four paths are matched with one dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import Receive, Scope, Send

from wta_runtime.gateway.routes.status import receive_status
from wta_runtime.gateway.routes.webhook import receive_webhook
from wta_runtime.gateway.state import GatewayState
from wta_runtime.gateway.twilio_request import PLAIN_TEXT, TwilioPost, answer

PREFIX = "/api/v1/twilio/"

TwilioHandler = Callable[[GatewayState, TwilioPost, Send, str | None], Awaitable[None]]
HANDLERS: dict[str, TwilioHandler] = {"webhook": receive_webhook, "status": receive_status}


def match_twilio_path(path: str) -> tuple[TwilioHandler, str | None] | None:
    """The handler of `/api/v1/twilio/{webhook,status}[/{tenant}]` and the tenant, if any."""
    if not path.startswith(PREFIX):
        return None
    name, slash, tenant = path[len(PREFIX) :].partition("/")
    handler = HANDLERS.get(name)
    if handler is None or (slash and (not tenant or "/" in tenant)):
        return None
    return handler, tenant if slash else None


async def serve_twilio(
    state: GatewayState,
    handler: TwilioHandler,
    tenant: str | None,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run the handler for a POST; any other method is not allowed."""
    if scope["method"] != "POST":
        await answer(send, 405, b"Method Not Allowed", PLAIN_TEXT, (b"allow", b"POST"))
        return
    await handler(state, TwilioPost.from_asgi(scope, receive), send, tenant)
