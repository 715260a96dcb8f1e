"""The custom resources' specs: one Pydantic model each, shared by the operator and the runtime."""

from wta_runtime.specs.agent import AIAgentSpec, KnowledgeEntry, ModelSettings
from wta_runtime.specs.common import SecretKeyRef
from wta_runtime.specs.tenant import TenantTimers, TwilioAccount, WhatsAppNumber, WhatsAppTenantSpec

__all__ = [
    "AIAgentSpec",
    "KnowledgeEntry",
    "ModelSettings",
    "SecretKeyRef",
    "TenantTimers",
    "TwilioAccount",
    "WhatsAppNumber",
    "WhatsAppTenantSpec",
]
