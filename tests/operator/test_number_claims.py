"""The claimed numbers the admission policy reads, and when they are written again."""

from __future__ import annotations

from typing import Any

from tests.operator.factories import as_stored, tenant_manifest
from wta_operator.builders.number_claims import build_claims_config_map, claimed_numbers
from wta_operator.claims import Claim, ClaimKey, tenant_claims
from wta_operator.plane import PublishedClaims


def _index(*bodies: dict[str, Any]) -> dict[ClaimKey, list[Claim]]:
    index: dict[ClaimKey, list[Claim]] = {}
    for body in bodies:
        for key, claim in tenant_claims(body["metadata"], body["spec"]).items():
            index.setdefault(key, []).append(claim)
    return index


def test_each_number_belongs_to_its_earliest_tenant_under_its_digits() -> None:
    first = as_stored(tenant_manifest("first", numbers=["+14155550100"]), "shops")
    later = as_stored(tenant_manifest("later", numbers=["+14155550100", "+14155550101"]), "cafes")
    later["metadata"]["creationTimestamp"] = "2026-02-01T00:00:00Z"

    owners = claimed_numbers(_index(first, later))

    assert owners == {"14155550100": "shops/first", "14155550101": "cafes/later"}
    config_map = build_claims_config_map("wta-system", "wta-number-claims", owners)
    assert config_map["data"] == owners
    assert config_map["metadata"]["namespace"] == "wta-system"


def test_claims_are_written_when_they_change_or_once_a_resync_when_they_do_not() -> None:
    now = [100.0]
    published = PublishedClaims(clock=lambda: now[0])
    owners = {"14155550100": "shops/first"}

    assert published.due(owners, every=15)
    published.written(owners)
    assert not published.due(owners, every=15)
    assert published.due({}, every=15)
    now[0] += 15
    assert published.due(owners, every=15)
