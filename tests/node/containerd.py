"""containerd for the real node: its config, its process in the node's namespace, its images."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.node.network import NodeNetwork
from wta_runtime.local.processes import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
RUNC_OOM_CLAMP = ROOT / "hack" / "runc_oom_clamp.py"
CNI_BIN_DIR = Path("/usr/lib/cni")
NAMESPACE = "k8s.io"


class ContainerdFolder:
    """Where one node's containerd keeps everything: nothing outside this folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def socket(self) -> Path:
        return self.folder / "containerd.sock"

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def cni_conf_dir(self) -> Path:
        return self.folder / "cni"


def containerd_config(folder: ContainerdFolder, *, pause_image: str, runc: Path) -> str:
    """containerd 1.6's config: CRI on, cgroupfs, `runc` (or its wrapper), CNI from `folder`."""
    f = folder.folder
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    runc_table = f"{cri}.containerd.runtimes.runc"
    return f"""version = 2
root = "{f / "root"}"
state = "{f / "state"}"
[grpc]
  address = "{folder.socket}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{f / "opt"}"
[{cri}]
  sandbox_image = "{pause_image}"
  disable_apparmor = true
  enable_selinux = false
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[{runc_table}]
  runtime_type = "io.containerd.runc.v2"
[{runc_table}.options]
  BinaryName = "{runc}"
  Root = "{f / "runc"}"
  SystemdCgroup = false
[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{folder.cni_conf_dir}"
"""


def bridge_conflist(pod_cidr: str, ipam_dir: Path) -> str:
    """A CNI bridge for the pods, inside the node's namespace, masquerading what leaves it."""
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "wta-node",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": True,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": pod_cidr}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(ipam_dir),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def containerd_process(
    folder: ContainerdFolder, network: NodeNetwork, *, pause_image: str, clamp_oom: bool
) -> ManagedProcess:
    """containerd in the node's namespace, configured in `folder` (not started)."""
    folder.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    runc = RUNC_OOM_CLAMP if clamp_oom else Path("/usr/sbin/runc")
    folder.config.write_text(containerd_config(folder, pause_image=pause_image, runc=runc))
    (folder.cni_conf_dir / "10-wta-node.conflist").write_text(
        bridge_conflist(network.pod_cidr, folder.folder / "cni-ipam")
    )
    return ManagedProcess(
        "containerd",
        [*network.enter(), "containerd", "--config", str(folder.config)],
        log_path=folder.folder / "containerd.log",
    )


def ctr(folder: ContainerdFolder, *args: str, timeout: float = 300, check: bool = True) -> str:
    """Run `ctr` against this containerd in the k8s.io namespace; with `check`, raises."""
    done = subprocess.run(
        ["ctr", "--address", str(folder.socket), "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"ctr {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def import_image(folder: ContainerdFolder, archive: Path) -> None:
    """Load a `podman save` docker-archive into the kubelet's image store."""
    ctr(folder, "images", "import", str(archive))


def kill_all_tasks(folder: ContainerdFolder) -> None:
    """SIGKILL and delete every container of this containerd (the pods outlive the kubelet)."""
    tasks = ctr(folder, "tasks", "list", "--quiet", timeout=30, check=False).split()
    for task in tasks:
        ctr(folder, "tasks", "kill", "--all", "--signal", "SIGKILL", task, timeout=30, check=False)
    for task in tasks:
        ctr(folder, "tasks", "delete", "--force", task, timeout=30, check=False)
