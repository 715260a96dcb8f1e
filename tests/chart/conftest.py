"""helm and promtool for the chart tests, and the real API server for the dry-run tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.chart.helm import ROOT, Helm
from tests.chart.promtool import Promtool
from tests.kube.fixtures import kube_cluster, kube_namespace

__all__ = ["helm", "kube_cluster", "kube_namespace", "promtool"]


def _tool_folder(script: str) -> Path:
    """Run a hack/ script that prints its cache folder last (building or fetching if needed)."""
    done = subprocess.run(
        [str(ROOT / "hack" / script)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        reason = f"hack/{script} failed ({done.returncode}):\n{done.stderr}"
        # On CI a missing tool is a failure: the chart tests must never be skipped silently.
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def helm() -> Helm:
    """helm 4 from hack/install-kube-tools.sh (cached under ~/.cache/wta)."""
    return Helm(_tool_folder("install-kube-tools.sh") / "helm")


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """promtool from hack/build-prom-tools.sh (built from the Go module proxy, cached)."""
    return Promtool(_tool_folder("build-prom-tools.sh") / "promtool")
