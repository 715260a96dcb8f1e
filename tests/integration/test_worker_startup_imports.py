"""What a worker holds before its first turn: the heavy SDKs stay out of an idle worker.

Each costs memory in every tenant's pod (the OpenAI SDK ~6 MiB, MCP ~26 MB, pypdf ~15 MB, the
`wta` CLI with typer and rich ~5 MiB, Twilio's v2010 resources ~9 MiB, see docs/benchmarks.md
"Idle memory per tenant"); they are imported where first used. A fresh interpreter goes through
the worker's start (the pod's command `python -m wta_runtime worker`, settings, the agent
runtime with its catalog and knowledge, the transcriber, the media store, the sender) and lists
what it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "openai",
    "anthropic",
    "langchain",
    "langchain_core",
    "langchain_text_splitters",
    "langchain_anthropic",
    "langchain_openai",
    "mcp",
    "pypdf",
    "pgvector",
    "numpy",
    "boto3",
    "botocore",
    # The `wta` CLI and what only it uses: the pod's command runs the worker without it.
    "wta_runtime.cli",
    "typer",
    "uvicorn",
    "click",
    "rich",
    "pygments",
    "wta_runtime.console",
    "wta_runtime.gateway",
    # Every Twilio v2010 resource (calls, SIP, usage...): only a lookup of a sent message needs it.
    "twilio.rest.api",
    # requests' character detector: the worker never reads a requests response.
    "charset_normalizer",
)
STARTUP = f"""
import json, sys
import wta_runtime.worker.entry  # what the pod's command imports first
import uvloop
from wta_runtime.agents.choose import runtime_from_settings
from wta_runtime.channel.media_stores import platform_media_store
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.settings import Settings
from wta_runtime.worker.main import _transcriber
import wta_runtime.channel.sender

settings = Settings()
engine = create_engine(settings.database_url, pool_size=1)
agents, reloader = runtime_from_settings(settings, session_factory(engine))
assert _transcriber(settings) is not None
platform_media_store(settings, pool_size=1)
print(json.dumps(sorted(m for m in {HEAVY!r} if sys.modules.get(m) is not None)))
"""


def _python(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with the test's own WTA_ settings only."""
    return subprocess.run(
        [sys.executable, *args],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("WTA_")}, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _imported(tmp_path: Path, script: str) -> list[str]:
    done = _python(
        tmp_path,
        "-c",
        script,
        WTA_MANIFESTS_DIR=str(ROOT / "examples"),
        WTA_MEDIA_DIR=str(tmp_path / "media"),
        WTA_OPENAI_API_KEY="sk-startup",
        WTA_OPENAI_BASE_URL="http://127.0.0.1:9/v1",
    )
    assert done.returncode == 0, done.stderr
    imported: list[str] = json.loads(done.stdout.splitlines()[-1])
    return imported


def test_a_worker_with_a_model_key_imports_no_model_sdk_before_its_first_turn(
    tmp_path: Path,
) -> None:
    assert _imported(tmp_path, STARTUP) == []


def test_the_openai_sdk_arrives_with_the_first_model_client(tmp_path: Path) -> None:
    first_client = (
        "from wta_runtime.agents.model_calls import ModelClients\n"
        "ModelClients().get(settings.openai_api_key, settings.openai_base_url)\n"
    )
    assert _imported(tmp_path, STARTUP.replace("print(", first_client + "print(", 1)) == ["openai"]


POD_COMMAND = f"""
import json, runpy, sys
sys.argv = ["wta_runtime", "worker"]
try:
    runpy.run_module("wta_runtime", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    print("exit", exc.code, file=sys.stderr)
assert "wta_runtime.worker.main" in sys.modules
print(json.dumps(sorted(m for m in {HEAVY!r} if sys.modules.get(m) is not None)))
"""


def test_the_pods_command_starts_the_worker_without_the_cli(tmp_path: Path) -> None:
    """`python -m wta_runtime worker` as the pod runs it, up to its first settings error (it says
    what to fix in one line and exits 2): none of the CLI's modules were imported."""
    done = _python(tmp_path, "-c", POD_COMMAND, WTA_WORKER_CONCURRENCY="many")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "error: 1 validation error for Settings"
    assert done.stderr.splitlines()[-1] == "exit 2"
    assert json.loads(done.stdout.splitlines()[-1]) == []
