"""MCP tools of the agents: each server's tools listed once in a while, the allowed ones offered.

A worker keeps one listing per server and credentials for `LIST_TTL_SECONDS`; a server that
could not be listed is asked again after `RETRY_SECONDS`, and until then its tools are simply
not offered: the turn goes on without them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from wta_runtime.agents import mcp_client
from wta_runtime.agents.agent_catalog import AgentCatalog
from wta_runtime.agents.mcp_client import CallResult, ListedTool, McpUnavailable
from wta_runtime.agents.turn import ToolStatus
from wta_runtime.egress.policy import EgressPolicy
from wta_runtime.metrics import EGRESS_REFUSED
from wta_runtime.specs.agent_mcp import McpServer, function_name

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolParam

LIST_TTL_SECONDS = 300.0
RETRY_SECONDS = 30.0

log = logging.getLogger("wta.agents.mcp")

MCP_CALLS = Counter(
    "wta_agent_mcp_calls",
    "MCP tool calls, by tenant, agent, MCP server (its name in the agent) and outcome.",
    ["tenant", "agent", "server", "outcome"],
)
MCP_UNAVAILABLE = Counter(
    "wta_agent_mcp_unavailable",
    "Turns whose agent went without an MCP server's tools: the server could not be listed.",
    ["tenant", "agent", "server"],
)


@dataclass(frozen=True)
class McpTool:
    """An allowed tool of one of the agent's MCP servers, as the model sees it."""

    function: str
    server: McpServer
    headers: Mapping[str, str]
    listed: ListedTool

    def definition(self) -> ChatCompletionToolParam:
        return {
            "type": "function",
            "function": {
                "name": self.function,
                "description": self.listed.description or self.listed.name,
                "parameters": self.listed.parameters,
            },
        }


@dataclass(frozen=True)
class _Listing:
    tools: tuple[ListedTool, ...] | None  # None: the server could not be listed
    until: float


def prepare_mcp(catalog: AgentCatalog) -> None:
    """Load the MCP client when some agent of the catalog has MCP servers."""
    if any(r.agent.spec.tools.mcp for r in catalog.resources.values()):
        mcp_client.load_sdk()


def _key(server: McpServer, headers: Mapping[str, str]) -> str:
    """Listings are shared by agents with the same server and credentials, never across them."""
    material = repr((server.url, sorted(headers.items())))
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class McpOffer:
    """The MCP tools one turn of an agent offers the model, and where their calls go."""

    tenant: str
    agent: str
    tools: Mapping[str, McpTool]
    servers: McpTools

    async def run(self, function: str, arguments: dict[str, Any]) -> tuple[str, ToolStatus]:
        return await self.servers.call(self.tenant, self.agent, self.tools[function], arguments)


class McpTools:
    """The MCP servers of every agent of this process: listings cached, calls counted."""

    def __init__(
        self, egress: EgressPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """`egress`: where the servers may be; public addresses only unless it says more."""
        self._egress = egress or EgressPolicy()
        self._clock = clock
        self._listings: dict[str, _Listing] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def offer(
        self,
        tenant: str,
        agent: str,
        servers: list[McpServer],
        headers: Mapping[str, Mapping[str, str]],
    ) -> McpOffer:
        """The allowed tools of the agent's servers that could be listed, by function name."""
        if not servers:
            return McpOffer(tenant, agent, {}, self)
        found = await asyncio.gather(
            *(self._tools_of(tenant, agent, s, headers.get(s.name, {})) for s in servers)
        )
        tools = {tool.function: tool for listed in found for tool in listed}
        return McpOffer(tenant, agent, tools, self)

    async def _tools_of(
        self, tenant: str, agent: str, server: McpServer, headers: Mapping[str, str]
    ) -> list[McpTool]:
        listed = await self._listing(tenant, server, headers)
        if listed is None:
            MCP_UNAVAILABLE.labels(tenant, agent, server.name).inc()
            return []
        allowed = set(server.allow_tools)
        return [
            McpTool(function_name(server.name, t.name), server, headers, t)
            for t in listed
            if t.name in allowed
        ]

    async def _listing(
        self, tenant: str, server: McpServer, headers: Mapping[str, str]
    ) -> tuple[ListedTool, ...] | None:
        key = _key(server, headers)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one listing at a time per server: turns that wait share its result
            cached = self._listings.get(key)
            if cached is not None and cached.until > self._clock():
                return cached.tools
            try:
                tools: tuple[ListedTool, ...] | None = tuple(
                    await mcp_client.list_tools(
                        server.url, headers, server.timeout_seconds, self._egress
                    )
                )
                ttl = LIST_TTL_SECONDS
            except McpUnavailable as exc:
                log.warning("MCP server %s could not be listed: %s", server.name, exc)
                if exc.outcome == "refused":
                    EGRESS_REFUSED.labels(tenant, "mcp").inc()
                tools, ttl = None, RETRY_SECONDS
            self._listings[key] = _Listing(tools, self._clock() + ttl)
            return tools

    async def call(
        self, tenant: str, agent: str, tool: McpTool, arguments: dict[str, Any]
    ) -> tuple[str, ToolStatus]:
        """Run the tool on its server; the text the model reads, and the call's status."""
        server = tool.server
        result: CallResult = await mcp_client.call_tool(
            server.url,
            tool.headers,
            server.timeout_seconds,
            self._egress,
            tool.listed.name,
            arguments,
        )
        MCP_CALLS.labels(tenant, agent, server.name, result.outcome).inc()
        if result.outcome == "refused":
            EGRESS_REFUSED.labels(tenant, "mcp").inc()
        if result.outcome != "ok":
            log.warning("MCP tool %s ended: %s", tool.function, result.outcome)
        if result.outcome in ("unreachable", "refused"):
            # Listed again on the next turn: the server may have moved or changed.
            self._listings.pop(_key(server, tool.headers), None)
        return result.text, "ok" if result.outcome == "ok" else "error"
