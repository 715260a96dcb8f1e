"""The CustomResourceDefinitions of `WhatsAppTenant` and `AIAgent`, built from the spec models.

`hack/gen_crds.py` writes them to `crds/`; a unit test fails when those files drift from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from wta_runtime.specs.agent import AIAgentSpec
from wta_runtime.specs.common import API_GROUP, API_VERSION, cel
from wta_runtime.specs.crd_schema import JsonObject, structural_schema
from wta_runtime.specs.status import AIAgentStatus, WhatsAppTenantStatus
from wta_runtime.specs.tenant import WhatsAppTenantSpec

CATEGORY = "wta"
TENANT_NAME_RULE = cel(
    "size(self.metadata.name) <= 40"
    " && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    "WhatsAppTenant names are at most 40 lowercase letters, digits and '-' (no dots): "
    "they become part of stream, subject, Deployment and database role names",
)


def _ready(field: str) -> str:
    return f'.status.conditions[?(@.type=="Ready")].{field}'


@dataclass(frozen=True)
class CustomResource:
    """One of our kinds, with everything its CRD says besides the schemas."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    description: str
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[dict[str, Any], ...]
    rules: tuple[dict[str, str], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.plural}.{API_GROUP}"

    @property
    def file_name(self) -> str:
        return f"{API_GROUP}_{self.plural}.yaml"


WHATSAPP_TENANT = CustomResource(
    kind="WhatsAppTenant",
    plural="whatsapptenants",
    short_names=("wat",),
    description=(
        "A business on WhatsApp: its Twilio account, its numbers and how its conversations run. "
        "The operator runs its runtime workers, stream, routes and database scope."
    ),
    spec=WhatsAppTenantSpec,
    status=WhatsAppTenantStatus,
    columns=(
        {"name": "Ready", "type": "string", "jsonPath": _ready("status")},
        {"name": "Reason", "type": "string", "jsonPath": _ready("reason")},
        {"name": "Numbers", "type": "integer", "jsonPath": ".status.numbers"},
        {"name": "Agents", "type": "integer", "jsonPath": ".status.agents"},
        {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend", "priority": 1},
        {"name": "Limit", "type": "string", "jsonPath": ".status.usage.state", "priority": 1},
        {
            "name": "Spend Today",
            "type": "number",
            "jsonPath": ".status.usage.today.cost",
            "priority": 1,
        },
        {
            "name": "Spend Month",
            "type": "number",
            "jsonPath": ".status.usage.month.cost",
            "priority": 1,
        },
        {
            "name": "Messages Today",
            "type": "integer",
            "jsonPath": ".status.usage.today.messages",
            "priority": 1,
        },
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
    rules=(TENANT_NAME_RULE,),
)

AI_AGENT = CustomResource(
    kind="AIAgent",
    plural="aiagents",
    short_names=("aia",),
    description=(
        "An AI agent of a WhatsAppTenant: its model, instructions, knowledge, tools, memory, "
        "handoff policy and when it is the one that answers."
    ),
    spec=AIAgentSpec,
    status=AIAgentStatus,
    columns=(
        {"name": "Tenant", "type": "string", "jsonPath": ".spec.tenantRef.name"},
        {"name": "Ready", "type": "string", "jsonPath": _ready("status")},
        {"name": "Reason", "type": "string", "jsonPath": _ready("reason")},
        {"name": "Default", "type": "boolean", "jsonPath": ".spec.selection.default"},
        {"name": "Model", "type": "string", "jsonPath": ".spec.model.name", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
)

CUSTOM_RESOURCES = (WHATSAPP_TENANT, AI_AGENT)


def _ordered(node: Any) -> Any:
    """Description and type first, then keywords alphabetically; property order is kept."""
    if isinstance(node, list):
        return [_ordered(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "type" not in node and "properties" not in node and "x-kubernetes-int-or-string" not in node:
        return {k: _ordered(v) for k, v in node.items()}
    first = [k for k in ("description", "type") if k in node]
    rest = sorted(k for k in node if k not in first)
    out = {k: node[k] for k in [*first, *rest]}
    if "properties" in out:
        out["properties"] = {k: _ordered(v) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _ordered(out[key])
    return out


def _root_schema(resource: CustomResource) -> JsonObject:
    root: JsonObject = {
        "description": resource.description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "Versioned schema of this object: wta.io/v1alpha1.",
                "type": "string",
            },
            "kind": {"description": f"Always {resource.kind}.", "type": "string"},
            "metadata": {"type": "object"},
            "spec": structural_schema(resource.spec),
            "status": structural_schema(resource.status),
        },
        "required": ["spec"],
    }
    if resource.rules:
        root["x-kubernetes-validations"] = list(resource.rules)
    return _ordered(root)  # type: ignore[no-any-return]


def custom_resource_definition(resource: CustomResource) -> JsonObject:
    """The CRD object, ready to apply."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.name},
        "spec": {
            "group": API_GROUP,
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.kind.lower(),
                "shortNames": list(resource.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(resource.columns),
                    "schema": {"openAPIV3Schema": _root_schema(resource)},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors, even where the schema repeats an object."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_crd(resource: CustomResource) -> str:
    """The CRD as the YAML file kept in `crds/`."""
    body = yaml.dump(
        custom_resource_definition(resource),
        Dumper=_Dumper,
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
    return (
        "# Generated from runtime/wta_runtime/specs by hack/gen_crds.py: do not edit by hand.\n"
        + "---\n"
        + body
    )
