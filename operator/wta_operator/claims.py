"""Which tenant owns a WhatsApp number or a tenant name when several claim it (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ClaimKey = tuple[str, str]  # ("number", "+14155550100") or ("name", "acme-pizza")


@dataclass(frozen=True, order=True)
class Claim:
    """A tenant's claim; the earliest created wins, then namespace and name decide a tie."""

    created: str
    namespace: str
    name: str

    @property
    def who(self) -> str:
        return f"{self.namespace}/{self.name}"


def tenant_claims(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[ClaimKey, Claim]:
    """What one tenant body claims: its name (streams are keyed by it) and each of its numbers."""
    claim = Claim(
        str(meta.get("creationTimestamp", "")),
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )
    claims: dict[ClaimKey, Claim] = {("name", claim.name): claim}
    for entry in spec.get("numbers") or []:
        if isinstance(entry, Mapping) and entry.get("number"):
            claims[("number", str(entry["number"]))] = claim
    return claims


def lost_claims(
    me: Claim, keys: Iterable[ClaimKey], index: Mapping[ClaimKey, Iterable[Claim]]
) -> dict[ClaimKey, Claim]:
    """The keys another, earlier tenant holds, each with that winner."""
    lost: dict[ClaimKey, Claim] = {}
    for key in keys:
        claimants = {*index.get(key, ()), me}
        winner = min(claimants)
        if (winner.namespace, winner.name) != (me.namespace, me.name):
            lost[key] = winner
    return lost


def describe_conflicts(lost: Mapping[ClaimKey, Claim]) -> str:
    """One sentence per lost claim, for a condition message."""
    parts = []
    for (kind, value), winner in sorted(lost.items()):
        if kind == "name":
            parts.append(
                f"tenant name {value!r} is already used by {winner.who} (streams and routes are "
                "keyed by tenant name; rename this tenant)"
            )
        else:
            parts.append(f"number {value} is already claimed by {winner.who}")
    return "; ".join(parts)
