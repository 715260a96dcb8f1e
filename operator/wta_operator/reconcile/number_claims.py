"""The claimed numbers, published for the admission policy whenever they change.

Unchanged, they are written again at most once per resync interval (a deleted or edited
ConfigMap comes back); a failed write is logged and retried by the next reconciliation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from wta_operator.adapters.kube import KubeError
from wta_operator.builders.number_claims import build_claims_config_map, claimed_numbers
from wta_operator.claims import Claim, ClaimKey
from wta_operator.plane import ControlPlane

log = logging.getLogger("wta.operator.number_claims")


async def publish_claims(plane: ControlPlane, claims: Mapping[ClaimKey, Iterable[Claim]]) -> None:
    """Write every claimed number's owner into the policy's ConfigMap, if configured."""
    config = plane.config
    name = config.number_claims_config_map
    if name is None:
        return
    owners = claimed_numbers(claims)
    published = plane.published_claims
    async with published.lock:
        if not published.due(owners, config.resync_seconds):
            return
        try:
            await plane.kube.apply(build_claims_config_map(config.gateway_namespace, name, owners))
        except KubeError as exc:
            log.warning(
                "claimed numbers not written to ConfigMap %s/%s: %s",
                config.gateway_namespace,
                name,
                exc,
            )
            return
        published.written(owners)
