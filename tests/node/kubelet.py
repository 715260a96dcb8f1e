"""The kubelet and kube-proxy of the real node: their configs and processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.node.network import NodeNetwork
from wta_runtime.local.processes import ManagedProcess

NODE_NAME = "wta-node"
KUBELET_PORT = 10250


def kubelet_config(folder: Path, socket: Path, *, cgroup_v1: bool) -> dict[str, Any]:
    """A KubeletConfiguration for one throwaway node in its own namespace."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "failCgroupV1": not cgroup_v1,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{socket}",
        "podLogsDir": str(folder / "pod-logs"),
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzPort": 0,
        # Reached only by the API server, through the node's own namespace.
        "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},
        "failSwapOn": False,
        "resolvConf": "",
        "clusterDomain": "cluster.local",
        # A shared test machine's disk or memory must not evict the pods under test.
        "evictionHard": {
            "memory.available": "0%",
            "nodefs.available": "0%",
            "imagefs.available": "0%",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        "nodeStatusUpdateFrequency": "4s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
    }


def kubelet_process(
    folder: Path,
    network: NodeNetwork,
    binary: Path,
    kubeconfig: Path,
    socket: Path,
    *,
    cgroup_v1: bool,
) -> ManagedProcess:
    """The kubelet in the node's namespace, registering `NODE_NAME` at the veth's inner address."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kubelet.yaml"
    config.write_text(yaml.safe_dump(kubelet_config(folder, socket, cgroup_v1=cgroup_v1)))
    return ManagedProcess(
        "kubelet",
        [
            *network.enter(),
            str(binary),
            f"--config={config}",
            f"--kubeconfig={kubeconfig}",
            f"--root-dir={folder / 'root'}",
            f"--cert-dir={folder / 'pki'}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={network.node_ip}",
            "--v=1",
        ],
        log_path=folder / "kubelet.log",
    )


def kube_proxy_process(
    folder: Path, network: NodeNetwork, binary: Path, kubeconfig: Path
) -> ManagedProcess:
    """kube-proxy (iptables) in the node's namespace; host-wide conntrack sysctls left alone."""
    return ManagedProcess(
        "kube-proxy",
        [
            *network.enter(),
            str(binary),
            f"--kubeconfig={kubeconfig}",
            f"--hostname-override={NODE_NAME}",
            f"--cluster-cidr={network.pod_cidr}",
            "--proxy-mode=iptables",
            "--conntrack-max-per-core=0",
            "--conntrack-tcp-timeout-established=0s",
            "--conntrack-tcp-timeout-close-wait=0s",
        ],
        log_path=folder / "kube-proxy.log",
    )
