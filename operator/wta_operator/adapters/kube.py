"""The Kubernetes API calls the operator makes (kopf is not a client): apply, read, route keys.

Every call the operator makes is listed in ACCESS; `rbac.yaml` grants exactly those.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from pydantic import SecretStr

from wta_operator.builders.routing import build_routes_secret
from wta_operator.naming import FIELD_MANAGER
from wta_runtime.specs.common import API_GROUP, API_VERSION

REQUEST_TIMEOUT = 15.0
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
ROUTE_WRITE_ATTEMPTS = 8

# (apiGroup, resource) -> verbs: the operator's own calls; kopf's are added in rbac.yaml.
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("", "serviceaccounts"): frozenset({"create", "patch"}),
    ("", "configmaps"): frozenset({"create", "patch"}),
    ("", "services"): frozenset({"create", "patch"}),
    ("", "secrets"): frozenset({"get", "create", "patch"}),
    ("apps", "deployments"): frozenset({"create", "patch", "delete"}),
    ("policy", "poddisruptionbudgets"): frozenset({"create", "patch"}),
    ("networking.k8s.io", "networkpolicies"): frozenset({"create", "patch"}),
    (API_GROUP, "whatsapptenants"): frozenset({"get", "list"}),
    (API_GROUP, "whatsapptenants/status"): frozenset({"patch"}),
}


class KubeError(Exception):
    """A Kubernetes API call failed; the message names the call, never an object's data."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SecretSnapshot:
    """A Secret's keys (values hidden from repr and logs) and its resourceVersion."""

    name: str
    resource_version: str
    data: dict[str, SecretStr] = field(repr=False)


