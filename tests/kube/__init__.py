"""A real Kubernetes API server for tests: the `kube_cluster` and `kube_namespace` fixtures."""

from tests.kube.cluster import KubeCluster, KubectlError
from tests.kube.fixtures import kube_cluster, kube_namespace

__all__ = ["KubeCluster", "KubectlError", "kube_cluster", "kube_namespace"]
