"""A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager.

The binaries come from `hack/build-kube-binaries.sh` and kubectl from `hack/install-kube-tools.sh`
(both cached under ~/.cache/wta). By default no kubelet or scheduler: objects are stored,
validated, defaulted and garbage-collected exactly as in a cluster, but no pod ever runs.
`ControlPlaneOptions(for_node=...)` adds the scheduler and every controller pods need, for the
real node of tests/node.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from kubernetes.client import ApiClient
from kubernetes.config import new_client_from_config

from tests.kube.certs import ClusterCredentials, make_credentials
from wta_runtime.local.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
CRDS_DIR = ROOT / "crds"
# Only what tests need: owner-reference cleanup, namespace deletion, default ServiceAccounts.
CONTROLLERS = "garbage-collector-controller,namespace-controller,serviceaccount-controller"
# A node's pods also need Deployments rolled, Services' endpoints and the root CA ConfigMap that
# every projected ServiceAccount token volume mounts; the node lifecycle controller lifts the
# not-ready taint a kubelet registers with.
NODE_CONTROLLERS = ",".join(
    (
        CONTROLLERS,
        "deployment-controller,replicaset-controller,job-controller,disruption-controller",
        "endpointslice-controller,endpointslice-mirroring-controller,endpoints-controller",
        "root-ca-certificate-publisher-controller,node-lifecycle-controller",
    )
)
SERVICE_CIDR = "10.96.0.0/24"
KUBERNETES_SERVICE_IP = "10.96.0.1"


@dataclass(frozen=True)
class NodeAccess:
    """Where a node reaches the API server: its address on the host's side of a veth."""

    host_ip: str


class KubeUnavailableError(RuntimeError):
    """The binaries could not be built or installed; the message has the script's output."""


class KubectlError(AssertionError):
    """kubectl exited non-zero; the message has its command line and output."""


