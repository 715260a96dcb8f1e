"""The provider seam's pure parts: messages to and from LangChain, failure reasons, extras."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx
import pytest
import yaml
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from openai.types.chat import ChatCompletionMessageParam

from tests.utils.anthropic_server import anthropic_model, api_key_secret
from wta_runtime.agents.chat_model import StepCall
from wta_runtime.agents.langchain_models import failure_reason, step_of, to_langchain
from wta_runtime.agents.model_calls import MalformedReply
from wta_runtime.agents.providers import missing_integration
from wta_runtime.agents.turn import Usage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/messages")


def test_the_history_with_a_tool_round_trip_becomes_langchain_messages() -> None:
    history: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are the pizza assistant."},
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Earlier answer"},
        {"role": "user", "content": "I want a person"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "handoff_to_human", "arguments": '{"reason": "asked"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "done: handoff_to_human (asked)"},
    ]

    converted = to_langchain(history)

    assert [type(m) for m in converted] == [
        SystemMessage,
        HumanMessage,
        AIMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
    ]
    assert converted[0].content == "You are the pizza assistant."
    called = converted[4]
    assert isinstance(called, AIMessage)
    assert called.content == ""
    assert [(c["id"], c["name"], c["args"]) for c in called.tool_calls] == [
        ("toolu_1", "handoff_to_human", {"reason": "asked"})
    ]
    result = converted[5]
    assert isinstance(result, ToolMessage)
    assert (result.tool_call_id, result.content) == ("toolu_1", "done: handoff_to_human (asked)")


def test_a_reply_with_text_tool_calls_and_usage_becomes_a_step() -> None:
    reply = AIMessage(
        content=[
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_9", "name": "lookup_knowledge", "input": {}},
        ],
        tool_calls=[{"id": "toolu_9", "name": "lookup_knowledge", "args": {"query": "hours"}}],
        usage_metadata={"input_tokens": 30, "output_tokens": 8, "total_tokens": 38},
    )

    step = step_of(reply)

    assert step.text == "Let me check."
    assert step.tool_calls == (StepCall("toolu_9", "lookup_knowledge", '{"query": "hours"}'),)
    assert json.loads(step.tool_calls[0].arguments) == {"query": "hours"}
    assert step.usage == Usage(30, 8, 1)


def test_a_reply_without_usage_still_counts_as_one_call() -> None:
    assert step_of(AIMessage(content="Hi")).usage == Usage(0, 0, 1)


def test_broken_tool_arguments_are_a_malformed_reply_that_still_cost_tokens() -> None:
    reply = AIMessage(
        content="",
        invalid_tool_calls=[
            {"id": "t", "name": "lookup_knowledge", "args": "{not json", "error": "bad JSON"}
        ],
        usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    )

    with pytest.raises(MalformedReply, match="lookup_knowledge") as refused:
        step_of(reply)

    assert refused.value.usage == Usage(5, 2, 1)


def _status_error(kind: type[anthropic.APIStatusError], status: int) -> Exception:
    return kind("scripted", response=httpx.Response(status, request=REQUEST), body=None)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_status_error(anthropic.RateLimitError, 429), "rate_limited"),
        (_status_error(anthropic.InternalServerError, 529), "server_error"),
        (_status_error(anthropic.InternalServerError, 500), "server_error"),
        (_status_error(anthropic.AuthenticationError, 401), "rejected"),
        (_status_error(anthropic.BadRequestError, 400), "rejected"),
        (anthropic.APITimeoutError(REQUEST), "timeout"),
        (anthropic.APIConnectionError(request=REQUEST), "connection"),
        (httpx.ConnectError("refused"), "connection"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (TimeoutError(), "timeout"),
        (ValueError("something else"), "rejected"),
    ],
)
def test_integration_errors_get_the_same_reasons_as_openai_ones(
    error: Exception, reason: str
) -> None:
    assert failure_reason(error) == reason


def test_a_provider_without_its_extra_is_named_with_the_extra_to_install() -> None:
    assert missing_integration("openai") is None
    assert missing_integration("anthropic") is None  # the dev install has it
    problem = missing_integration("google_genai")
    assert problem is not None
    assert "'google' extra" in problem
    assert "langchain-google-genai" in problem


LOADED_AFTER_RUNTIME = """
import sys
from pathlib import Path
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.runtime import AgentRuntime
AgentRuntime(catalog=load_agent_catalog(Path(sys.argv[1])), sessions=None)
print(sorted({m.split(".")[0] for m in sys.modules if m.startswith(("langchain", "anthropic"))}))
"""


def _loaded_after_runtime(folder: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_RUNTIME, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(ast.literal_eval(done.stdout.strip()))


def test_openai_agents_never_load_langchain_and_anthropic_ones_load_it_before_a_turn(
    tmp_path: Path,
) -> None:
    openai_only, claude = tmp_path / "openai", tmp_path / "claude"
    openai_only.mkdir()
    for name in ("acme-pizza-tenant.yaml", "acme-pizza-agent.yaml"):
        shutil.copy(EXAMPLES / name, openai_only / name)
    shutil.copytree(openai_only, claude)
    agent_file = claude / "acme-pizza-agent.yaml"
    docs = list(yaml.safe_load_all(agent_file.read_text()))
    for doc in docs:
        if doc["kind"] == "AIAgent":
            doc["spec"]["model"] = anthropic_model(
                "http://127.0.0.1:9", "anthropic", "claude-haiku-4-5"
            )
    agent_file.write_text(yaml.safe_dump_all([*docs, api_key_secret("anthropic", "sk-ant")]))

    assert _loaded_after_runtime(openai_only) == set()
    assert {"langchain", "langchain_anthropic"} <= _loaded_after_runtime(claude)
