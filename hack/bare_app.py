"""The baseline of the gateway benchmark: a uvicorn app that only answers 200."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response


async def app(scope: dict[str, object], receive: object, send: object) -> None:
    """Read the body and answer 200 with empty TwiML, nothing else."""
    if scope["type"] != "http":
        return
    request = Request(scope, receive)  # type: ignore[arg-type]
    await request.body()
    response = Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="text/xml"
    )
    await response(scope, receive, send)  # type: ignore[arg-type]