def _script_folder(script: str, *args: str) -> Path:
    """Run a hack/ script that prints its cache folder last; build or fetch if needed."""
    done = subprocess.run(
        [str(ROOT / "hack" / script), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise KubeUnavailableError(f"hack/{script} failed ({done.returncode}):\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class KubeCluster:
    """A running control plane: its URL, admin credentials, a Python client and kubectl."""

    folder: Path
    server: str
    kubeconfig: Path
    credentials: ClusterCredentials
    kubectl_path: Path
    helm_path: Path
    gc_enabled: bool
    processes: list[ManagedProcess] = field(default_factory=list)
    _clients: list[ApiClient] = field(default_factory=list)

    @property
    def token(self) -> str:
        """A bearer token of a `system:masters` user, for HTTP clients other than kubeconfig's."""
        return self.credentials.token

    def api_client(self) -> ApiClient:
        """A new `kubernetes` ApiClient logged in as cluster admin, closed with the cluster."""
        client: ApiClient = new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig)
        )
        self._clients.append(client)
        return client

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; with `check`, a failure raises with its output."""
        done = subprocess.run(
            [str(self.kubectl_path), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
            check=False,
        )
        if check and done.returncode != 0:
            raise KubectlError(
                f"kubectl {' '.join(args)} exited {done.returncode}\n{done.stdout}{done.stderr}"
            )
        return done

    def kubeconfig_for_service_account(self, namespace: str, name: str) -> Path:
        """A kubeconfig authenticating as an existing ServiceAccount, to test RBAC rules."""
        token = self.kubectl("create", "token", name, "-n", namespace, "--duration=2h").stdout
        path = self.folder / f"kubeconfig-{namespace}-{name}"
        _write_kubeconfig(path, self.server, self.credentials, {"token": token.strip()})
        return path

    def install_crds(self, folder: Path = CRDS_DIR) -> None:
        """Apply the CRDs of `folder` and wait until the API server serves them."""
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(folder))
        names = [
            f"crd/{doc['metadata']['name']}"
            for path in sorted(folder.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text())
            if doc
        ]
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)

    def stop(self) -> None:
        """Stop every process, newest first."""
        for client in self._clients:
            client.close()  # type: ignore[no-untyped-call]
        for process in reversed(self.processes):
            process.stop()


def _write_kubeconfig(
    path: Path, server: str, credentials: ClusterCredentials, user: dict[str, str]
) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "wta-test",
                "cluster": {
                    "server": server,
                    "certificate-authority": str(credentials.ca_cert),
                },
            }
        ],
        "users": [{"name": "wta-test-user", "user": user}],
        "contexts": [
            {"name": "wta-test", "context": {"cluster": "wta-test", "user": "wta-test-user"}}
        ],
        "current-context": "wta-test",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _wait_ready(server: str, credentials: ClusterCredentials, process: ManagedProcess) -> None:
    deadline = time.monotonic() + 90
    last = ""
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(credentials.ca_cert)),
        headers={"Authorization": f"Bearer {credentials.token}"},
        timeout=5,
    ) as client:
        while time.monotonic() < deadline:
            if not process.running():
                raise KubeUnavailableError(f"kube-apiserver exited; see {process.log_path}")
            try:
                response = client.get(f"{server}/readyz")
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
    raise KubeUnavailableError(f"kube-apiserver not ready after 90s: {last[-2000:]}")


def _process(name: str, argv: Sequence[str], port: int | None, logs: Path) -> ManagedProcess:
    return ManagedProcess(name, list(argv), port=port, log_path=logs / f"{name}.log")


def start_cluster(
    folder: Path, *, garbage_collection: bool = True, node: NodeAccess | None = None
) -> KubeCluster:
    """Build or find the binaries, start the control plane in `folder` and install the CRDs.

    With `node`, the API server also listens on the node's host-side address (advertised to
    pods through the `kubernetes` Service), the scheduler and the pods' controllers run, and
    no CRD is installed (the chart does it).
    """
    binaries = _script_folder("build-kube-binaries.sh", *(["--node"] if node else []))
    tools = _script_folder("install-kube-tools.sh")
    extra_ips = (node.host_ip, KUBERNETES_SERVICE_IP) if node else ()
    credentials = make_credentials(folder / "pki", extra_ips)
    client_port, peer_port, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    creds = credentials
    etcd = _process(
        "etcd",
        [
            str(binaries / "etcd"),
            *("--name", "default", "--data-dir", str(folder / "etcd")),
            *("--listen-client-urls", f"http://127.0.0.1:{client_port}"),
            *("--advertise-client-urls", f"http://127.0.0.1:{client_port}"),
            *("--listen-peer-urls", f"http://127.0.0.1:{peer_port}"),
            *("--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}"),
            *("--initial-cluster", f"default=http://127.0.0.1:{peer_port}"),
            # Test data is thrown away: no need to wait for the disk.
            "--unsafe-no-fsync",
        ],
        client_port,
        folder,
    )
    apiserver = _process(
        "kube-apiserver",
        [
            str(binaries / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{client_port}",
            f"--bind-address={'0.0.0.0' if node else '127.0.0.1'}",
            f"--advertise-address={node.host_ip if node else '127.0.0.1'}",
            f"--secure-port={api_port}",
            f"--tls-cert-file={creds.serving_cert}",
            f"--tls-private-key-file={creds.serving_key}",
            f"--client-ca-file={creds.ca_cert}",
            f"--token-auth-file={creds.token_file}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={creds.service_account_pub}",
            f"--service-account-signing-key-file={creds.service_account_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            f"--cert-dir={folder / 'certs'}",
            # The node's name resolves nowhere: logs and exec go to its address.
            "--kubelet-preferred-address-types=InternalIP",
        ],
        api_port,
        folder,
    )
    admin_kubeconfig = folder / "kubeconfig"
    _write_kubeconfig(
        admin_kubeconfig,
        server,
        creds,
        {"client-certificate": str(creds.admin_cert), "client-key": str(creds.admin_key)},
    )
    has_kcm = garbage_collection and (binaries / "kube-controller-manager").is_file()
    cluster = KubeCluster(
        folder=folder,
        server=server,
        kubeconfig=admin_kubeconfig,
        credentials=creds,
        kubectl_path=tools / "kubectl",
        helm_path=tools / "helm",
        gc_enabled=has_kcm,
    )
    try:
        for process in (etcd, apiserver):
            process.start(timeout=60)
            cluster.processes.append(process)
        _wait_ready(server, creds, apiserver)
        # CRDs first: the garbage collector only watches the kinds it finds when it starts
        # (and every 30 s after), so owners of our kinds are collected at once. A node's
        # cluster gets them from the chart, as a platform team's would.
        if not node:
            cluster.install_crds()
        if has_kcm:
            manager = _process(
                "kube-controller-manager",
                [
                    str(binaries / "kube-controller-manager"),
                    f"--kubeconfig={admin_kubeconfig}",
                    "--leader-elect=false",
                    "--secure-port=0",
                    f"--controllers={NODE_CONTROLLERS if node else CONTROLLERS}",
                    f"--root-ca-file={creds.ca_cert}",
                ],
                None,
                folder,
            )
            manager.start()
            cluster.processes.append(manager)
        if node:
            scheduler = _process(
                "kube-scheduler",
                [
                    str(binaries / "kube-scheduler"),
                    f"--kubeconfig={admin_kubeconfig}",
                    f"--authentication-kubeconfig={admin_kubeconfig}",
                    f"--authorization-kubeconfig={admin_kubeconfig}",
                    "--leader-elect=false",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={free_port()}",
                ],
                None,
                folder,
            )
            scheduler.start()
            cluster.processes.append(scheduler)
    except BaseException:
        cluster.stop()
        raise
    return cluster
