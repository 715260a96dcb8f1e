"""Mounts the console on the gateway app: its routes and its own state."""

from __future__ import annotations

from fastapi import FastAPI

from wta_runtime.console import (
    conversation_routes,
    list_routes,
    login_routes,
    media_routes,
    queue_routes,
    reply_routes,
    typing_routes,
)
from wta_runtime.console.web import new_console_state
from wta_runtime.settings import Settings


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Serve the staff console under /console."""
    app.state.console = new_console_state(settings)
    app.include_router(login_routes.router)
    app.include_router(queue_routes.router)
    app.include_router(list_routes.router)
    # Before the conversation's own routes: its `/{move}` would take `/reply` and `/template`.
    app.include_router(reply_routes.router)
    # Before the conversation's `/{move}` route, which would take `/typing` for a move.
    app.include_router(typing_routes.router)
    app.include_router(conversation_routes.router)
    app.include_router(media_routes.router)