def matches(desired: Any, live: Any) -> bool:
    """Whether `live` holds `desired`: every key it sets, and lists item for item.

    Extra keys the API server adds (defaults, status) are fine; extra list items are not.
    """
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and matches(value, live[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(matches(d, v) for d, v in zip(desired, live, strict=True))
        )
    return bool(desired == live)


def _describe(exc: client.ApiException) -> str:
    detail = ""
    try:
        detail = str(json.loads(exc.body or "{}").get("message", ""))[:300]
    except (ValueError, AttributeError):
        detail = ""
    return f"{exc.status} {exc.reason}" + (f": {detail}" if detail else "")


class KubeClient:
    """Thin async wrapper over the official client's blocking calls (run in worker threads)."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._policy = client.PolicyV1Api(api)
        self._networking = client.NetworkingV1Api(api)
        self._custom = client.CustomObjectsApi(api)

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        kwargs.setdefault("_preload_content", False)
        try:
            response = await asyncio.to_thread(fn, *args, **kwargs)
        except client.ApiException as exc:
            raise KubeError(f"{what}: {_describe(exc)}", exc.status) from None
        except OSError as exc:  # urllib3 errors are OSErrors: unreachable API server
            raise KubeError(f"{what}: {type(exc).__name__}") from None
        return json.loads(response.data or b"{}")

    def _patcher(self, api_version: str, kind: str) -> Callable[..., Any]:
        patchers: dict[tuple[str, str], Callable[..., Any]] = {
            ("v1", "ServiceAccount"): self._core.patch_namespaced_service_account,
            ("v1", "ConfigMap"): self._core.patch_namespaced_config_map,
            ("v1", "Service"): self._core.patch_namespaced_service,
            ("v1", "Secret"): self._core.patch_namespaced_secret,
            ("apps/v1", "Deployment"): self._apps.patch_namespaced_deployment,
            (
                "policy/v1",
                "PodDisruptionBudget",
            ): self._policy.patch_namespaced_pod_disruption_budget,
            (
                "networking.k8s.io/v1",
                "NetworkPolicy",
            ): self._networking.patch_namespaced_network_policy,
        }
        return patchers[(api_version, kind)]

    async def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply with force, then a merge patch if the live object still differs.

        Apply takes back every field we set, but cannot remove list items another client added
        (a second port, an extra container): a JSON merge patch of the whole object replaces
        those lists. It also repairs edits that made our apply invalid (a duplicate port name).
        """
        meta = obj["metadata"]
        what = f"{obj['kind']} {meta['namespace']}/{meta['name']}"
        patcher = self._patcher(obj["apiVersion"], obj["kind"])
        args = (meta["name"], meta["namespace"], dict(obj))
        try:
            live: dict[str, Any] = await self._call(
                f"apply {what}",
                patcher,
                *args,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY,
            )
        except KubeError as exc:
            if exc.status != 422:
                raise
            live = {}
        if matches(obj, live):
            return live
        repaired: dict[str, Any] = await self._call(
            f"repair {what}", patcher, *args, field_manager=FIELD_MANAGER, _content_type=MERGE
        )
        return repaired

    async def read_secret(self, namespace: str, name: str) -> SecretSnapshot | None:
        """A Secret's decoded data, or None when it does not exist."""
        try:
            body = await self._call(
                f"get Secret {namespace}/{name}", self._core.read_namespaced_secret, name, namespace
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        data = {
            key: SecretStr(base64.b64decode(value).decode("utf-8", errors="replace"))
            for key, value in (body.get("data") or {}).items()
        }
        return SecretSnapshot(name, str(body["metadata"].get("resourceVersion", "")), data)

    async def read_tenant(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A WhatsAppTenant body, or None when it does not exist."""
        try:
            body: dict[str, Any] = await self._call(
                f"get WhatsAppTenant {namespace}/{name}",
                self._custom.get_namespaced_custom_object,
                API_GROUP,
                API_VERSION,
                namespace,
                "whatsapptenants",
                name,
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return body

    async def list_tenants(self, namespace: str) -> list[dict[str, Any]]:
        """Every WhatsAppTenant body of a namespace (the shared runtime serves some of them)."""
        listed: dict[str, Any] = await self._call(
            f"list WhatsAppTenants in {namespace}",
            self._custom.list_namespaced_custom_object,
            API_GROUP,
            API_VERSION,
            namespace,
            "whatsapptenants",
        )
        return list(listed.get("items") or [])

    async def delete_deployment(self, namespace: str, name: str) -> bool:
        """Delete a Deployment (its pods drain first); False when there was none."""
        try:
            await self._call(
                f"delete Deployment {namespace}/{name}",
                self._apps.delete_namespaced_deployment,
                name,
                namespace,
            )
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def patch_tenant_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        """Merge fields into a WhatsAppTenant's status (outside its own handlers)."""
        await self._call(
            f"patch WhatsAppTenant {namespace}/{name} status",
            self._custom.patch_namespaced_custom_object_status,
            API_GROUP,
            API_VERSION,
            namespace,
            "whatsapptenants",
            name,
            {"status": dict(status)},
            field_manager=FIELD_MANAGER,
            _content_type=MERGE,
        )

    async def edit_secret(
        self,
        blank: Mapping[str, Any],
        edit: Callable[[dict[str, str]], Mapping[str, str | None]],
    ) -> bool:
        """Change keys of a shared Secret (made from `blank` when missing); True when it changed.

        `edit` gets the decoded data and returns the keys to set (None removes one); it runs
        again after a conflicting write, like `write_route`.
        """
        namespace, name = blank["metadata"]["namespace"], blank["metadata"]["name"]
        what = f"Secret {namespace}/{name}"
        for _ in range(ROUTE_WRITE_ATTEMPTS):
            try:
                body = await self._call(
                    f"get {what}", self._core.read_namespaced_secret, name, namespace
                )
            except KubeError as exc:
                if exc.status != 404:
                    raise
                body = await self._call(
                    f"create {what}", self._core.create_namespaced_secret, namespace, dict(blank)
                )
            data = {
                k: base64.b64decode(v).decode("utf-8", errors="replace")
                for k, v in (body.get("data") or {}).items()
            }
            changes = edit(data)
            if not changes:
                return False
            encoded = {
                k: base64.b64encode(v.encode()).decode() if v is not None else None
                for k, v in changes.items()
            }
            version = str(body["metadata"]["resourceVersion"])
            patch = {"metadata": {"resourceVersion": version}, "data": encoded}
            try:
                await self._call(
                    f"patch {what}",
                    self._core.patch_namespaced_secret,
                    name,
                    namespace,
                    patch,
                    field_manager=FIELD_MANAGER,
                    _content_type=MERGE,
                )
            except KubeError as exc:
                if exc.status == 409:
                    continue
                raise
            return True
        raise KubeError(f"patch {what}: kept conflicting, will retry", 409)

    async def write_route(self, namespace: str, name: str, key: str, text: str | None) -> bool:
        """Set (or with None remove) one key of the routes Secret; True when it changed.

        Read-modify-write with the resourceVersion, so two operators or two tenants racing for
        the Secret never overwrite each other: the loser of a race reads again and retries.
        """
        return await self.edit_secret(
            build_routes_secret(namespace, name),
            lambda data: {} if data.get(key) == text else {key: text},
        )
