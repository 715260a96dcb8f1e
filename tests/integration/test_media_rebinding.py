"""A media host that resolves to a public address when checked and to loopback after (DNS
rebinding): the download goes to the address that was checked, never to the loopback server;
and only the configured Twilio base sees the tenant's credentials, not another name for it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A user and network namespace of the test's own: its loopback and a public address on it.
OWN_NETWORK = ["unshare", "--user", "--map-root-user", "--net"]


def _own_network_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run([*OWN_NETWORK, "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _own_network_works(), reason="needs `unshare -rn` and `ip` (a network namespace)"
)


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    done = subprocess.run(
        [*OWN_NETWORK, sys.executable, "-m", "tests.utils.rebinding_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_media_comes_from_the_checked_address_not_the_one_the_name_rebinds_to(
    probe: dict[str, Any],
) -> None:
    assert probe["got"]["photo"] == "photo"


def test_a_redirect_is_fetched_from_the_address_checked_for_it(probe: dict[str, Any]) -> None:
    assert probe["got"]["redirect"] == "photo"


def test_a_redirect_to_a_name_rebound_to_loopback_is_refused(probe: dict[str, Any]) -> None:
    assert probe["got"]["redirect_rebound"] == "refused: media host is not a public address"


def test_the_loopback_server_is_never_asked(probe: dict[str, Any]) -> None:
    assert probe["inside_seen"] == []


def test_credentials_go_to_the_twilio_base_only_not_another_name_for_it(
    probe: dict[str, Any],
) -> None:
    assert probe["got"]["twilio_base"] == "photo"
    # photo, redirect (twice) by the name `localhost`, then the base by its address.
    assert probe["public_seen"] == [
        ["/photo", False],
        ["/redirect", False],
        ["/photo", False],
        ["/redirect", False],
        ["/photo", True],
    ]
