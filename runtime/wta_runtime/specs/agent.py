"""`AIAgent.spec`: what one AI agent of a tenant says, knows and may do."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from wta_runtime.specs.agent_headers import HttpHeader
from wta_runtime.specs.agent_mcp import McpServer, mcp_tool_names
from wta_runtime.specs.agent_media import MAX_MEDIA, MediaEntry
from wta_runtime.specs.common import (
    DATA_KEY,
    DNS_SUBDOMAIN,
    LIST_SET,
    SecretKeyRef,
    SpecModel,
    cel,
    explained_pattern,
    immutable,
    list_map,
    unique,
    validations,
)
from wta_runtime.specs.tenant import HTTP_URL, HTTP_URL_HINT

BUILTIN_TOOLS = ("handoff_to_human", "close_conversation", "lookup_knowledge")
# Offered by the runtime on its own when the agent has `media`; no HTTP tool may take the name.
SEND_MEDIA = "send_media"
RESERVED_TOOL_NAMES = (*BUILTIN_TOOLS, SEND_MEDIA)
BuiltinTool = Literal["handoff_to_human", "close_conversation", "lookup_knowledge"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

TENANT_REF_IMMUTABLE = (
    "tenantRef cannot change: create the agent again under the other tenant instead"
)
HOST_NOT_ALLOWED = "the url's host must be listed in allowedHosts"  # when the host is unknown
TOOL_NAME_TAKEN = (
    "http tool names must differ from the built-in tools' names "
    "(handoff_to_human, close_conversation, lookup_knowledge, send_media)"
)
MCP_NAME_TAKEN = (
    "the model sees an MCP tool as <server name>_<tool>, and that name must differ from the "
    "built-in and http tools' names: rename the MCP server"
)
WINDOW_ORDER = "a business hours window must start before it ends (HH:MM, 24-hour clock)"
HOURS_NEEDED = "outsideBusinessHours needs businessHours: say when people are available"
DEPRECATED_AGENT_HOURS = (
    "spec.handoff.businessHours is deprecated: move it to WhatsAppTenant.spec.businessHours "
    "(weekly ranges, holidays, after-hours messages), then remove it from the agent"
)
RULE_NEEDS_PATTERN = "each selection rule needs keywords or a regex"
SOURCE_ONE_KIND = "each knowledge source needs exactly one of configMap, url or s3"
KNOWLEDGE_HOST_NOT_ALLOWED = (
    "a knowledge url's host (or host:port) must be listed in knowledge.allowedHosts"
)
S3_DOCUMENT_KEY = r"^[^/\s][^\s]*$"
S3_KEY_HINT = "must be an object key without spaces or a leading /"
S3_KEY_NO_PARENT = "an s3 key cannot have a .. segment: name an object below the tenant's prefix"
KnowledgeFormat = Literal["markdown", "html", "pdf", "text"]
# `openai` is any OpenAI-compatible endpoint, on the SDK; the others are LangChain chat-model
# integrations (`init_chat_model` provider names), each an optional extra of the runtime.
MODEL_PROVIDERS = ("openai", "anthropic", "google_genai", "mistralai")
ModelProvider = Literal["openai", "anthropic", "google_genai", "mistralai"]
PROVIDER_NEEDS_KEY = (
    "model.provider other than openai needs model.apiKeySecretRef: the agent names the Secret "
    "key of its provider's API key (the tenant's and the platform's keys are OpenAI's)"
)

HostName = Annotated[
    str,
    StringConstraints(
        max_length=253, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ),
]
HostPort = Annotated[
    str,
    StringConstraints(
        max_length=259,
        pattern=(
            r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$"
        ),
    ),
]
ClockTime = Annotated[str, StringConstraints(max_length=5)]


class TenantRef(SpecModel):
    """The tenant an agent belongs to (same namespace)."""

    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=DNS_SUBDOMAIN,
        description="Name of the WhatsAppTenant in this namespace. Cannot change later.",
        json_schema_extra=immutable(TENANT_REF_IMMUTABLE),
    )


class ModelSettings(SpecModel):
    """The model that runs the agent."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("self.provider == 'openai' || has(self.apiKeySecretRef)", PROVIDER_NEEDS_KEY)
        )
    )

    provider: ModelProvider = Field(
        default="openai",
        description=(
            "Who serves the model: openai (any OpenAI-compatible endpoint: OpenAI, Azure, vLLM, "
            "Ollama) or a LangChain integration: anthropic, google_genai, mistralai (each needs "
            "its extra installed in the runtime image, and apiKeySecretRef)."
        ),
    )
    base_url: str | None = Field(
        default=None,
        pattern=HTTP_URL,
        max_length=2048,
        description=(
            "Base URL of the provider's API. For openai, unset uses the tenant's, then the "
            "platform's; for other providers, unset uses the provider's public endpoint."
        ),
        json_schema_extra=HTTP_URL_HINT,
    )
    name: str = Field(
        default="gpt-4o-mini",
        min_length=1,
        max_length=200,
        description="Model name at the endpoint.",
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(
        default=500, ge=1, le=32768, description="Reply length limit in tokens."
    )
    timeout_seconds: float = Field(
        default=30, gt=0, le=300, description="Seconds one model call may take."
    )
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the provider's API key; unset uses the tenant's (openai only)."
        ),
    )

    @model_validator(mode="after")
    def _key_for_provider(self) -> ModelSettings:
        if self.provider != "openai" and self.api_key_secret_ref is None:
            raise ValueError(PROVIDER_NEEDS_KEY)
        return self


