"""A real MCP server (the `mcp` SDK's MCPServer, streamable HTTP) of a pizza shop's order system.

It asks for a bearer token, records the JSON-RPC methods and tool calls it gets, and can be
switched off (every request answered 503) to play a server that went down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.utils.servers import serve_in_thread

SHOP_TOKEN = "mcp-s3cret-token"
SLOW_SECONDS = 5.0


@dataclass
class ShopMcp:
    """The running server: its endpoint and what it saw."""

    url: str = ""
    methods: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Authorization headers of requests refused for a wrong or missing token.
    refused: list[str | None] = field(default_factory=list)
    down: bool = False

    def listings(self) -> int:
        return self.methods.count("tools/list")


def _tools(shop: ShopMcp) -> MCPServer:
    server = MCPServer("acme-orders")

    @server.tool()
    def check_order_status(order: str) -> str:
        """Where an order is now, by its number (e.g. A-17)."""
        shop.calls.append(("check_order_status", {"order": order}))
        return f"Order {order}: out for delivery, arriving in about 20 minutes."

    @server.tool()
    def cancel_order(order: str) -> str:
        """Cancel an order (the agents are not allowed to)."""
        shop.calls.append(("cancel_order", {"order": order}))
        return f"Order {order} cancelled."

    @server.tool()
    async def slow_lookup(order: str) -> str:
        """An order lookup that takes longer than the agent waits."""
        shop.calls.append(("slow_lookup", {"order": order}))
        await asyncio.sleep(SLOW_SECONDS)
        return f"Order {order}: found, late."

    @server.tool()
    def broken_lookup(order: str) -> str:
        """An order lookup whose back end fails."""
        shop.calls.append(("broken_lookup", {"order": order}))
        raise ToolError("the order database is offline")

    return server


def create_shop_app(shop: ShopMcp) -> ASGIApp:
    """The MCP app at /mcp, behind the token check and the on/off switch."""
    inner = _tools(shop).streamable_http_app()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        if shop.down:
            await JSONResponse({"error": "down"}, status_code=503)(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization")
        if authorization != f"Bearer {SHOP_TOKEN}".encode():
            shop.refused.append(authorization.decode() if authorization else None)
            await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
            return
        body = b""

        async def recording() -> Message:
            nonlocal body
            message = await receive()
            if message["type"] != "http.request":
                return message
            body += message.get("body", b"")
            if body and not message.get("more_body"):
                request = json.loads(body)
                if isinstance(request, dict) and "method" in request:
                    shop.methods.append(request["method"])
            return message

        await inner(scope, recording, send)

    return app


def shop_mcp_manifests(
    tenant: str, url: str, *, token: str = SHOP_TOKEN, **fields: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Secret with the token's Authorization header, and the `spec.tools.mcp` entry of the
    shop's server that sends it (only check_order_status allowed unless `fields` say else)."""
    secret_name = f"{tenant}-orders"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name},
        "stringData": {"authorization": f"Bearer {token}"},
    }
    header = {
        "name": "Authorization",
        "secretKeyRef": {"name": secret_name, "key": "authorization"},
    }
    server = {
        "name": "shop",
        "url": url,
        "headers": [header],
        "allowTools": ["check_order_status"],
        **fields,
    }
    return secret, server


@contextmanager
def serve_shop_mcp() -> Iterator[ShopMcp]:
    """The shop's MCP server on a free loopback port for the duration of the block."""
    shop = ShopMcp()
    with serve_in_thread(create_shop_app(shop)) as base:
        shop.url = f"{base}/mcp"
        yield shop
