"""Every parameter of every API route is validated: a bad one is a 422 naming it, never a 5xx.

The routes and their parameters are read from the running gateway's own OpenAPI document, so a
route added later is fuzzed too; requests carry a real API key of the tenant.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Platform
from tests.utils.conversations import ACME, conversation_in
from wta_runtime.db.api_keys import issue_api_key

API = f"/api/v1/tenants/{ACME}"
# What broke the API before: NUL, numbers past int64, lone surrogates, huge and odd strings.
NASTY = [
    "\x00",
    "a\x00b",
    "\ud800",
    "9431737170834675383192780800",
    "-9431737170834675383192780800",
    "-1",
    "0",
    "1e309",
    "NaN",
    "",
    " ",
    "%",
    "%00",
    "../..",
    "x" * 70,
    "x" * 300,
    "y" * 5000,
    "https://example.com/\x00",
    "file:///etc/passwd",
    str(uuid.uuid4()),
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=80), st.integers().map(str))
json_value = st.one_of(
    text,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(text, max_size=12),
    st.dictionaries(text, text, max_size=3),
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: list[dict[str, Any]]
    body_fields: list[str]


@dataclass(frozen=True)
class Api:
    client: httpx.Client
    operations: list[Operation]
    conversation_ids: list[str]


def _operations(spec: dict[str, Any]) -> list[Operation]:
    schemas = spec.get("components", {}).get("schemas", {})
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body_fields: list[str] = []
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref:
                body_fields = list(schemas[ref.rsplit("/", 1)[-1]].get("properties", {}))
            found.append(
                Operation(method.upper(), path, operation.get("parameters", []), body_fields)
            )
    return found


def _encoded(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture(scope="module")
async def api(platform: Platform, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Api]:
    """A client with a real API key of acme-pizza, the API's operations and some conversations."""
    async with sessions.begin() as session:
        key = await issue_api_key(session, tenant=ACME, name="fuzz", now=datetime.now(UTC))
    ids = [str((await conversation_in(sessions, s)).id) for s in ("progress", "human_handoff")]
    async with httpx.AsyncClient(base_url=platform.gateway_url) as reader:
        spec = (await reader.get("/openapi.json")).json()
    operations = [op for op in _operations(spec) if "{tenant}" in op.path]
    # Hypothesis drives plain functions: the requests are made with a blocking client.
    with httpx.Client(
        base_url=platform.gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        yield Api(client, operations, ids)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("contact=%00", "contact"),
        ("status=%00", "status"),
        ("status=progress&status=nope", "status"),
        ("offset=9431737170834675383192780800", "offset"),
        ("limit=-1", "limit"),
        ("contact=" + "1" * 65, "contact"),
    ],
)
def test_a_bad_query_parameter_is_a_422_that_names_it(api: Api, query: str, parameter: str) -> None:
    response = api.client.get(f"{API}/conversations?{query}")

    assert response.status_code == 422, response.text
    assert any(e["loc"][:2] == ["query", parameter] for e in response.json()["detail"])


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("handoff", {"reason": "a\x00b"}, "reason"),
        ("assign", {"staff": "\x00"}, "staff"),
        ("replies", {"text": "hi\x00"}, "text"),
        ("replies", {"text": "hi", "staff": "\ud800"}, "staff"),
        ("replies", {"text": "hi", "media_urls": ["file:///etc/passwd"]}, "media_urls"),
    ],
)
def test_a_body_field_postgresql_cannot_hold_is_a_422_that_names_it(
    api: Api, route: str, body: dict[str, Any], field: str
) -> None:
    path = f"{API}/conversations/{api.conversation_ids[1]}/{route}"
    response = api.client.post(path, content=json.dumps(body), headers=_json())

    assert response.status_code == 422, response.text
    assert any(e["loc"][:2] == ["body", field] for e in response.json()["detail"])


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_parameter_of_any_route_gives_a_server_error(api: Api, data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(api.operations), label="operation")
    path, query, headers = operation.path, [], dict[str, str]()
    for parameter in operation.parameters:
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            usual = [ACME] if name == "tenant" else api.conversation_ids
            value = data.draw(st.one_of(st.sampled_from(usual), text), label=name)
            path = path.replace("{" + name + "}", _encoded(value) or "x")
        elif where == "query" and data.draw(st.booleans(), label=f"with {name}"):
            for value in data.draw(st.lists(text, min_size=1, max_size=3), label=name):
                query.append(f"{quote(name)}={_encoded(value)}")
        elif where == "header" and data.draw(st.booleans(), label=f"with {name}"):
            headers[name] = data.draw(
                st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=100).map(
                    str.strip  # h11 sends no header value with surrounding spaces
                ),
                label=name,
            )
    content = None
    if operation.body_fields:
        fields = data.draw(st.sets(st.sampled_from(operation.body_fields)), label="fields")
        body = {f: data.draw(json_value, label=f) for f in fields}
        content = json.dumps(body).encode()
        headers |= _json()
    url = path + ("?" + "&".join(query) if query else "")

    response = api.client.request(operation.method, url, content=content, headers=headers)

    assert response.status_code < 500, f"{operation.method} {url} {content!r}: {response.text}"
