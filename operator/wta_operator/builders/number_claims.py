"""The claimed numbers the admission policy reads: one ConfigMap, number -> owning tenant (pure).

The chart's ValidatingAdmissionPolicy refuses a WhatsAppTenant that claims a number this map
gives to another tenant, so the API server turns the second claim away before it is stored.
ConfigMap keys cannot hold `+`: a number's key is its E.164 digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wta_operator.claims import Claim, ClaimKey
from wta_operator.naming import MANAGED_BY


def number_key(number: str) -> str:
    """`+14155550100` -> `14155550100`, as the policy looks it up (`number.substring(1)`)."""
    return number.removeprefix("+")


def claimed_numbers(claims: Mapping[ClaimKey, Iterable[Claim]]) -> dict[str, str]:
    """Each claimed number's key -> `namespace/name` of the tenant that owns it (earliest wins)."""
    owners: dict[str, str] = {}
    for (kind, value), claimants in claims.items():
        found = list(claimants)
        if kind == "number" and found:
            owners[number_key(value)] = min(found).who
    return dict(sorted(owners.items()))


def build_claims_config_map(namespace: str, name: str, owners: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "wta-number-claims",
                "app.kubernetes.io/component": "admission",
                "app.kubernetes.io/part-of": "wta",
                "app.kubernetes.io/managed-by": MANAGED_BY,
            },
        },
        "data": dict(owners),
    }
