"""`wta eval` as CI runs it: the real command and runtime, offline or on the scripted model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.utils.openai_server import ScriptedModel, ScriptedReply, call

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "evals").glob("*.yaml"))
PIZZA_MANIFESTS = [
    str(ROOT / "examples" / m) for m in ("acme-pizza-tenant.yaml", "acme-pizza-agent.yaml")
]


def wta_eval(
    files: list[Path], cwd: Path, model_url: str | None = None, egress_allow: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WTA_OPENAI_") and k != "WTA_EGRESS_ALLOW"
    }
    if egress_allow is not None:
        env["WTA_EGRESS_ALLOW"] = egress_allow
    if model_url is not None:
        env |= {"WTA_OPENAI_API_KEY": "sk-test-local", "WTA_OPENAI_BASE_URL": model_url}
    return subprocess.run(
        [sys.executable, "-m", "wta_runtime", "eval", *map(str, files)],
        cwd=cwd,  # no .env of the repository: only what this test sets
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def golden(tmp_path: Path, body: str, name: str = "golden.yaml") -> Path:
    path = tmp_path / name
    manifests = "\n".join(f"  - {m}" for m in PIZZA_MANIFESTS)
    path.write_text(f"manifests:\n{manifests}\n{body}", encoding="utf-8")
    return path


def test_the_examples_pass_with_the_offline_agent(tmp_path: Path) -> None:
    done = wta_eval(EXAMPLES, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model: offline agent" in done.stdout
    assert "3 passed, 0 failed" in done.stdout
    assert "FAIL" not in done.stdout


def test_the_examples_pass_with_the_scripted_model_and_count_its_tokens(
    tmp_path: Path, scripted_model: ScriptedModel, openai_url: str
) -> None:
    scripted_model.reset()
    # pizza-handoff.yaml first: the policy hands off "talk to a person" without asking the model.
    scripted_model.replies = [
        "We are open every day from 11:00 to 23:00.",
        "Yes, we deliver within 5 km for free.",
        "We have Margherita, Pepperoni, Quattro Formaggi and a vegan Marinara.",
    ]
    done = wta_eval(EXAMPLES, tmp_path, openai_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 0 failed" in done.stdout
    # Three model calls of 10 prompt and 5 completion tokens each.
    assert "30/15" in done.stdout
    assert len(scripted_model.requests) == 3
    system = scripted_model.requests[0]["messages"][0]["content"]
    assert "You are the WhatsApp assistant of Acme Pizza" in system
    # The second turn of a case carries the first as history.
    said = [m["content"] for m in scripted_model.requests[2]["messages"] if m["role"] == "user"]
    assert any("deliver" in text for text in said)


def priced_tenant(folder: Path) -> Path:
    """The example tenant with a price for the agent's model, as spending limits list them."""
    docs = list(yaml.safe_load_all((ROOT / "examples" / "acme-pizza-tenant.yaml").read_text()))
    tenant = next(doc for doc in docs if doc["kind"] == "WhatsAppTenant")
    tenant["spec"]["spending"] = {
        "currency": "EUR",
        "prices": [{"model": "gpt-4o-mini", "inputPerMillion": 2.5, "outputPerMillion": 10}],
    }
    path = folder / "priced-tenant.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_a_tool_call_and_its_arguments_are_checked_through_the_tool_loop_and_priced(
    tmp_path: Path, scripted_model: ScriptedModel, openai_url: str
) -> None:
    scripted_model.reset()
    scripted_model.replies = [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        "Here is our menu: every pizza costs 9 to 13 EUR.",
    ]
    path = tmp_path / "golden.yaml"
    path.write_text(
        f"""manifests: [{priced_tenant(tmp_path)}, {PIZZA_MANIFESTS[1]}]
cases:
  - name: sends the menu
    turns:
      - say: Can I see what you have?
        expect:
          must_hand_off: false
          must_mention: [{{regex: "9 to 13 eur"}}]
          must_call_tool:
            - name: send_media
              arguments: {{name: "^menu$"}}
"""
    )
    done = wta_eval([path], tmp_path, openai_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 0 failed" in done.stdout
    # Two model calls of 10 prompt and 5 completion tokens: 20 x 2.5 + 10 x 10 per million.
    assert "20/10" in done.stdout
    assert "0.000150 EUR" in done.stdout


def test_a_file_the_offline_agent_attaches_counts_as_send_media(tmp_path: Path) -> None:
    path = golden(
        tmp_path,
        """cases:
  - name: sends the menu
    turns:
      - say: Please send me the menu
        expect:
          must_call_tool: [{name: send_media, arguments: {name: "^menu$"}}]
""",
    )
    done = wta_eval([path], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 0 failed" in done.stdout


def test_a_failing_case_is_reported_and_exits_1(tmp_path: Path) -> None:
    path = golden(
        tmp_path,
        """cases:
  - name: opening hours
    turns:
      - say: What are your opening hours?
        expect: {must_mention: ["11:00"]}
  - name: sells calzones
    turns:
      - say: Do you have calzone?
        expect:
          must_mention: [calzone]
          must_hand_off: true
""",
    )
    done = wta_eval([path], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 1 failed" in done.stdout
    assert "turn 1: does not mention 'calzone'" in done.stdout
    assert "turn 1: did not hand off to a person" in done.stdout


def test_an_invalid_golden_file_names_the_file_the_case_and_the_field(tmp_path: Path) -> None:
    path = golden(
        tmp_path,
        """cases:
  - name: fine
    turns: [{say: hello}]
  - name: typo
    turns:
      - say: hello
        expect: {max_parts: 0}
""",
        name="broken.yaml",
    )
    done = wta_eval([path], tmp_path)
    assert done.returncode == 2
    assert f"{path}: case 'typo': field turns.0.expect.max_parts" in done.stderr
    assert "Traceback" not in done.stderr
