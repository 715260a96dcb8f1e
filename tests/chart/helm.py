"""Running helm on charts/wta: render it to objects, lint it, or see why it refused some values."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "wta"
FULL_VALUES = Path(__file__).with_name("full-values.yaml")
MONITORING_CRDS = Path(__file__).with_name("monitoring-crds.yaml")


class HelmError(AssertionError):
    """helm exited non-zero; the message has its command line and output."""


@dataclass(frozen=True)
class Helm:
    """The helm binary from hack/install-kube-tools.sh."""

    path: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path), *args], capture_output=True, text=True, timeout=120, check=False
        )

    def template(
        self,
        *,
        namespace: str = "wta-system",
        values: Sequence[Path] = (),
        sets: Sequence[str] = (),
        release: str = "wta",
    ) -> str:
        """The rendered chart as YAML text; HelmError when helm refuses."""
        args = ["template", release, str(CHART), "--namespace", namespace]
        for file in values:
            args += ["--values", str(file)]
        for item in sets:
            args += ["--set", item]
        done = self.run(*args)
        if done.returncode != 0:
            raise HelmError(f"helm {' '.join(args)} exited {done.returncode}\n{done.stderr}")
        return done.stdout

    def render(self, **kwargs: Any) -> list[dict[str, Any]]:
        """The rendered chart as a list of objects."""
        return [doc for doc in yaml.safe_load_all(self.template(**kwargs)) if doc]

    def refusal(self, *sets: str) -> str:
        """helm's error message for values it must refuse (fails the test if it renders)."""
        args = ["template", "wta", str(CHART)]
        for item in sets:
            args += ["--set", item]
        done = self.run(*args)
        assert done.returncode != 0, f"helm rendered the chart with {sets}"
        return done.stderr


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of `kind` (and `name`) among rendered objects."""
    found = [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> set[str]:
    return {o["kind"] for o in objects}


def container_env(deployment: dict[str, Any]) -> dict[str, Any]:
    """The first container's env as name -> value (or valueFrom)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
