"""`wta eval` of an agent on the anthropic provider: the same command, priced and counted."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import AnthropicServer
from tests.evals.test_wta_eval import PIZZA_MANIFESTS, ROOT, wta_eval
from tests.utils.anthropic_server import anthropic_model, api_key_secret
from tests.utils.openai_server import ScriptedReply, call

CLAUDE = "claude-haiku-4-5"


def claude_manifests(folder: Path, anthropic_url: str) -> list[Path]:
    """The example tenant priced for the Anthropic model, and its agent moved to anthropic."""
    tenant_docs = list(
        yaml.safe_load_all((ROOT / "examples" / "acme-pizza-tenant.yaml").read_text())
    )
    for doc in tenant_docs:
        if doc["kind"] == "WhatsAppTenant":
            doc["spec"]["spending"] = {
                "currency": "EUR",
                "prices": [{"model": CLAUDE, "inputPerMillion": 1, "outputPerMillion": 5}],
            }
    agent_docs = list(yaml.safe_load_all(Path(PIZZA_MANIFESTS[1]).read_text()))
    for doc in agent_docs:
        if doc["kind"] == "AIAgent":
            doc["spec"]["model"] = anthropic_model(anthropic_url, "anthropic", CLAUDE)
    tenant, agent = folder / "tenant.yaml", folder / "agent.yaml"
    tenant.write_text(yaml.safe_dump_all(tenant_docs))
    agent.write_text(yaml.safe_dump_all([*agent_docs, api_key_secret("anthropic", "sk-ant-eval")]))
    return [tenant, agent]


def test_a_golden_case_runs_on_the_anthropic_provider_with_its_tool_call_and_tokens(
    tmp_path: Path, anthropic_server: AnthropicServer
) -> None:
    anthropic_server.reset()
    anthropic_server.model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        "Here is our menu: every pizza costs 9 to 13 EUR.",
    ]
    tenant, agent = claude_manifests(tmp_path, anthropic_server.url)
    path = tmp_path / "golden.yaml"
    path.write_text(
        f"""manifests: [{tenant}, {agent}]
cases:
  - name: sends the menu
    turns:
      - say: Can I see what you have?
        expect:
          must_mention: [{{regex: "9 to 13 eur"}}]
          must_call_tool: [{{name: send_media, arguments: {{name: "^menu$"}}}}]
"""
    )

    # No WTA_OPENAI_* at all: the agent's Secret is enough. Its endpoint is on loopback, which
    # the egress policy refuses unless allowed, as for a worker.
    refused = wta_eval([path], tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert anthropic_server.api_keys == []
    done = wta_eval([path], tmp_path, egress_allow="127.0.0.0/8")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 0 failed" in done.stdout
    assert "anthropic" in done.stdout
    # Two calls of 12 input and 7 output tokens: 24 x 1 + 14 x 5 per million.
    assert "24/14" in done.stdout
    assert "0.000094 EUR" in done.stdout
    assert anthropic_server.api_keys == ["sk-ant-eval", "sk-ant-eval"]
