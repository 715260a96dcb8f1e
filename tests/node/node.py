"""A real node for tests: a control plane, containerd, kubelet and kube-proxy, and its cleanup.

`start_node(folder)` builds or finds everything (hack/ scripts, cached in ~/.cache/wta), starts
it and returns a `RealNode`; `RealNode.stop()` leaves the host as it found it: no process,
mount, network namespace, pod cgroup or changed sysctl remains.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from tests.kube.cluster import KubeCluster, NodeAccess, start_cluster
from tests.node import cleanup, sysctls
from tests.node.accommodations import NodeSetup, detect
from tests.node.containerd import (
    ContainerdFolder,
    containerd_process,
    import_image,
    kill_all_tasks,
)
from tests.node.kubelet import NODE_NAME, kube_proxy_process, kubelet_process
from tests.node.network import (
    NodeNetwork,
    delete_pod_networks,
    delete_stale_networks,
    new_network,
)
from wta_runtime.local.processes import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
# One node per machine at a time: the pods' cgroups, the veth's addresses and the route to the
# Services' range are the host's, so two test sessions cannot both have one.
NODE_LOCK = Path("/run/lock/wta-node.lock")
# What the running node changed, so that the next session can undo it if this one is killed.
NODE_STATE = Path("/run/lock/wta-node.json")


class NodeUnavailableError(RuntimeError):
    """Something the node needs could not be installed or built; the message says what."""


class NodeUnsupportedError(NodeUnavailableError):
    """This machine cannot have a node at all (a hack/ script exited 3); one-line reason."""


def take_node_lock(path: Path = NODE_LOCK) -> IO[str]:
    """Hold the machine's node lock (released when the returned file closes or we exit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise NodeUnsupportedError(
            f"another test session on this machine has the real node ({path})"
        ) from None
    return handle


