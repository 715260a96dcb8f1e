"""The custom resources' specs: one Pydantic model each, shared by the operator and the runtime."""

from wta_runtime.specs.agent import (
    AIAgentSpec,
    HandoffPolicy,
    HttpTool,
    Knowledge,
    KnowledgeEntry,
    Memory,
    ModelSettings,
    Selection,
    SelectionRule,
    Tools,
)
from wta_runtime.specs.agent_mcp import McpServer
from wta_runtime.specs.agent_media import MediaEntry
from wta_runtime.specs.common import API_GROUP, API_VERSION, SecretKeyRef
from wta_runtime.specs.status import (
    READY,
    AIAgentStatus,
    Condition,
    WhatsAppTenantStatus,
)
from wta_runtime.specs.tenant import (
    DatabasePlacement,
    ModelCredentials,
    OutboundRateLimit,
    OutOfWindowTemplate,
    RuntimeSettings,
    TenantTimers,
    TwilioAccount,
    WhatsAppNumber,
    WhatsAppTenantSpec,
)
from wta_runtime.specs.tenant_media import MediaStorage, TenantBucket

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "READY",
    "AIAgentSpec",
    "AIAgentStatus",
    "Condition",
    "DatabasePlacement",
    "HandoffPolicy",
    "HttpTool",
    "Knowledge",
    "KnowledgeEntry",
    "McpServer",
    "MediaEntry",
    "MediaStorage",
    "Memory",
    "ModelCredentials",
    "ModelSettings",
    "OutOfWindowTemplate",
    "OutboundRateLimit",
    "RuntimeSettings",
    "SecretKeyRef",
    "Selection",
    "SelectionRule",
    "TenantBucket",
    "TenantTimers",
    "Tools",
    "TwilioAccount",
    "WhatsAppNumber",
    "WhatsAppTenantSpec",
    "WhatsAppTenantStatus",
]
