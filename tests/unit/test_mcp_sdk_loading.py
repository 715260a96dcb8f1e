"""The MCP client is loaded by a worker whose agents have MCP servers, and by no other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import EXAMPLES

PROBE = """
import sys
from pathlib import Path
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.runtime import AgentRuntime

AgentRuntime(catalog=load_agent_catalog(Path(sys.argv[1])), sessions=None)
print("mcp" in sys.modules)
"""


def _loads_mcp(folder: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "True"


def _examples(folder: Path, *, mcp: bool) -> Path:
    folder.mkdir()
    for path in EXAMPLES.glob("*.yaml"):
        docs = list(yaml.safe_load_all(path.read_text()))
        for doc in docs:
            if mcp and doc["kind"] == "AIAgent":
                server = {"name": "orders", "url": "http://127.0.0.1:9/mcp", "allowTools": ["x"]}
                doc["spec"]["tools"] = {"mcp": [server]}
        (folder / path.name).write_text(yaml.safe_dump_all(docs))
    return folder


def test_agents_without_mcp_servers_leave_the_sdk_unloaded(tmp_path: Path) -> None:
    assert not _loads_mcp(_examples(tmp_path / "plain", mcp=False))


def test_an_agent_with_an_mcp_server_loads_it_before_the_first_turn(tmp_path: Path) -> None:
    assert _loads_mcp(_examples(tmp_path / "mcp", mcp=True))
