"""One request to an MCP server over streamable HTTP: list its tools, or call one.

The `mcp` SDK is imported by `load_sdk`, when the catalog has an agent with MCP servers: a
worker without any never loads it, and one with some does before its first turn (an import in
a turn would block the event loop for seconds). Each request opens its own session and closes
it; the whole of it, connecting included, must finish within the server's timeout. Every
connection, redirects included, goes only where the platform's egress policy allows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from wta_runtime.agents.http_tools import MAX_RESULT_CHARS
from wta_runtime.egress.connections import egress_client2
from wta_runtime.egress.policy import EgressPolicy, refusal_in

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult

# A server with more pages of tools than this is listed only this far.
MAX_PAGES = 10

Outcome = Literal["ok", "error", "timeout", "unreachable", "refused"]
Unavailable = Literal["timeout", "unreachable", "refused"]


@dataclass(frozen=True)
class ListedTool:
    """A tool as its server describes it."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class CallResult:
    """What the model is told about a call, and how it ended (`outcome` is a metric label)."""

    text: str
    outcome: Outcome


class McpUnavailable(Exception):
    """The server could not be reached, refused us, broke the protocol or was too slow; or the
    platform's egress policy does not let us reach it (`refused`)."""

    def __init__(self, outcome: Unavailable, cause: str) -> None:
        super().__init__(f"{outcome} ({cause})")
        self.outcome = outcome


def load_sdk() -> None:
    """Import the MCP client now rather than in the middle of a turn."""
    import mcp.client.streamable_http  # noqa: F401


@asynccontextmanager
async def _session(
    url: str, headers: Mapping[str, str], egress: EgressPolicy
) -> AsyncIterator[Client]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        egress_client2(egress, headers=dict(headers)) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        yield client


async def list_tools(
    url: str, headers: Mapping[str, str], timeout: float, egress: EgressPolicy
) -> list[ListedTool]:
    """Every tool the server offers (first `MAX_PAGES` pages); raises McpUnavailable."""
    found: list[ListedTool] = []
    try:
        async with asyncio.timeout(timeout), _session(url, headers, egress) as client:
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                found += [
                    ListedTool(t.name, t.description or "", dict(t.input_schema))
                    for t in page.tools
                ]
                cursor = page.next_cursor
                if cursor is None:
                    break
    except TimeoutError:
        raise McpUnavailable("timeout", f"no answer within {timeout:g}s") from None
    except Exception as exc:  # whatever a remote server does wrong, its tools are left out
        refusal = refusal_in(exc)
        if refusal is not None:
            raise McpUnavailable("refused", str(refusal)) from None
        raise McpUnavailable("unreachable", type(exc).__name__) from None
    return found


def result_text(result: CallToolResult) -> str:
    """The text of a tool result, with other content named but left out, cut to a bound."""
    parts = [
        block.text if block.type == "text" else f"[{block.type} content left out]"
        for block in result.content
    ]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)[:MAX_RESULT_CHARS]


async def call_tool(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    egress: EgressPolicy,
    tool: str,
    arguments: dict[str, Any],
) -> CallResult:
    """Call `tool`; a failure is a result the model can read, never an exception."""
    try:
        async with asyncio.timeout(timeout), _session(url, headers, egress) as client:
            result = await client.call_tool(tool, arguments)
    except TimeoutError:
        return CallResult(f"error: no answer within {timeout:g}s", "timeout")
    except Exception as exc:  # a remote server's failure is the model's to explain, not ours
        refusal = refusal_in(exc)
        if refusal is not None:
            return CallResult(f"refused: {refusal}", "refused")
        return CallResult(f"error: the tool's server failed ({type(exc).__name__})", "unreachable")
    if result.is_error:
        return CallResult(f"error: {result_text(result)}", "error")
    return CallResult(result_text(result), "ok")
