"""Running promtool (from hack/build-prom-tools.sh) on rule files and rule unit tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class PromtoolError(AssertionError):
    """promtool exited non-zero; the message has its command line and output."""


@dataclass(frozen=True)
class Promtool:
    """The promtool binary, built for a pinned Prometheus release."""

    path: Path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=cwd,
        )

    def check_rules(self, file: Path) -> str:
        """`promtool check rules` (parse and lint); its output, or PromtoolError."""
        return self._ok("check", "rules", str(file))

    def test_rules(self, file: Path) -> str:
        """`promtool test rules` (rule unit tests, rule_files relative to `file`)."""
        return self._ok("test", "rules", file.name, cwd=file.parent)

    def _ok(self, *args: str, cwd: Path | None = None) -> str:
        done = self.run(*args, cwd=cwd)
        output = done.stdout + done.stderr
        if done.returncode != 0:
            raise PromtoolError(f"promtool {' '.join(args)} exited {done.returncode}\n{output}")
        return output


def write_rules(path: Path, groups: Sequence[dict[str, Any]]) -> Path:
    """A Prometheus rule file holding `groups` (a PrometheusRule's spec.groups)."""
    path.write_text(yaml.safe_dump({"groups": list(groups)}, sort_keys=False))
    return path


def write_tests(path: Path, rule_files: Sequence[str], tests: Sequence[dict[str, Any]]) -> Path:
    """A promtool unit-test file evaluated every minute."""
    document = {"rule_files": list(rule_files), "evaluation_interval": "1m", "tests": list(tests)}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
