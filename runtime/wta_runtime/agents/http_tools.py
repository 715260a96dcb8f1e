"""Declarative HTTP tools: one request per call, to allowed hosts only, never redirected.

The agent's `allowedHosts` is the tenant's own list; where those hosts may resolve to is the
platform's egress policy, checked by the client's connections (`wta_runtime.egress`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from wta_runtime.egress.policy import EgressRefused
from wta_runtime.specs import HttpTool

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolParam

# The model reads the response; more than this is cut so one tool cannot flood the context.
MAX_RESULT_CHARS = 4000


@dataclass(frozen=True)
class HttpToolResult:
    """What the model is told about the call, and how it ended."""

    text: str
    status: Literal["ok", "error", "refused"]
    # Refused by the platform's egress policy, not by the agent's allowedHosts.
    by_egress_policy: bool = False


def definition(tool: HttpTool) -> ChatCompletionToolParam:
    """The function the model sees for an HTTP tool."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """Whether the URL's host is one of the tool's allowed hosts (exact names, no wildcards)."""
    return (urlsplit(url).hostname or "") in allowed_hosts


def _as_query(arguments: Mapping[str, Any]) -> dict[str, str]:
    return {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in arguments.items() if v is not None
    }


async def call(
    client: httpx.AsyncClient,
    tool: HttpTool,
    arguments: Mapping[str, Any],
    headers: Mapping[str, str],
) -> HttpToolResult:
    """Make the tool's request; refusals, timeouts and HTTP errors are results, not exceptions."""
    if not host_allowed(tool.url, tool.allowed_hosts):
        return HttpToolResult(f"refused: {urlsplit(tool.url).hostname} is not allowed", "refused")
    request = client.build_request(
        tool.method,
        tool.url,
        headers=dict(headers),
        params=_as_query(arguments) if tool.method == "GET" else None,
        json=None if tool.method == "GET" else dict(arguments),
        timeout=tool.timeout_seconds,
    )
    try:
        response = await client.send(request, follow_redirects=False)
    except EgressRefused as exc:
        return HttpToolResult(f"refused: {exc}", "refused", by_egress_policy=True)
    except httpx.TimeoutException:
        return HttpToolResult(f"error: no answer within {tool.timeout_seconds:g}s", "error")
    except httpx.HTTPError as exc:
        return HttpToolResult(f"error: the request failed ({type(exc).__name__})", "error")
    if response.is_redirect:
        target = response.headers.get("location", "")
        where = urlsplit(str(response.url.join(target))).hostname
        allowed = host_allowed(str(response.url.join(target)), tool.allowed_hosts)
        verdict = "redirects are not followed" if allowed else f"{where} is not allowed"
        return HttpToolResult(f"refused: the service redirected; {verdict}", "refused")
    body = response.text[:MAX_RESULT_CHARS]
    if response.is_error:
        return HttpToolResult(f"error: HTTP {response.status_code}: {body}", "error")
    return HttpToolResult(body, "ok")