class KnowledgeEntry(SpecModel):
    """A question the agent can answer, with the answer it must give."""

    question: str = Field(min_length=1, max_length=1000, description="A question customers ask.")
    answer: str = Field(min_length=1, max_length=4000, description="The answer the agent gives.")
    keywords: list[str] = Field(
        default_factory=list, description="Words that point to this entry when searching."
    )


class ConfigMapDocuments(SpecModel):
    """Documents kept in a ConfigMap of the agent's namespace, one per key."""

    name: str = Field(
        min_length=1, max_length=253, pattern=DNS_SUBDOMAIN, description="Name of the ConfigMap."
    )
    keys: list[str] = Field(
        default_factory=list,
        description="Keys to read; empty reads every key of the ConfigMap.",
        json_schema_extra=LIST_SET,
    )

    @field_validator("keys")
    @classmethod
    def _keys_valid(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not re.fullmatch(DATA_KEY, key):
                raise ValueError(f"{key!r} is not a ConfigMap key")
        return unique(keys, "key")


class ConfigMapKey(SpecModel):
    """One key of a ConfigMap in the agent's namespace."""

    name: str = Field(
        min_length=1, max_length=253, pattern=DNS_SUBDOMAIN, description="Name of the ConfigMap."
    )
    key: str = Field(
        min_length=1, max_length=253, pattern=DATA_KEY, description="The key holding the document."
    )


class S3Document(SpecModel):
    """An object in the tenant's media store, under the tenant's own prefix."""

    key: str = Field(
        min_length=1,
        max_length=1024,
        pattern=S3_DOCUMENT_KEY,
        description=(
            "Object key below `<prefix>/<tenant>/` of the tenant's media store, e.g. "
            "knowledge/menu.pdf (no leading /, no .. segment)."
        ),
        json_schema_extra={
            **explained_pattern(S3_KEY_HINT),
            **validations(cel("!self.matches('(^|/)[.][.](/|$)')", S3_KEY_NO_PARENT)),
        },
    )

    @field_validator("key")
    @classmethod
    def _no_parent(cls, key: str) -> str:
        if ".." in key.split("/"):
            raise ValueError(S3_KEY_NO_PARENT)
        return key


class KnowledgeSource(SpecModel):
    """A document ingested into the agent's knowledge: exactly one of configMap, url or s3."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "[has(self.configMap), has(self.url), has(self.s3)].filter(x, x).size() == 1",
                SOURCE_ONE_KIND,
            )
        )
    )

    config_map: ConfigMapKey | None = Field(default=None, description="A ConfigMap key.")
    url: str | None = Field(
        default=None,
        pattern=HTTP_URL,
        max_length=1024,
        description=(
            "A web page or file fetched by the worker: https only (plain http only where the "
            "platform allows it, for local runs), its host listed in knowledge.allowedHosts."
        ),
        json_schema_extra=HTTP_URL_HINT,
    )
    s3: S3Document | None = Field(default=None, description="An object of the tenant's store.")
    format: KnowledgeFormat | None = Field(
        default=None,
        description="markdown, html, pdf or text; unset guesses from the name or content type.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> KnowledgeSource:
        if sum(x is not None for x in (self.config_map, self.url, self.s3)) != 1:
            raise ValueError(SOURCE_ONE_KIND)
        return self

    @property
    def label(self) -> str:
        """How the source is named in status and citations: `configmap/<name>/<key>`, the
        URL without its query (which may carry a token), or `s3/<key>`."""
        if self.config_map is not None:
            return f"configmap/{self.config_map.name}/{self.config_map.key}"
        if self.url is not None:
            return self.url.split("?", 1)[0].split("#", 1)[0]
        assert self.s3 is not None
        return f"s3/{self.s3.key}"


class Knowledge(SpecModel):
    """What the agent knows."""

    # The url-host check is not a CEL rule: the API server's cost estimate of a rule crossing
    # sources and allowedHosts is far over its budget. The operator's check (InvalidSpec) and
    # the runtime's catalog refuse such an agent instead, with the same message.

    entries: list[KnowledgeEntry] = Field(
        default_factory=list, max_length=500, description="Questions and answers, inline."
    )
    config_map_refs: list[ConfigMapDocuments] = Field(
        default_factory=list,
        max_length=20,
        description="ConfigMaps whose values are documents the agent may consult.",
    )
    sources: list[KnowledgeSource] = Field(
        default_factory=list,
        max_length=20,
        description=(
            "Documents ingested by the worker outside the turns (split, embedded, stored in "
            "the tenant's database) and searched by lookup_knowledge, each passage cited."
        ),
    )
    allowed_hosts: list[HostPort] = Field(
        default_factory=list,
        max_length=10,
        description="Hosts (host or host:port) url sources may be fetched from.",
        json_schema_extra=LIST_SET,
    )

    @model_validator(mode="after")
    def _sources_allowed(self) -> Knowledge:
        labels = [s.label for s in self.sources]
        unique(labels, "knowledge source")
        for source in self.sources:
            if source.url is not None and not self.allows(source.url):
                netloc = urlsplit(source.url).netloc
                raise ValueError(f"{KNOWLEDGE_HOST_NOT_ALLOWED}, and {netloc} is not")
        return self

    def allows(self, url: str) -> bool:
        """Whether the URL's host, or host:port, is one of allowedHosts."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        return host in self.allowed_hosts or f"{host}:{parts.port}" in self.allowed_hosts


class HttpTool(SpecModel):
    """A function the model may call, carried out as one HTTP request."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.allowedHosts.exists(h, h == url(self.url).getHostname())",
                HOST_NOT_ALLOWED,
                field_path=".url",
            )
        )
    )

    name: str = Field(
        pattern=r"^[a-zA-Z0-9_-]{1,64}$",
        description="Function name the model sees (letters, digits, _ and -).",
        json_schema_extra=validations(
            cel(f"!(self in {list(RESERVED_TOOL_NAMES)!r})", TOOL_NAME_TAKEN)
        ),
    )
    description: str = Field(
        min_length=1, max_length=1024, description="What the tool does, told to the model."
    )
    url: str = Field(
        pattern=HTTP_URL,
        max_length=1024,
        description="Endpoint called; its host must be allowed.",
        json_schema_extra=HTTP_URL_HINT,
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="POST", description="HTTP method; the arguments go in the query for GET."
    )
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the arguments the model must supply.",
    )
    headers: list[HttpHeader] = Field(
        default_factory=list,
        max_length=20,
        description="Headers sent with each call; credentials by Secret reference.",
        json_schema_extra=list_map("name"),
    )
    timeout_seconds: float = Field(
        default=10, gt=0, le=120, description="Seconds one call may take."
    )
    allowed_hosts: list[HostName] = Field(
        min_length=1,
        max_length=20,
        description="Host names the tool may call; the url's host must be one of them.",
        json_schema_extra=LIST_SET,
    )

    @model_validator(mode="after")
    def _host_allowed(self) -> HttpTool:
        host = urlsplit(self.url).hostname
        if host not in self.allowed_hosts:
            raise ValueError(f"{HOST_NOT_ALLOWED}, and {host} is not")
        if self.name in RESERVED_TOOL_NAMES:
            raise ValueError(TOOL_NAME_TAKEN)
        unique([h.name for h in self.headers], "header")
        return self


class Tools(SpecModel):
    """What the agent may do besides answering."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.mcp) || self.mcp.all(m, m.allowTools.all(t, "
                f"!((m.name + '_' + t) in {list(RESERVED_TOOL_NAMES)!r}) && "
                "!(has(self.http) && self.http.exists(h, h.name == m.name + '_' + t))))",
                MCP_NAME_TAKEN,
                field_path=".mcp",
            )
        )
    )

    builtin: list[BuiltinTool] = Field(
        default_factory=list,
        description="Built-in tools: handoff_to_human, close_conversation, lookup_knowledge.",
        json_schema_extra=LIST_SET,
    )
    http: list[HttpTool] = Field(
        default_factory=list,
        max_length=20,
        description="Declarative HTTP tools.",
        json_schema_extra=list_map("name"),
    )
    mcp: list[McpServer] = Field(
        default_factory=list,
        max_length=10,
        description="MCP servers (streamable HTTP) whose allowed tools the model may call.",
        json_schema_extra=list_map("name"),
    )

    @model_validator(mode="after")
    def _unique(self) -> Tools:
        unique(list(self.builtin), "tool")
        unique([t.name for t in self.http], "tool")
        unique([s.name for s in self.mcp], "MCP server")
        taken = {*RESERVED_TOOL_NAMES, *(t.name for t in self.http)}
        for name in mcp_tool_names(self.mcp):
            if name in taken:
                raise ValueError(f"{MCP_NAME_TAKEN} ({name})")
        return self


