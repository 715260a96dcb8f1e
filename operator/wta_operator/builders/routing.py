"""The gateway's routing entry of a tenant: a YAML file in the shared routes Secret."""

from __future__ import annotations

import base64
from typing import Any

from wta_operator.builders.manifests import dump_yaml, spec_document, tenant_manifest
from wta_operator.naming import MANAGED_BY
from wta_operator.views import TenantView
from wta_runtime.catalog import database_url_ref
from wta_runtime.specs import SecretKeyRef


def gateway_spec(tenant: TenantView) -> dict[str, Any]:
    """The tenant's spec as the gateway sees it: without the credentials it never uses.

    The gateway's catalog resolves every Secret the spec names; it gets only the auth token, so
    neither the model key nor the tenant's media bucket (workers store media, not the gateway).
    """
    spec = spec_document(tenant.spec)
    model = dict(spec.get("model") or {})
    model.pop("apiKeySecretRef", None)
    spec["model"] = model
    spec.pop("media", None)
    return spec


def _secret(tenant: TenantView, ref: SecretKeyRef, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": ref.name, "namespace": tenant.namespace},
        "type": "Opaque",
        "data": {ref.key: base64.b64encode(value.encode()).decode()},
    }


def build_route_document(tenant: TenantView, auth_token: str, database_url: str | None) -> str:
    """What `wta_runtime.catalog.load_catalog` reads for this tenant from the mounted Secret.

    v1 Secrets holding only the auth token and the tenant's database URL (the one its runtime
    uses, for the handoff API and the console), under the names and keys the catalog looks them
    up by, then the WhatsAppTenant itself. (Secrets of the same name merge their keys.)
    """
    secrets = [_secret(tenant, tenant.spec.twilio.auth_token_secret_ref, auth_token)]
    if database_url is not None:
        ref = database_url_ref(tenant.name, tenant.spec)
        secrets.append(_secret(tenant, ref, database_url))
    return dump_yaml(*secrets, tenant_manifest(tenant, spec=gateway_spec(tenant)))


def build_routes_secret(namespace: str, name: str) -> dict[str, Any]:
    """The routes Secret before any tenant is routed (tenants add and remove their own keys)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "wta-gateway",
                "app.kubernetes.io/component": "routes",
                "app.kubernetes.io/part-of": "wta",
                "app.kubernetes.io/managed-by": MANAGED_BY,
            },
        },
        "type": "Opaque",
        "data": {},
    }
