"""The node's network namespace: a veth to the host, the pods' bridge inside, routes to Services.

Every address here belongs to interfaces this module creates; nothing else is ever a target.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.kube.cluster import SERVICE_CIDR

NETNS_DIR = Path("/var/run/netns")
# A /30 for the veth and a /24 for the pods, inside the node's namespace.
HOST_IP, NODE_IP = "10.250.0.1", "10.250.0.2"
VETH_PREFIX = 30
POD_CIDR = "10.244.0.0/24"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `ip`; with `check`, a failure raises with its output."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
    return done


@dataclass
class NodeNetwork:
    """A network namespace with a veth pair: `host_ip` on the host side, `node_ip` inside."""

    name: str
    host_ip: str = HOST_IP
    node_ip: str = NODE_IP
    pod_cidr: str = POD_CIDR
    _created: bool = field(default=False, init=False)
    _netns_before: frozenset[str] = field(default=frozenset(), init=False)

    @property
    def host_veth(self) -> str:
        return f"wtah{self.name[-8:]}"

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.name

    def enter(self) -> list[str]:
        """A command prefix that runs a program in the namespace, in the host's mount namespace.

        Not `ip netns exec`: it also makes a private mount namespace, and then the kubelet's
        volume mounts would be invisible to containerd.
        """
        return ["nsenter", f"--net={self.path}", "--"]

    def create(self) -> None:
        """Make the namespace, the veth pair and the routes; remembers what to remove."""
        self._netns_before = frozenset(p.name for p in NETNS_DIR.glob("*"))
        ip("netns", "add", self.name)
        self._created = True
        inner = "eth0"
        ip("link", "add", self.host_veth, "type", "veth", "peer", "name", f"wtan{self.name[-8:]}")
        ip("link", "set", f"wtan{self.name[-8:]}", "netns", self.name)
        ip("-n", self.name, "link", "set", f"wtan{self.name[-8:]}", "name", inner)
        ip("addr", "add", f"{self.host_ip}/{VETH_PREFIX}", "dev", self.host_veth)
        ip("link", "set", self.host_veth, "up")
        ip("-n", self.name, "addr", "add", f"{self.node_ip}/{VETH_PREFIX}", "dev", inner)
        ip("-n", self.name, "link", "set", inner, "up")
        ip("-n", self.name, "link", "set", "lo", "up")
        ip("-n", self.name, "route", "add", "default", "via", self.host_ip)
        # The tests reach the gateway's Service by its cluster IP, through the node.
        ip("route", "add", SERVICE_CIDR, "via", self.node_ip, "dev", self.host_veth)
        _sysctl_in(self, "net.ipv4.ip_forward", "1")

    @property
    def netns_before(self) -> frozenset[str]:
        """The network namespaces there were before this one was made."""
        return self._netns_before

    def delete(self) -> None:
        """Remove the namespace, the veth (and its routes) and the pods' namespaces left behind."""
        if not self._created:
            return
        delete_pod_networks(self._netns_before)
        ip("link", "delete", self.host_veth, check=False)
        ip("netns", "delete", self.name, check=False)
        self._created = False


def _sysctl_in(network: NodeNetwork, key: str, value: str) -> None:
    subprocess.run([*network.enter(), "sysctl", "-qw", f"{key}={value}"], check=True)


NETNS_PREFIX = "wta-node-"


def delete_pod_networks(before: frozenset[str]) -> None:
    """Delete the pods' namespaces (`cni-*`) that were not there `before` the node started."""
    for name in sorted({p.name for p in NETNS_DIR.glob("cni-*")} - before):
        ip("netns", "delete", name, check=False)


def new_network() -> NodeNetwork:
    """A namespace with a name of its own (`wta-node-<8 hex>`)."""
    return NodeNetwork(f"{NETNS_PREFIX}{uuid.uuid4().hex[:8]}")


def delete_stale_networks() -> list[str]:
    """Delete node namespaces a killed session left (their veths and routes go with them).

    Only called while holding the machine's node lock, so none of them is in use.
    """
    stale = sorted(p.name for p in NETNS_DIR.glob(f"{NETNS_PREFIX}*"))
    for name in stale:
        ip("netns", "delete", name, check=False)
    return stale