def _hack(script: str, *args: str) -> list[str]:
    """Run a hack/ script; its stdout lines. Exit 3 means "not on this machine" (skip)."""
    done = subprocess.run(
        [str(ROOT / "hack" / script), *args], capture_output=True, text=True, check=False
    )
    if done.returncode == 3:
        raise NodeUnsupportedError(done.stderr.strip().splitlines()[-1])
    if done.returncode != 0:
        raise NodeUnavailableError(
            f"hack/{script} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    return done.stdout.strip().splitlines()


@dataclass
class RealNode:
    """A running node: `cluster` (kubectl, helm, clients), its network, the image under test."""

    folder: Path
    setup: NodeSetup
    network: NodeNetwork
    image: str
    cluster: KubeCluster | None = None
    containerd: ContainerdFolder | None = None
    containerd_process: ManagedProcess | None = None
    processes: list[ManagedProcess] = field(default_factory=list)
    saved_sysctls: dict[str, str] = field(default_factory=dict)
    lock: IO[str] | None = None

    @property
    def kube(self) -> KubeCluster:
        assert self.cluster is not None, "the node's control plane is not running"
        return self.cluster

    def stop(self) -> None:
        """Stop everything and undo what the node changed on the host.

        The kubelet first, then every container while containerd still runs (pods and their
        shims outlive both), then containerd, the control plane, mounts, namespaces, cgroups.
        """
        for process in reversed(self.processes):
            process.stop()
        if self.containerd is not None and self.containerd_process is not None:
            if self.containerd_process.running():
                kill_all_tasks(self.containerd)
            self.containerd_process.stop()
            cleanup.kill_pids(cleanup.processes_mentioning(str(self.containerd.socket)))
        if self.cluster is not None:
            self.cluster.stop()
        cleanup.unmount_all(self.folder)
        self.network.delete()
        cleanup.remove_pod_cgroups()
        sysctls.restore(self.saved_sysctls)
        NODE_STATE.unlink(missing_ok=True)
        if self.lock is not None:
            self.lock.close()

    def record(self) -> None:
        """Write down what to undo should this session be killed before `stop`."""
        state = {
            "folder": str(self.folder),
            "sysctls": self.saved_sysctls,
            "netns_before": sorted(self.network.netns_before),
        }
        NODE_STATE.write_text(json.dumps(state))


def reclaim_killed_node(state_path: Path = NODE_STATE) -> None:
    """Undo what a node whose session was killed left: its processes, containers, mounts,
    pod namespaces and cgroups, and the sysctls the kubelet changed. Call with the lock held."""
    if not state_path.exists():
        return
    state = json.loads(state_path.read_text())
    folder = Path(state["folder"])
    # Its kubelet, containerd, shims and control plane all name the node's folder.
    cleanup.kill_pids(cleanup.processes_mentioning(str(folder)))
    cleanup.kill_pids(cleanup.pod_processes())
    time.sleep(1)
    cleanup.unmount_all(folder)
    delete_pod_networks(frozenset(state["netns_before"]))
    delete_stale_networks()
    cleanup.remove_pod_cgroups()
    sysctls.restore(state["sysctls"])
    state_path.unlink()


def _node_kubeconfig(cluster: KubeCluster, host_ip: str) -> Path:
    """The admin kubeconfig with the API server at the veth's host side, as the node sees it."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    port = cluster.server.rsplit(":", 1)[1]
    config["clusters"][0]["cluster"]["server"] = f"https://{host_ip}:{port}"
    path = cluster.folder / "kubeconfig-node"
    path.write_text(yaml.safe_dump(config))
    return path


def wait_node_ready(cluster: KubeCluster, kubelet: ManagedProcess, timeout: float = 120) -> None:
    """Wait until the node registers and reports Ready; raise with the kubelet's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not kubelet.running():
            raise NodeUnavailableError(f"the kubelet exited; see {kubelet.log_path}")
        done = cluster.kubectl(
            "get",
            "node",
            NODE_NAME,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False,
        )
        if done.stdout.strip() == "True":
            return
        time.sleep(1)
    raise NodeUnavailableError(f"node {NODE_NAME} not Ready after {timeout:.0f}s")


def start_node(folder: Path) -> RealNode:
    """Install, build, start and wait for a one-node cluster in `folder`."""
    _hack("install-node-packages.sh")
    image, archive = _hack("build-image.sh", "--save")[-2:]
    pause_image, pause_archive = _hack("build-pause-image.sh")[-2:]
    setup = detect()
    lock = take_node_lock()
    node = RealNode(folder, setup, new_network(), image, lock=lock)
    try:
        reclaim_killed_node()
        delete_stale_networks()
        node.saved_sysctls = sysctls.save()
        node.network.create()
        node.record()
        node.cluster = start_cluster(folder / "kube", node=NodeAccess(node.network.host_ip))
        binaries = Path(_hack("build-kube-binaries.sh", "--node")[-1])
        node.containerd = ContainerdFolder(folder / "containerd")
        containerd = containerd_process(
            node.containerd,
            node.network,
            pause_image=pause_image,
            clamp_oom=setup.clamp_oom_score_adj,
        )
        containerd.spawn()
        node.containerd_process = containerd
        _wait_socket(node.containerd.socket, containerd)
        import_image(node.containerd, Path(pause_archive))
        import_image(node.containerd, Path(archive))
        kubeconfig = _node_kubeconfig(node.kube, node.network.host_ip)
        kubelet = kubelet_process(
            folder / "kubelet",
            node.network,
            binaries / "kubelet",
            kubeconfig,
            node.containerd.socket,
            cgroup_v1=setup.cgroup_v1,
        )
        kubelet.spawn()
        node.processes.append(kubelet)
        proxy = kube_proxy_process(folder, node.network, binaries / "kube-proxy", kubeconfig)
        proxy.spawn()
        node.processes.append(proxy)
        wait_node_ready(node.kube, kubelet)
    except BaseException:
        node.stop()
        raise
    return node


def _wait_socket(socket: Path, process: ManagedProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not socket.exists():
        if not process.running() or time.monotonic() > deadline:
            raise NodeUnavailableError(f"containerd did not start; see {process.log_path}")
        time.sleep(0.1)
