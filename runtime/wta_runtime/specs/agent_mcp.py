"""`AIAgent.spec.tools.mcp`: MCP servers whose tools the agent may call (streamable HTTP)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from wta_runtime.specs.agent_headers import HttpHeader
from wta_runtime.specs.common import (
    LIST_SET,
    SpecModel,
    cel,
    explained_pattern,
    list_map,
    unique,
    validations,
)
from wta_runtime.specs.tenant import HTTP_URL, HTTP_URL_HINT

# The model calls a function by a name of at most 64 letters, digits, '_' and '-'.
MAX_FUNCTION_NAME = 64
SERVER_NAME = r"^[a-z][a-z0-9-]{0,29}$"
SERVER_NAME_HINT = (
    "must start with a lowercase letter and have at most 30 lowercase letters, digits and '-' "
    "(no '_': it separates the server's name from its tools' names), e.g. orders"
)
TOOL_NAME = r"^[a-zA-Z0-9_-]+$"
TOOL_NAME_HINT = (
    "must be the tool's name on the server, in letters, digits, '_' and '-' "
    "(a tool whose name has other characters cannot be offered), e.g. check_order_status"
)
NAME_TOO_LONG = (
    "the model sees each tool as <name>_<tool>, at most 64 characters: "
    "shorten the server's name or leave the tool out"
)

McpToolName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_FUNCTION_NAME,
        pattern=TOOL_NAME,
        json_schema_extra=explained_pattern(TOOL_NAME_HINT),
    ),
]


def function_name(server: str, tool: str) -> str:
    """The name the model sees for `tool` of the MCP server called `server`."""
    return f"{server}_{tool}"


class McpServer(SpecModel):
    """An MCP server reached over streamable HTTP; the model sees only its allowed tools."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                f"self.allowTools.all(t, size(self.name) + size(t) < {MAX_FUNCTION_NAME})",
                NAME_TOO_LONG,
                field_path=".allowTools",
            )
        )
    )

    name: str = Field(
        min_length=1,
        max_length=30,
        pattern=SERVER_NAME,
        description=(
            "Unique in the agent; the model sees the server's tools as <name>_<tool>, "
            "e.g. orders_check_order_status."
        ),
        json_schema_extra=explained_pattern(SERVER_NAME_HINT),
    )
    url: str = Field(
        pattern=HTTP_URL,
        max_length=1024,
        description="The server's streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.",
        json_schema_extra=HTTP_URL_HINT,
    )
    headers: list[HttpHeader] = Field(
        default_factory=list,
        max_length=20,
        description="Headers sent with every request to the server; credentials by Secret key.",
        json_schema_extra=list_map("name"),
    )
    allow_tools: list[McpToolName] = Field(
        min_length=1,
        max_length=50,
        description=(
            "The server's tools the model may call, by their names on the server "
            "(letters, digits, '_' and '-'); the server's other tools are never offered."
        ),
        json_schema_extra=LIST_SET,
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description=(
            "Seconds one request to the server may take (listing its tools, or one call); "
            "a server that does not answer in time leaves its tools out of the turn."
        ),
    )

    @model_validator(mode="after")
    def _names_fit(self) -> McpServer:
        unique(list(self.allow_tools), "tool")
        for tool in self.allow_tools:
            if len(function_name(self.name, tool)) > MAX_FUNCTION_NAME:
                raise ValueError(f"{NAME_TOO_LONG} ({function_name(self.name, tool)})")
        unique([h.name for h in self.headers], "header")
        return self


def mcp_tool_names(servers: Iterable[McpServer]) -> list[str]:
    """Every function name the MCP servers contribute, as the model sees them."""
    return [function_name(s.name, tool) for s in servers for tool in s.allow_tools]
