"""rbac.yaml grants exactly what the operator and kopf use: no verb more, none missing.

The integration tests prove it is enough: they run the operator as this ServiceAccount.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from wta_operator.adapters.kube import ACCESS

RBAC = Path(__file__).resolve().parents[2] / "operator" / "wta_operator" / "rbac.yaml"

# kopf's own calls with scanning disabled and standalone (no peering): watch and patch our
# resources (finalizer, annotations), write status, post events.
KOPF_ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("wta.io", "whatsapptenants"): frozenset({"list", "watch", "patch"}),
    ("wta.io", "aiagents"): frozenset({"list", "watch", "patch"}),
    ("wta.io", "whatsapptenants/status"): frozenset({"patch"}),
    ("wta.io", "aiagents/status"): frozenset({"patch"}),
    ("", "events"): frozenset({"create"}),
}


def granted() -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for doc in yaml.safe_load_all(RBAC.read_text()):
        if doc["kind"] != "ClusterRole":
            continue
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    found[(group, resource)] |= set(rule["verbs"])
    return dict(found)


def test_rbac_grants_exactly_what_is_used() -> None:
    needed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for access in (ACCESS, KOPF_ACCESS):
        for key, verbs in access.items():
            needed[key] |= verbs
    assert granted() == dict(needed)


def test_rbac_never_lists_or_watches_secrets() -> None:
    assert granted()[("", "secrets")] == {"get", "create", "patch"}


def test_the_service_account_is_bound_to_the_role() -> None:
    docs = {doc["kind"]: doc for doc in yaml.safe_load_all(RBAC.read_text())}
    binding = docs["ClusterRoleBinding"]
    account = docs["ServiceAccount"]["metadata"]
    assert binding["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
