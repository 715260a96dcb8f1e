"""The pure parts of the real node (tests/node, hack/runc_oom_clamp.py): what each decides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.node import sysctls
from tests.node.accommodations import NodeSetup, has_capability, is_cgroup_v1
from tests.node.cleanup import mounts_under
from tests.node.containerd import ContainerdFolder, bridge_conflist, containerd_config
from tests.node.kubelet import kubelet_config

ROOT = Path(__file__).resolve().parents[2]
CLAMP = ROOT / "hack" / "runc_oom_clamp.py"


def run_clamp(tmp_path: Path, *args: str, oom: int) -> tuple[str, int]:
    """Run the wrapper with a fake runc that prints its argv; (printed argv, oomScoreAdj after)."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps({"process": {"oomScoreAdj": oom}}))
    fake = tmp_path / "runc"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    argv = [a.replace("BUNDLE", str(bundle)) for a in args]
    done = subprocess.run(
        [sys.executable, str(CLAMP), *argv],
        env={"WTA_RUNC": str(fake)},
        capture_output=True,
        text=True,
        check=True,
    )
    after = json.loads((bundle / "config.json").read_text())["process"]["oomScoreAdj"]
    return done.stdout.strip(), after


def test_the_runc_wrapper_raises_a_negative_oom_score_adj_to_zero(tmp_path: Path) -> None:
    printed, after = run_clamp(tmp_path, "create", "--bundle", "BUNDLE", "sandbox", oom=-998)
    assert after == 0
    assert printed == f"create --bundle {tmp_path / 'bundle'} sandbox"


def test_the_runc_wrapper_leaves_a_positive_oom_score_adj(tmp_path: Path) -> None:
    _, after = run_clamp(tmp_path, "create", "--bundle=BUNDLE", "app", oom=1000)
    assert after == 1000


def test_the_runc_wrapper_touches_no_bundle_outside_create(tmp_path: Path) -> None:
    printed, after = run_clamp(tmp_path, "state", "BUNDLE", oom=-998)
    assert after == -998
    assert printed.startswith("state ")


def test_capabilities_are_read_from_the_effective_set(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("CapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n")
    assert not has_capability(24, status)
    assert has_capability(21, status)


def test_a_unified_cgroup_root_is_not_v1(tmp_path: Path) -> None:
    assert is_cgroup_v1(tmp_path)
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert not is_cgroup_v1(tmp_path)


@pytest.mark.parametrize(
    ("setup", "names"),
    [
        (NodeSetup(cgroup_v1=False, clamp_oom_score_adj=False), ["node in a network namespace"]),
        (
            NodeSetup(cgroup_v1=True, clamp_oom_score_adj=True),
            [
                "node in a network namespace",
                "failCgroupV1: false",
                "runc wrapper clamping oomScoreAdj",
            ],
        ),
    ],
)
def test_only_the_accommodations_found_are_listed_with_why(
    setup: NodeSetup, names: list[str]
) -> None:
    assert [a.name for a in setup.accommodations] == names
    assert all(a.why for a in setup.accommodations)


def test_the_kubelet_is_told_to_accept_cgroup_v1_only_where_found(tmp_path: Path) -> None:
    sock = tmp_path / "containerd.sock"
    assert kubelet_config(tmp_path, sock, cgroup_v1=True)["failCgroupV1"] is False
    assert kubelet_config(tmp_path, sock, cgroup_v1=False)["failCgroupV1"] is True


def test_containerd_keeps_everything_in_its_folder_and_runs_the_given_runc(
    tmp_path: Path,
) -> None:
    folder = ContainerdFolder(tmp_path / "c")
    config = containerd_config(folder, pause_image="localhost/pause:1", runc=CLAMP)
    assert f'BinaryName = "{CLAMP}"' in config
    assert 'sandbox_image = "localhost/pause:1"' in config
    paths = [line.split('"')[1] for line in config.splitlines() if '= "/' in line]
    assert paths
    assert all(p.startswith(str(tmp_path)) or p in (str(CLAMP), "/usr/lib/cni") for p in paths)


def test_the_pods_bridge_masquerades_and_keeps_its_leases_in_the_node_folder(
    tmp_path: Path,
) -> None:
    bridge = json.loads(bridge_conflist("10.244.0.0/24", tmp_path / "ipam"))["plugins"][0]
    assert bridge["ipMasq"] is True
    assert bridge["ipam"]["dataDir"] == str(tmp_path / "ipam")
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24"}]]


def test_mounts_inside_the_node_folder_are_listed_deepest_first(tmp_path: Path) -> None:
    node = tmp_path / "node"
    info = tmp_path / "mountinfo"
    lines = [
        f"1 0 0:1 / {node}/kubelet rw - tmpfs tmpfs rw",
        f"2 1 0:2 / {node}/kubelet/pods/a/volumes/x rw - tmpfs tmpfs rw",
        f"3 0 0:3 / {tmp_path}/node-other rw - tmpfs tmpfs rw",
        "4 0 0:4 / /proc rw - proc proc rw",
    ]
    info.write_text("\n".join(lines) + "\n")
    assert mounts_under(node, info) == [
        node / "kubelet/pods/a/volumes/x",
        node / "kubelet",
    ]


def test_saved_sysctls_are_written_back_and_named(tmp_path: Path) -> None:
    (tmp_path / "vm").mkdir()
    (tmp_path / "vm" / "overcommit_memory").write_text("0\n")
    saved = sysctls.save(("vm/overcommit_memory", "kernel/missing"), tmp_path)
    (tmp_path / "vm" / "overcommit_memory").write_text("1\n")

    assert sysctls.restore(saved, tmp_path) == ["vm/overcommit_memory"]
    assert (tmp_path / "vm" / "overcommit_memory").read_text() == "0\n"
