"""The real API server, for admission tests of the CRDs."""

from tests.kube.fixtures import kube_cluster, kube_namespace

__all__ = ["kube_cluster", "kube_namespace"]
