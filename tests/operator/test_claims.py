"""Who owns a number or a tenant name when several tenants claim it."""

from __future__ import annotations

from wta_operator.claims import Claim, describe_conflicts, lost_claims, tenant_claims

OLD = Claim("2026-01-01T00:00:00Z", "a", "first")
NEW = Claim("2026-01-02T00:00:00Z", "b", "second")


def meta(claim: Claim) -> dict[str, str]:
    return {"name": claim.name, "namespace": claim.namespace, "creationTimestamp": claim.created}


def test_a_tenant_claims_its_name_and_numbers() -> None:
    spec = {"numbers": [{"number": "+14155550100"}, {"number": "+14155550101"}]}
    assert tenant_claims(meta(OLD), spec) == {
        ("name", "first"): OLD,
        ("number", "+14155550100"): OLD,
        ("number", "+14155550101"): OLD,
    }


def test_the_earlier_tenant_keeps_a_shared_number() -> None:
    key = ("number", "+14155550100")
    index = {key: [OLD, NEW]}
    assert lost_claims(OLD, [key], index) == {}
    assert lost_claims(NEW, [key], index) == {key: OLD}


def test_a_tie_in_time_is_decided_by_namespace_then_name() -> None:
    twin = Claim(OLD.created, "z", "first")
    key = ("name", "first")
    assert lost_claims(twin, [key], {key: [twin, OLD]}) == {key: OLD}


def test_a_claim_missing_from_the_index_is_judged_against_the_others() -> None:
    key = ("number", "+14155550100")
    assert lost_claims(NEW, [key], {}) == {}
    assert lost_claims(NEW, [key], {key: [OLD]}) == {key: OLD}


def test_conflicts_read_as_sentences() -> None:
    text = describe_conflicts({("number", "+14155550100"): OLD, ("name", "first"): OLD})
    assert "tenant name 'first' is already used by a/first" in text
    assert "number +14155550100 is already claimed by a/first" in text
