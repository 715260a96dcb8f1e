"""The helm binary for the chart tests, and the real API server for the dry-run tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.chart.helm import ROOT, Helm
from tests.kube.fixtures import kube_cluster, kube_namespace

__all__ = ["helm", "kube_cluster", "kube_namespace"]


@pytest.fixture(scope="session")
def helm() -> Helm:
    """helm 4 from hack/install-kube-tools.sh (cached under ~/.cache/wta)."""
    done = subprocess.run(
        [str(ROOT / "hack" / "install-kube-tools.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        reason = f"hack/install-kube-tools.sh failed ({done.returncode}):\n{done.stderr}"
        # On CI a missing helm is a failure: the chart tests must never be skipped silently.
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    folder = done.stdout.strip().splitlines()[-1]
    return Helm(Path(folder) / "helm")
