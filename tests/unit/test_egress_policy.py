"""The platform's egress policy: which addresses a tenant's configuration may make us reach."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wta_runtime.egress.connections import Resolve, checked_addresses
from wta_runtime.egress.policy import LOOPBACK, EgressPolicy, EgressRefused, public_address
from wta_runtime.settings import Settings

INTERNAL = [
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",  # 10/8: pod and service networks
    "172.16.0.1",
    "172.31.255.254",  # 172.16/12
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",  # link-local
    "100.64.0.1",  # carrier-grade NAT (some clusters' pod network)
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1%eth0",
    "fd00::1",  # unique local
    "fd12:3456::10",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
]


@pytest.mark.parametrize("address", INTERNAL)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address: str) -> None:
    assert not public_address(address)
    assert not EgressPolicy().allows_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"]
)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert EgressPolicy().allows_address(address)


def test_the_platform_allows_its_own_networks_and_no_more() -> None:
    policy = EgressPolicy.parse("10.20.0.0/16, fd00:20::/32,192.168.5.7")

    assert policy.allows_address("10.20.3.4")
    assert policy.allows_address("::ffff:10.20.3.4")
    assert policy.allows_address("fd00:20::1")
    assert policy.allows_address("192.168.5.7")
    assert not policy.allows_address("10.21.0.1")
    assert not policy.allows_address("192.168.5.8")
    assert not policy.allows_address("169.254.169.254")


def test_loopback_is_allowed_only_when_the_platform_says_so() -> None:
    assert LOOPBACK.allows_address("127.0.0.1")
    assert LOOPBACK.allows_address("::1")
    assert not LOOPBACK.allows_address("10.0.0.1")


def test_host_names_are_allowed_exactly_or_by_domain_wildcard() -> None:
    policy = EgressPolicy.parse("crm.internal.svc *.tools.example")

    assert policy.trusts("crm.internal.svc", 443)
    assert policy.trusts("CRM.internal.svc.", 80)
    assert policy.trusts("a.tools.example", 443)
    assert not policy.trusts("tools.example", 443)
    assert not policy.trusts("crm.internal.svc.evil.example", 443)
    assert not policy.trusts("kubernetes.default.svc", 443)


@pytest.mark.parametrize("entry", ["http://10.0.0.0/8", "10.0.0.0/33", "*.", "crm_internal"])
def test_a_malformed_entry_is_named_in_the_error(entry: str) -> None:
    with pytest.raises(ValueError, match="WTA_EGRESS_ALLOW entry"):
        EgressPolicy.parse(f"10.0.0.0/8,{entry}")


def _resolving_to(*addresses: str, asked: list[str] | None = None) -> Resolve:
    async def resolve(host: str, port: int) -> list[str]:
        if asked is not None:
            asked.append(host)
        return list(addresses)

    return resolve


async def test_every_address_of_the_host_is_checked() -> None:
    with pytest.raises(EgressRefused, match=r"media\.example is not allowed by the platform"):
        await checked_addresses(
            EgressPolicy(), _resolving_to("93.184.216.34", "10.0.0.1"), "media.example", 443, 5
        )


async def test_the_checked_addresses_are_where_the_connection_goes() -> None:
    found = await checked_addresses(
        EgressPolicy(),
        _resolving_to("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"),
        "cdn.example",
        443,
        5,
    )

    assert found == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]


async def test_a_host_allowed_by_name_is_not_resolved_here() -> None:
    asked: list[str] = []
    policy = EgressPolicy.parse("crm.internal.svc")

    found = await checked_addresses(
        policy, _resolving_to("10.0.0.1", asked=asked), "crm.internal.svc", 443, 5
    )

    assert (found, asked) == (["crm.internal.svc"], [])


async def test_a_name_that_resolves_to_nothing_is_refused() -> None:
    with pytest.raises(EgressRefused):
        await checked_addresses(EgressPolicy(), _resolving_to(), "empty.example", 443, 5)


def test_the_runtime_refuses_to_start_with_a_malformed_allow_list() -> None:
    with pytest.raises(ValidationError, match="WTA_EGRESS_ALLOW entry 'http://crm'"):
        Settings(_env_file=None, egress_allow="10.0.0.0/8,http://crm")  # type: ignore[call-arg]

    settings = Settings(_env_file=None, egress_allow="10.0.0.0/8 crm.svc")  # type: ignore[call-arg]
    assert settings.egress_policy.trusts("crm.svc", 443)
