"""Checking the Secrets a tenant and its agents name: present, with the key, at which version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import SecretStr

from wta_operator.adapters.kube import KubeClient
from wta_runtime.specs import SecretKeyRef

RefKey = tuple[str, str]


@dataclass(frozen=True)
class SecretCheck:
    """What was found; problems and versions are safe to show, values never are."""

    versions: dict[str, str]
    problems_by_ref: dict[RefKey, str]
    values: dict[RefKey, SecretStr] = field(repr=False)

    def value(self, ref: SecretKeyRef) -> SecretStr | None:
        return self.values.get((ref.name, ref.key))

    def problems(self, refs: Iterable[SecretKeyRef] | None = None) -> list[str]:
        """Every problem, or only those of these refs; each once, sorted."""
        if refs is None:
            return sorted(set(self.problems_by_ref.values()))
        wanted = {(ref.name, ref.key) for ref in refs}
        return sorted({p for key, p in self.problems_by_ref.items() if key in wanted})


async def check_secrets(
    kube: KubeClient, namespace: str, refs: Iterable[SecretKeyRef]
) -> SecretCheck:
    """Read each named Secret once; note every missing Secret or key."""
    wanted = list(refs)
    versions: dict[str, str] = {}
    values: dict[RefKey, SecretStr] = {}
    problems: dict[RefKey, str] = {}
    for name in sorted({ref.name for ref in wanted}):
        snapshot = await kube.read_secret(namespace, name)
        for ref in (r for r in wanted if r.name == name):
            if snapshot is None:
                problems[(ref.name, ref.key)] = f"Secret {namespace}/{name} not found"
            elif ref.key not in snapshot.data:
                problems[(ref.name, ref.key)] = f"Secret {namespace}/{name} has no key {ref.key!r}"
            else:
                values[(ref.name, ref.key)] = snapshot.data[ref.key]
        if snapshot is not None:
            versions[name] = snapshot.resource_version
    return SecretCheck(versions, problems, values)
