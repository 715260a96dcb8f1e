"""Invalid manifests, each with what the API server tells the user (and what local mode says)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.crds.manifests import Manifest, changed, example, without


@dataclass(frozen=True)
class InvalidCase:
    """A manifest that must be refused, and the words the refusal must contain."""

    id: str
    manifest: Manifest
    api_message: str
    # What the Pydantic model says for the same spec (local mode); None: no spec-level check.
    local_message: str | None


TENANT = example("WhatsAppTenant")
AGENT = example("AIAgent")
MENU_MEDIA = {
    "name": "menu",
    "url": "https://cdn.acme.example/menu.jpg",
    "description": "Photo of the menu",
}
MENU_TOOL = {
    "name": "menu",
    "description": "Today's menu",
    "url": "https://api.acme.example/menu",
    "allowedHosts": ["api.acme.example"],
}
# An MCP server of the example agent: the model sees its tool as orders_check_order_status.
ORDERS_MCP = {
    "name": "orders",
    "url": "https://mcp.acme.example/mcp",
    "allowTools": ["check_order_status"],
}

MODEL_KEY = {"name": "claude", "key": "apiKey"}
OFFICE = [{"day": "mon", "from": "09:00", "to": "18:00"}]


def _hours(**changes: object) -> Manifest:
    """The example tenant with business hours: Mondays 09:00-18:00 in Sao Paulo, and `changes`."""
    return changed(
        TENANT, "spec.businessHours", {"timeZone": "America/Sao_Paulo", "weekly": OFFICE, **changes}
    )


INVALID_ON_CREATE = [
    InvalidCase(
        "number-not-e164",
        changed(TENANT, "spec.numbers", [{"number": "0800-PIZZA"}]),
        'spec.numbers[0].number: Invalid value: "0800-PIZZA": must be an E.164 number',
        "String should match pattern",
    ),
    InvalidCase(
        "auth-token-secret-ref-missing",
        without(TENANT, "spec.twilio.authTokenSecretRef"),
        "spec.twilio.authTokenSecretRef: Required value",
        "Field required",
    ),
    InvalidCase(
        "plain-text-auth-token",
        changed(TENANT, "spec.twilio.authToken", "s3cr3t"),
        'unknown field "spec.twilio.authToken"',
        "Extra inputs are not permitted",
    ),
    InvalidCase(
        "template-variable-fixed-and-per-send",
        changed(
            TENANT,
            "spec.template",
            {
                "contentSid": "HX" + "a" * 32,
                "variables": {"1": "Acme"},
                "perSendVariables": [{"name": "1"}],
            },
        ),
        "either fixed in variables or filled in per send, not both",
        "either fixed in variables or filled in per send, not both",
    ),
    InvalidCase(
        "number-listed-twice",
        changed(TENANT, "spec.numbers", [{"number": "+14155550100"}, {"number": "+14155550100"}]),
        "spec.numbers[1]: Duplicate value",
        "is listed twice",
    ),
    InvalidCase(
        "external-database-without-secret",
        changed(TENANT, "spec.database", {"mode": "external"}),
        "spec.database.secretRef: Required value: database.secretRef is required when "
        "database.mode is external",
        "database.secretRef is required when database.mode is external",
    ),
    InvalidCase(
        "platform-database-with-secret",
        changed(TENANT, "spec.database", {"secretRef": {"name": "db", "key": "url"}}),
        "database.secretRef is only used with mode external",
        "database.secretRef is only used with mode external",
    ),
    InvalidCase(
        "media-bucket-with-half-a-key-pair",
        changed(
            TENANT,
            "spec.media",
            {"s3": {"bucket": "acme-media", "accessKeyIdSecretRef": {"name": "s3", "key": "id"}}},
        ),
        "media.s3.accessKeyIdSecretRef and media.s3.secretAccessKeySecretRef go together",
        "media.s3.accessKeyIdSecretRef and media.s3.secretAccessKeySecretRef go together",
    ),
    InvalidCase(
        "media-prefix-climbing-out",
        changed(TENANT, "spec.media", {"s3": {"bucket": "acme-media", "prefix": "media/../x"}}),
        'spec.media.s3.prefix: Invalid value: "media/../x": must be segments of letters',
        "String should match pattern",
    ),
    InvalidCase(
        "media-kms-key-without-kms",
        changed(TENANT, "spec.media", {"s3": {"bucket": "acme-media", "kmsKeyId": "alias/wta"}}),
        "media.s3.kmsKeyId needs serverSideEncryption: aws:kms",
        "media.s3.kmsKeyId needs serverSideEncryption: aws:kms",
    ),
    InvalidCase(
        "timer-not-a-duration",
        changed(TENANT, "spec.timers.idle", "2 days"),
        'spec.timers.idle: Invalid value: "2 days": must be a duration in hours, minutes, seconds',
        "invalid duration '2 days'",
    ),
    InvalidCase(
        "idle-after-too-short",
        changed(TENANT, "spec.runtime", {"idleAfter": "5s"}),
        "runtime.idleAfter must be at least 10s (or unset to never sleep)",
        "runtime.idleAfter must be at least 10s (or unset to never sleep)",
    ),
    InvalidCase(
        "idle-after-in-mode-shared",
        changed(TENANT, "spec.runtime", {"mode": "shared", "idleAfter": "15m"}),
        "runtime.idleAfter is for mode dedicated",
        "runtime.idleAfter is for mode dedicated",
    ),
    InvalidCase(
        "idle-after-not-a-duration",
        changed(TENANT, "spec.runtime", {"idleAfter": "a while"}),
        'spec.runtime.idleAfter: Invalid value: "a while": must be a duration in hours, minutes',
        "invalid duration 'a while'",
    ),
    InvalidCase(
        "template-sid-not-a-content-sid",
        changed(TENANT, "spec.template", {"contentSid": "MG" + "0" * 32}),
        f'spec.template.contentSid: Invalid value: "MG{"0" * 32}": must be a Content SID',
        "String should match pattern",
    ),
    InvalidCase(
        "cpu-not-a-quantity",
        changed(TENANT, "spec.runtime", {"resources": {"requests": {"cpu": "lots"}}}),
        'spec.runtime.resources.requests.cpu: Invalid value: "lots"',
        "String should match pattern",
    ),
    InvalidCase(
        "tenant-name-with-dots",
        changed(TENANT, "metadata.name", "acme.pizza"),
        "WhatsAppTenant names are at most 40 lowercase letters, digits and '-' (no dots)",
        None,
    ),
    InvalidCase(
        "http-tool-host-not-allowed",
        changed(AGENT, "spec.tools", {"http": [{**MENU_TOOL, "allowedHosts": ["other.example"]}]}),
        "spec.tools.http[0].url: Invalid value: the url's host must be listed in allowedHosts",
        "the url's host must be listed in allowedHosts, and api.acme.example is not",
    ),
    InvalidCase(
        "http-tool-url-not-http",
        changed(
            AGENT, "spec.tools", {"http": [{**MENU_TOOL, "url": "ftp://api.acme.example/menu"}]}
        ),
        'spec.tools.http[0].url: Invalid value: "ftp://api.acme.example/menu": must be an http:// '
        "or https:// URL with a host and no spaces, e.g. https://api.example.com/v1 (ftp://, "
        "file:// and other schemes are refused)",
        "String should match pattern",
    ),
    InvalidCase(
        "model-base-url-not-http",
        changed(AGENT, "spec.model", {"baseUrl": "file:///etc/passwd"}),
        'spec.model.baseUrl: Invalid value: "file:///etc/passwd": must be an http:// or https://',
        "String should match pattern",
    ),
    InvalidCase(
        "model-provider-unknown",
        changed(AGENT, "spec.model", {"provider": "bedrock", "apiKeySecretRef": MODEL_KEY}),
        'spec.model.provider: Unsupported value: "bedrock": supported values: "openai", '
        '"anthropic", "google_genai", "mistralai"',
        "Input should be 'openai', 'anthropic', 'google_genai' or 'mistralai'",
    ),
    InvalidCase(
        "model-provider-without-its-key",
        changed(AGENT, "spec.model", {"provider": "anthropic", "name": "claude-haiku-4-5"}),
        "model.provider other than openai needs model.apiKeySecretRef",
        "model.provider other than openai needs model.apiKeySecretRef",
    ),
    InvalidCase(
        "http-tool-named-like-a-builtin",
        changed(AGENT, "spec.tools", {"http": [{**MENU_TOOL, "name": "handoff_to_human"}]}),
        "http tool names must differ from the built-in tools' names",
        "http tool names must differ from the built-in tools' names",
    ),
    InvalidCase(
        "header-with-value-and-secret",
        changed(
            AGENT,
            "spec.tools",
            {
                "http": [
                    {
                        **MENU_TOOL,
                        "headers": [
                            {
                                "name": "Authorization",
                                "value": "Bearer x",
                                "secretKeyRef": {"name": "menu-api", "key": "token"},
                            }
                        ],
                    }
                ]
            },
        ),
        "spec.tools.http[0].headers[0]: Invalid value: each header needs exactly one "
        "of value or secretKeyRef",
        "each header needs exactly one of value or secretKeyRef",
    ),
    InvalidCase(
        "unknown-builtin-tool",
        changed(AGENT, "spec.tools", {"builtin": ["delete_everything"]}),
        'spec.tools.builtin[0]: Unsupported value: "delete_everything"',
        "Input should be 'handoff_to_human', 'close_conversation' or 'lookup_knowledge'",
    ),
    InvalidCase(
        "selection-rule-without-pattern",
        changed(AGENT, "spec.selection", {"rules": [{"keywords": []}]}),
        "spec.selection.rules[0]: Invalid value: each selection rule needs keywords or a regex",
        "each selection rule needs keywords or a regex",
    ),
    InvalidCase(
        "outside-hours-handoff-without-hours",
        changed(AGENT, "spec.handoff", {"outsideBusinessHours": True}),
        "spec.handoff.businessHours: Required value: outsideBusinessHours needs businessHours",
        "outsideBusinessHours needs businessHours",
    ),
    InvalidCase(
        "business-window-ends-before-it-starts",
        changed(
            AGENT,
            "spec.handoff",
            {
                "outsideBusinessHours": True,
                "businessHours": {"windows": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]},
            },
        ),
        "a business hours window must start before it ends",
        "a business hours window must start before it ends",
    ),
    InvalidCase(
        "media-url-not-https",
        changed(AGENT, "spec.media", [{**MENU_MEDIA, "url": "http://cdn.acme.example/menu.jpg"}]),
        'spec.media[0].url: Invalid value: "http://cdn.acme.example/menu.jpg": must be an '
        "https:// URL Twilio can download without credentials",
        "String should match pattern",
    ),
    InvalidCase(
        "media-name-listed-twice",
        changed(AGENT, "spec.media", [MENU_MEDIA, {**MENU_MEDIA, "url": MENU_MEDIA["url"] + "?2"}]),
        "spec.media[1]: Duplicate value",
        "media 'menu' is listed twice",
    ),
    InvalidCase(
        "media-name-with-spaces",
        changed(AGENT, "spec.media", [{**MENU_MEDIA, "name": "Our Menu"}]),
        'spec.media[0].name: Invalid value: "Our Menu": must be lowercase letters, digits',
        "String should match pattern",
    ),
    InvalidCase(
        "too-many-media",
        changed(AGENT, "spec.media", [{**MENU_MEDIA, "name": f"file-{i}"} for i in range(21)]),
        "spec.media: Too many: 21: must have at most 20 items",
        "List should have at most 20 items",
    ),
    InvalidCase(
        "http-tool-named-send-media",
        changed(AGENT, "spec.tools", {"http": [{**MENU_TOOL, "name": "send_media"}]}),
        "http tool names must differ from the built-in tools' names",
        "http tool names must differ from the built-in tools' names",
    ),
    InvalidCase(
        "legacy-top-level-default",
        changed(AGENT, "spec.default", True),
        'unknown field "spec.default"',
        "Extra inputs are not permitted",
    ),
    InvalidCase(
        "consent-without-opt-out-confirmation",
        changed(TENANT, "spec.consent", {"optOutReplies": {}}),
        "spec.consent.optOutReplies: Invalid value: 0: spec.consent.optOutReplies in body should "
        "have at least 1 properties",
        "optOutReplies",
    ),
    InvalidCase(
        "consent-empty-keyword",
        changed(TENANT, "spec.consent", {"optOutKeywords": {"en": [""]}}),
        "spec.consent.optOutKeywords.en[0]: Invalid value",
        "at least 1 character",
    ),
    InvalidCase(
        "business-hours-range-closes-before-it-opens",
        _hours(weekly=[{"day": "mon", "from": "18:00", "to": "09:00"}]),
        "spec.businessHours.weekly[0]: Invalid value: a weekly range must open "
        "before it closes (from < to, 24-hour clock)",
        "a weekly range must open before it closes",
    ),
    InvalidCase(
        "business-hours-hour-25",
        _hours(weekly=[{"day": "mon", "from": "25:00", "to": "26:00"}]),
        'spec.businessHours.weekly[0].from: Invalid value: "25:00": from must be a time HH:MM '
        "between 00:00 and 23:59",
        "String should match pattern",
    ),
    InvalidCase(
        "business-hours-unknown-day",
        _hours(weekly=[{"day": "monday", "from": "09:00", "to": "18:00"}]),
        'spec.businessHours.weekly[0].day: Unsupported value: "monday"',
        "Input should be 'mon', 'tue'",
    ),
    InvalidCase(
        "business-hours-overlapping-holidays",
        _hours(
            holidays=[
                {"date": "2026-12-24", "until": "2026-12-26", "name": "Christmas"},
                {"date": "2026-12-25"},
            ]
        ),
        "spec.businessHours.holidays: Invalid value: holidays overlap: each day may "
        "belong to one holiday only",
        "holidays overlap",
    ),
    InvalidCase(
        "business-hours-holiday-ends-before-it-starts",
        _hours(holidays=[{"date": "2026-12-26", "until": "2026-12-24"}]),
        "spec.businessHours.holidays[0].until: Invalid value: a holiday's until "
        "(its last day) must be on or after its date",
        "must be on or after its date",
    ),
    InvalidCase(
        "business-hours-holiday-not-a-date",
        _hours(holidays=[{"date": "25/12/2026"}]),
        'spec.businessHours.holidays[0].date: Invalid value: "25/12/2026": date must be a date '
        "written YYYY-MM-DD",
        "String should match pattern",
    ),
    InvalidCase(
        "business-hours-time-zone-not-a-zone-name",
        _hours(timeZone="GMT -3"),
        'spec.businessHours.timeZone: Invalid value: "GMT -3": timeZone must be an IANA time '
        "zone name such as Europe/Madrid",
        "String should match pattern",
    ),
    InvalidCase(
        "spending-negative-price",
        changed(
            TENANT,
            "spec.spending.prices",
            [{"model": "gpt-4o-mini", "inputPerMillion": -0.15, "outputPerMillion": 0.6}],
        ),
        "spec.spending.prices[0].inputPerMillion: Invalid value: -0.15: "
        "spec.spending.prices[0].inputPerMillion in body should be greater than or equal to 0",
        "greater than or equal to 0",
    ),
    InvalidCase(
        "spending-soft-above-hard",
        changed(TENANT, "spec.spending.limits", {"daily": {"soft": 20, "hard": 10}}),
        "spec.spending.limits.daily: Invalid value: soft must not be above hard",
        "soft must not be above hard",
    ),
    InvalidCase(
        "spending-unknown-hard-limit-behaviour",
        changed(TENANT, "spec.spending.onHardLimit", {"action": "shutdown"}),
        'spec.spending.onHardLimit.action: Unsupported value: "shutdown": supported values: '
        '"handoff", "message"',
        "'handoff' or 'message'",
    ),
    InvalidCase(
        "spending-message-behaviour-without-message",
        changed(TENANT, "spec.spending.onHardLimit", {"action": "message"}),
        "spec.spending.onHardLimit.message: Required value: onHardLimit.message is required when "
        "action is message",
        "onHardLimit.message is required",
    ),
    InvalidCase(
        "spending-reply-parts-zero",
        changed(TENANT, "spec.spending.maxReplyParts", 0),
        "spec.spending.maxReplyParts: Invalid value: 0: spec.spending.maxReplyParts in body should "
        "be greater than or equal to 1",
        "greater than or equal to 1",
    ),
    InvalidCase(
        "mcp-url-not-http",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "url": "file:///srv/mcp.sock"}]}),
        'spec.tools.mcp[0].url: Invalid value: "file:///srv/mcp.sock": must be an http:// or '
        "https:// URL",
        "String should match pattern",
    ),
    InvalidCase(
        "mcp-without-allowed-tools",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "allowTools": []}]}),
        "spec.tools.mcp[0].allowTools: Invalid value: 0: spec.tools.mcp[0].allowTools in body "
        "should have at least 1 items",
        "List should have at least 1 item",
    ),
    InvalidCase(
        "mcp-allowed-tool-with-spaces",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "allowTools": ["check order"]}]}),
        'spec.tools.mcp[0].allowTools[0]: Invalid value: "check order": must be the tool\'s name '
        "on the server, in letters, digits, '_' and '-'",
        "String should match pattern",
    ),
    InvalidCase(
        "mcp-server-name-with-underscore",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "name": "order_api"}]}),
        'spec.tools.mcp[0].name: Invalid value: "order_api": must start with a lowercase letter',
        "String should match pattern",
    ),
    InvalidCase(
        "mcp-server-listed-twice",
        changed(
            AGENT, "spec.tools", {"mcp": [ORDERS_MCP, {**ORDERS_MCP, "url": "http://10.0.0.9/"}]}
        ),
        "spec.tools.mcp[1]: Duplicate value",
        "MCP server 'orders' is listed twice",
    ),
    InvalidCase(
        "mcp-tool-named-like-a-builtin",
        changed(
            AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "name": "send", "allowTools": ["media"]}]}
        ),
        "spec.tools.mcp: Invalid value: the model sees an MCP tool as <server name>_<tool>, and "
        "that name must differ from the built-in and http tools' names",
        "that name must differ from the built-in and http tools' names: rename the MCP server "
        "(send_media)",
    ),
    InvalidCase(
        "mcp-tool-named-like-an-http-tool",
        changed(
            AGENT,
            "spec.tools",
            {
                "http": [{**MENU_TOOL, "name": "orders_menu"}],
                "mcp": [{**ORDERS_MCP, "allowTools": ["menu"]}],
            },
        ),
        "spec.tools.mcp: Invalid value: the model sees an MCP tool as <server name>_<tool>",
        "rename the MCP server (orders_menu)",
    ),
    InvalidCase(
        "mcp-tool-name-too-long",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "allowTools": ["x" * 60]}]}),
        "spec.tools.mcp[0].allowTools: Invalid value: the model sees each tool as <name>_<tool>, "
        "at most 64 characters",
        "the model sees each tool as <name>_<tool>, at most 64 characters",
    ),
    InvalidCase(
        "mcp-timeout-zero",
        changed(AGENT, "spec.tools", {"mcp": [{**ORDERS_MCP, "timeoutSeconds": 0}]}),
        "spec.tools.mcp[0].timeoutSeconds: Invalid value: 0: spec.tools.mcp[0].timeoutSeconds in "
        "body should be greater than 0",
        "greater than 0",
    ),
]
