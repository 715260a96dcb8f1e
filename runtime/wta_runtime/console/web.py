"""What every console page shares: templates, security headers, the console's own state."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from wta_runtime.channel.media_stores import MediaStores, platform_media_store
from wta_runtime.console.attachments import shown_as
from wta_runtime.console.language import language_of, remember_choice, translator
from wta_runtime.console.login_limiter import LoginLimiter
from wta_runtime.settings import Settings

HERE = Path(__file__).resolve().parent
TIME_ZONE_COOKIE = "wta_console_tz"
# Only this origin's own files run; nothing may frame the console.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def refusal(exc: HTTPException) -> Response:
    """An HTTP error as the console answers it: a redirect, or its reason as plain text."""
    return PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)


class ConsoleRoute(APIRoute):
    """A console route: its every response, errors too, carries the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                response = refusal(exc)
            response.headers.update(SECURITY_HEADERS)
            return response

        return secured


@dataclass
class ConsoleState:
    templates: Jinja2Templates
    limiter: LoginLimiter
    clock: Callable[[], datetime]
    # Where each tenant's attachments are kept, as the workers that stored them see it.
    media: MediaStores


def when(moment: datetime | None, zone: tzinfo = UTC) -> str:
    """A time as staff read it: in their time zone, to the minute."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def time_zone_of(request: Request) -> tzinfo:
    """The browser's time zone, which the console's script reports in a cookie; else UTC."""
    name = unquote(request.cookies.get(TIME_ZONE_COOKIE, ""))
    try:
        return ZoneInfo(name) if 0 < len(name) <= 64 else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def new_console_state(settings: Settings) -> ConsoleState:
    clock = lambda: datetime.now(UTC)  # noqa: E731
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["when"] = when
    templates.env.filters["shown_as"] = shown_as
    return ConsoleState(
        templates=templates,
        limiter=LoginLimiter(clock),
        clock=clock,
        media=MediaStores(
            platform_media_store(settings, pool_size=4),
            pool_size=4,
            egress=settings.egress_policy,
        ),
    )


async def get_console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


ConsoleDep = Annotated[ConsoleState, Depends(get_console_state)]


def page_words(request: Request) -> dict[str, Any]:
    """The page's language and its `_` for the templates' words."""
    lang = language_of(request)
    return {"lang": lang, "_": translator(lang), "tz": time_zone_of(request)}


def render(
    console: ConsoleState, request: Request, name: str, status_code: int = 200, **context: Any
) -> Response:
    """A page from templates/, every value autoescaped, in the staff member's language."""
    response = console.templates.TemplateResponse(
        request, name, page_words(request) | context, status_code=status_code
    )
    remember_choice(request, response)
    return response
