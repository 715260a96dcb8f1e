"""hack/kind-e2e.sh cannot run here (no Docker engine); what can be checked without one is."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from tests.chart.helm import ROOT
from tests.kube import KubeCluster

SCRIPT = ROOT / "hack" / "kind-e2e.sh"


def test_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# shellcheck: tests/chart/test_shell_scripts.py checks every script.


def _manifests(namespace: str) -> list[dict[str, Any]]:
    """The objects the script applies from heredocs, with its variables filled in."""
    text = SCRIPT.read_text()
    variables = {
        name: re.sub(r"^\$\{\w+:-(.*)\}$", r"\1", value)
        for name, value in re.findall(r'^([A-Z0-9_]+)="([^"]*)"$', text, re.MULTILINE)
    }
    for name, value in list(variables.items()):
        variables[name] = re.sub(r"\$\{(\w+)\}", lambda m: variables[m[1]], value)
    variables |= {"E2E_NS": namespace, "TENANT_NS": namespace}
    objects = []
    for body in re.findall(r"<<EOF\n(.*?)\nEOF\n", text, re.DOTALL):
        filled = re.sub(r"\$\{(\w+)\}", lambda m: variables[m[1]], body)
        objects += [doc for doc in yaml.safe_load_all(filled) if doc]
    return objects


def test_script_manifests_are_accepted_by_the_api_server(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    objects = _manifests(kube_namespace)
    assert {o["kind"] for o in objects} == {"Cluster", "Deployment", "Service", "Job"}
    # CloudNativePG's Cluster needs its operator's CRD, which the test server does not have.
    ours = [o for o in objects if o["kind"] != "Cluster"]
    done = kube_cluster.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-f",
        "-",
        input=yaml.safe_dump_all(ours),
        check=False,
    )
    assert done.returncode == 0, done.stderr