class Memory(SpecModel):
    """How much of the conversation the agent sees."""

    window: int = Field(default=20, ge=1, le=200, description="Recent messages in context.")
    semantic_recall: bool = Field(
        default=False, description="Also recall older messages similar to the current one."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Older messages recalled, at most.")


class BusinessWindow(SpecModel):
    """Opening hours on some days of the week."""

    model_config = ConfigDict(
        json_schema_extra=validations(cel("self.start < self.end", WINDOW_ORDER))
    )

    days: list[Weekday] = Field(
        min_length=1, description="Days this window applies to.", json_schema_extra=LIST_SET
    )
    start: ClockTime = Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Opening time, HH:MM."
    )
    end: ClockTime = Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", description="Closing time, HH:MM."
    )

    @model_validator(mode="after")
    def _ordered(self) -> BusinessWindow:
        if self.start >= self.end:
            raise ValueError(WINDOW_ORDER)
        return self


class BusinessHours(SpecModel):
    """When people are available to take over conversations."""

    time_zone: str = Field(
        default="UTC",
        pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$",
        description="IANA time zone of the windows, e.g. Europe/Madrid.",
    )
    windows: list[BusinessWindow] = Field(
        min_length=1, max_length=14, description="Opening windows."
    )


class HandoffPolicy(SpecModel):
    """When the conversation goes to a person."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!self.outsideBusinessHours || has(self.businessHours)",
                HOURS_NEEDED,
                field_path=".businessHours",
                reason="FieldValueRequired",
            )
        )
    )

    keywords: list[str] = Field(
        default_factory=list, description="Words in a user message that hand off at once."
    )
    on_user_request: bool = Field(
        default=True, description="Hand off when the user asks for a person."
    )
    after_failed_turns: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="Hand off after this many turns in a row without a useful answer.",
    )
    outside_business_hours: bool = Field(
        default=False,
        description=(
            "Deprecated: hand off every message that arrives outside the business hours, when "
            "nobody is there (the conversation is queued, marked after-hours)."
        ),
    )
    business_hours: BusinessHours | None = Field(
        default=None,
        description=(
            "Deprecated: use WhatsAppTenant.spec.businessHours (this agent's are used only when "
            "the tenant sets none). The operator reports a Deprecated condition while it is set."
        ),
    )

    @model_validator(mode="after")
    def _hours_given(self) -> HandoffPolicy:
        if self.outside_business_hours and self.business_hours is None:
            raise ValueError(HOURS_NEEDED)
        return self


class SelectionRule(SpecModel):
    """Messages that match this rule go to the agent."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "(has(self.keywords) && size(self.keywords) > 0) || has(self.regex)",
                RULE_NEEDS_PATTERN,
            )
        )
    )

    keywords: list[str] = Field(
        default_factory=list, description="Any of these words (case-insensitive) matches."
    )
    regex: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="A regular expression that matches.",
    )

    @model_validator(mode="after")
    def _has_pattern(self) -> SelectionRule:
        if not self.keywords and self.regex is None:
            raise ValueError(RULE_NEEDS_PATTERN)
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} is invalid: {exc}") from None
        return self


