"""An agent's own model endpoint (`spec.model.baseUrl`) is the tenant's URL: reached only where
the platform's egress policy allows; the platform's own endpoint is not checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.utils.egress import refusals
from tests.utils.openai_server import ScriptedModel
from wta_runtime.egress.policy import LOOPBACK

FALLBACK = "A person will answer soon."


def _own_endpoint(folder: Path, model_url: str) -> str:
    """A tenant whose agent names its own OpenAI-compatible endpoint: the scripted model, by
    another name than the platform's base URL."""
    name = new_name()
    own = model_url.replace("127.0.0.1", "localhost")
    model = {"name": "gpt-4o-mini", "timeoutSeconds": 2, "baseUrl": own}
    agent = agent_doc("helper", name, model=model, fallbackMessage=FALLBACK)
    write(folder, [*tenant_docs(name), agent])
    return name


async def test_an_endpoint_on_an_internal_address_is_never_asked_and_the_turn_falls_back(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    model_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = _own_endpoint(tmp_path, model_url)
    runtime = make_runtime(tmp_path)  # the platform's default: public addresses only

    with caplog.at_level(logging.WARNING):
        reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback) == (FALLBACK, True)
    assert model.requests == []
    assert refusals(name, "model") == 1
    assert "localhost is not allowed by the platform's egress policy" in caplog.text


async def test_with_loopback_allowed_the_agents_own_endpoint_answers(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, model_url: str
) -> None:
    name = _own_endpoint(tmp_path, model_url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies.append("Hello from your own endpoint.")

    reply = await runtime.respond(name, context(), "hello", [])

    assert (reply.text, reply.fallback) == ("Hello from your own endpoint.", False)
    assert len(model.requests) == 1
