"""The tools one agent may use, as the model sees them and as they run."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from wta_runtime.agents import builtin_tools, http_tools
from wta_runtime.agents.agent_catalog import AgentResources
from wta_runtime.agents.mcp_tools import McpOffer
from wta_runtime.agents.model_calls import MalformedReply
from wta_runtime.agents.turn import AgentAction, ToolCallRecord, ToolStatus
from wta_runtime.db.knowledge_store import StoredPassage
from wta_runtime.metrics import EGRESS_REFUSED
from wta_runtime.specs.agent import SEND_MEDIA

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolParam

DocumentLookup = Callable[[str], Awaitable[list[StoredPassage]]]


@dataclass(frozen=True)
class ToolOutcome:
    """A finished tool call and the lifecycle action it asks for, if any."""

    record: ToolCallRecord
    action: AgentAction | None = None


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """The arguments of a tool call: a JSON object, or MalformedReply."""
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"tool arguments are not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise MalformedReply("tool arguments must be a JSON object")
    return value


class Toolbox:
    """Built-in, HTTP and MCP tools of an agent for one turn; unknown names are the model's
    mistake."""

    def __init__(
        self,
        resources: AgentResources,
        http: httpx.AsyncClient,
        handoff_note: str | None = None,
        documents: DocumentLookup | None = None,
        mcp: McpOffer | None = None,
    ) -> None:
        """`handoff_note`: what the model learns when it hands off (outside business hours);
        `documents`: searches the agent's ingested `knowledge.sources` for lookup_knowledge;
        `mcp`: the MCP tools listed for this turn (a server that could not be listed has none)."""
        self._resources = resources
        self._documents = documents
        self._handoff_note = handoff_note
        self._http = http
        spec = resources.agent.spec
        self._builtin = set(spec.tools.builtin)
        self._http_tools = {t.name: t for t in spec.tools.http}
        self._mcp = mcp
        self._mcp_tools = dict(mcp.tools) if mcp else {}
        # send_media exists only for an agent with files to send.
        self._media = builtin_tools.MediaChoice(spec.media) if spec.media else None

    @property
    def media_urls(self) -> list[str]:
        """The files the model attached to this turn's reply, in the order it chose them."""
        return list(self._media.urls) if self._media else []

    def definitions(self) -> list[ChatCompletionToolParam]:
        """The `tools` of a chat completions request (built-ins, HTTP tools, MCP tools)."""
        builtin = [builtin_tools.DEFINITIONS[n] for n in sorted(self._builtin)]
        if self._media is not None:
            builtin.append(builtin_tools.send_media_definition(self._resources.agent.spec.media))
        http = [http_tools.definition(t) for t in self._http_tools.values()]
        return builtin + http + [t.definition() for t in self._mcp_tools.values()]

    def _known(self, name: str) -> bool:
        if name == SEND_MEDIA:
            return self._media is not None
        return name in self._builtin or name in self._http_tools or name in self._mcp_tools

    def _parameters(self, name: str) -> dict[str, Any] | None:
        """The JSON schema of a declared or listed tool's arguments; None for built-ins."""
        if name in self._http_tools:
            return self._http_tools[name].parameters
        if name in self._mcp_tools:
            return self._mcp_tools[name].listed.parameters
        return None

    def check_call(self, name: str, raw_arguments: str | None) -> dict[str, Any]:
        """Validate a call before running anything: known tool, JSON object, required keys."""
        if not self._known(name):
            raise MalformedReply(f"the model called an unknown tool {name!r}")
        arguments = parse_arguments(raw_arguments)
        schema = self._parameters(name)
        if schema is not None:
            required = schema.get("required") or []
            missing = [k for k in required if k not in arguments]
            if missing:
                raise MalformedReply(f"tool {name!r} misses required arguments {missing}")
        return arguments

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Carry out a checked call; failures become results the model can read."""
        started = time.perf_counter()
        action = builtin_tools.action_of(name, arguments)
        status: ToolStatus
        if action is not None:
            text, status = f"done: {action.kind} ({action.reason})", "ok"
            if action.kind == "handoff_to_human" and self._handoff_note:
                text = f"{text}. {self._handoff_note}"
        elif name == "lookup_knowledge":
            query = str(arguments.get("query", ""))
            found = await self._documents(query) if self._documents and query.strip() else []
            text, status = builtin_tools.lookup(self._resources.knowledge, query, found), "ok"
        elif name == SEND_MEDIA and self._media is not None:
            # An unknown file name is an answer the model can correct, not a broken reply.
            text, status = self._media.pick(arguments.get("name"))
        elif name in self._mcp_tools and self._mcp is not None:
            text, status = await self._mcp.run(name, arguments)
        else:
            tool = self._http_tools[name]
            headers = self._resources.tool_headers.get(name, {})
            result = await http_tools.call(self._http, tool, arguments, headers)
            text, status = result.text, result.status
            if result.by_egress_policy:
                EGRESS_REFUSED.labels(self._resources.agent.spec.tenant_ref.name, "http_tool").inc()
        record = ToolCallRecord(
            name=name,
            arguments=arguments,
            result=text,
            status=status,
            seconds=time.perf_counter() - started,
        )
        return ToolOutcome(record, action)
