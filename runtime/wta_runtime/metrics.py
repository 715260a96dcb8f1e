"""Prometheus metrics of the gateway, worker and scheduler (no numbers or text in labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_REQUESTS = Counter(
    "wta_webhook_requests_total",
    "Twilio webhooks received, by tenant and outcome.",
    ["tenant", "outcome"],
)
WEBHOOK_PUBLISH_SECONDS = Histogram(
    "wta_webhook_publish_seconds",
    "Time from webhook received to JetStream acknowledgement.",
    ["tenant"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DB_STATEMENTS = Counter(
    "wta_db_statements",
    "SQL statements this process sent to PostgreSQL (transaction control not counted).",
    ["kind"],
)
EGRESS_REFUSED = Counter(
    "wta_egress_refused_total",
    "Connections a tenant's configuration asked for that the platform's egress policy refused, "
    "by tenant and kind (http_tool, knowledge, mcp, media, model).",
    ["tenant", "kind"],
)
THREAD_LEASES_LOST = Counter(
    "wta_thread_leases_lost",
    "Turns stopped because another worker took their conversation thread over.",
    ["tenant"],
)
HANDOFFS_AFTER_HOURS = Counter(
    "wta_handoffs_after_hours",
    "Conversations handed to people outside the tenant's business hours (queued, marked).",
    ["tenant"],
)
TURNS = Counter(
    "wta_turns_total",
    "Inbound messages processed by the worker, by tenant, agent and outcome.",
    ["tenant", "agent", "outcome"],
)
TURN_SECONDS = Histogram(
    "wta_turn_seconds",
    "Time from message received by the gateway to reply handed to Twilio.",
    ["tenant"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
AGENT_SECONDS = Histogram(
    "wta_agent_seconds",
    "Time the agent provider took to produce a reply.",
    ["tenant", "agent", "provider"],
)
OUTBOUND_MESSAGES = Counter(
    "wta_outbound_messages_total",
    "Messages handed to Twilio, by tenant and first status.",
    ["tenant", "status"],
)
TYPING_INDICATORS = Counter(
    "wta_typing_indicators_total",
    "Typing indicators Twilio accepted (the contact saw 'typing...'), by tenant.",
    ["tenant"],
)
TYPING_INDICATOR_FAILURES = Counter(
    "wta_typing_indicator_failures_total",
    "Typing indicators Twilio refused or did not answer in time (the turn went on), by tenant.",
    ["tenant"],
)
OUTBOUND_ATTEMPTS_RESOLVED = Counter(
    "wta_outbound_attempts_resolved_total",
    "Parts found handed to Twilio without its answer recorded: found there and adopted, or "
    "(not there) resent, or refused when they must not leave any more (a person took over).",
    ["tenant", "outcome"],
)
CONVERSATIONS_EXPIRED = Counter(
    "wta_conversations_expired_total",
    "Conversations the scheduler moved on its timers, by tenant and new state.",
    ["tenant", "state"],
)
STREAM_PENDING = Gauge(
    "wta_stream_pending_messages",
    "Messages in the tenant's inbound stream not yet delivered to its worker consumer.",
    ["tenant"],
)
CONVERSATIONS = Gauge(
    "wta_conversations",
    "Open conversations by lifecycle state, counted on each scheduler sweep.",
    ["tenant", "state"],
)
HANDOFF_OLDEST_WAITING = Gauge(
    "wta_handoff_oldest_waiting_seconds",
    "Age of the oldest conversation waiting in human_handoff; 0 when none waits.",
    ["tenant"],
)
OPT_OUTS = Counter(
    "wta_opt_outs_total",
    "Contacts who opted out of the tenant's messages with a keyword.",
    ["tenant"],
)
OPT_INS = Counter(
    "wta_opt_ins_total",
    "Opted-out contacts who opted back in with a keyword.",
    ["tenant"],
)
OUTBOUND_REFUSED = Counter(
    "wta_outbound_refused_total",
    "Outbound messages never handed to Twilio, by tenant and reason (e.g. opted_out).",
    ["tenant", "reason"],
)