class Selection(SpecModel):
    """Which agent of the tenant answers a conversation."""

    default: bool = Field(default=False, description="Answers when no rule of any agent matches.")
    priority: int = Field(
        default=0, ge=-1000, le=1000, description="Higher wins when several agents match."
    )
    rules: list[SelectionRule] = Field(
        default_factory=list, max_length=50, description="Any matching rule selects the agent."
    )
    description: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description=(
            "What this agent handles, told to the LLM router; when no rule matches a new "
            "conversation, the router chooses among the tenant's agents that have one."
        ),
    )


class AIAgentSpec(SpecModel):
    """Desired state of one AI agent of a tenant."""

    tenant_ref: TenantRef = Field(description="The WhatsAppTenant this agent works for.")
    model: ModelSettings = Field(default_factory=ModelSettings, description="The model it runs on.")
    instructions: str = Field(
        min_length=1, max_length=20000, description="System prompt of the agent."
    )
    knowledge: Knowledge = Field(default_factory=Knowledge, description="What it knows.")
    tools: Tools = Field(default_factory=Tools, description="What it may do besides answering.")
    memory: Memory = Field(default_factory=Memory, description="What it remembers.")
    handoff: HandoffPolicy = Field(
        default_factory=HandoffPolicy, description="When it hands the conversation to a person."
    )
    selection: Selection = Field(
        default_factory=Selection, description="When it is the agent that answers."
    )
    fallback_message: str | None = Field(
        default=None,
        min_length=1,
        max_length=1600,
        description="Overrides the tenant's fallback message for this agent.",
    )
    media: list[MediaEntry] = Field(
        default_factory=list,
        max_length=MAX_MEDIA,
        description=(
            "Files the agent may send with a reply (a menu, a price list): the model picks one "
            "by name with the send_media tool, offered only when this list is not empty."
        ),
        json_schema_extra=list_map("name"),
    )

    @model_validator(mode="after")
    def _media_names_unique(self) -> AIAgentSpec:
        unique([m.name for m in self.media], "media")
        return self
