"""Runs golden conversations through the real agent runtime, in memory, and judges the answers.

The runtime is the worker's own (selection, prompt, tool loop, handoff policy, offline agent) on a
catalog read from the golden file's manifests. It runs without a database: history is the case's
own earlier turns and the sticky agent the one that answered the previous turn, as the worker
would pass them; nothing is stored and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import SecretStr

from wta_runtime.agents.agent_catalog import AgentCatalog, agent_catalog_of
from wta_runtime.agents.knowledge import config_maps_from_files
from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.agents.spend_limits import turn_cost
from wta_runtime.agents.turn import AgentReply, ConversationContext, HistoryEntry
from wta_runtime.conversation.contact_language import contact_language
from wta_runtime.egress.policy import EgressPolicy
from wta_runtime.evals.expectations import Answer, ToolUse, unmet
from wta_runtime.evals.golden_files import Case, EvalFileError, GoldenFile
from wta_runtime.manifests import ManifestError, read_manifest_files
from wta_runtime.specs.agent import SEND_MEDIA


@dataclass(frozen=True)
class ModelEndpoint:
    """The platform's model settings; no key means the offline agent, as in the embedded default.
    `egress`: where an endpoint a tenant's agent names may be (`WTA_EGRESS_ALLOW`)."""

    api_key: SecretStr | None = None
    base_url: str | None = None
    egress: EgressPolicy = field(default_factory=EgressPolicy)


@dataclass(frozen=True)
class CaseResult:
    """One case's verdict: why it failed (empty when it passed) and what the model spent."""

    file: str
    case: str
    agent: str
    provider: str
    failures: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    # At the tenant's spending.prices; None when no answering model has a price listed.
    cost: Decimal | None = None
    currency: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures


def catalog_for(golden: GoldenFile) -> AgentCatalog:
    """The tenants and agents of the golden file's manifests; EvalFileError when unusable."""
    try:
        manifests = read_manifest_files(golden.manifests)
        return agent_catalog_of(manifests, config_maps_from_files(golden.manifests))
    except ManifestError as exc:
        raise EvalFileError(f"{golden.path}: field manifests: {exc}") from None


def tenant_of(golden: GoldenFile, catalog: AgentCatalog) -> str:
    """The tenant the cases talk to: the one named, else the only one of the manifests."""
    names = sorted(catalog.tenants.tenants)
    if golden.tenant is not None:
        if golden.tenant not in names:
            raise EvalFileError(
                f"{golden.path}: field tenant: no tenant {golden.tenant!r} in {names}"
            )
        return golden.tenant
    if len(names) != 1:
        raise EvalFileError(f"{golden.path}: field tenant: name one of {names}")
    return names[0]


def answer_of(
    said: str,
    reply: AgentReply,
    max_parts: int | None = None,
    media_names: Mapping[str, str] | None = None,
) -> Answer:
    """The reply as the expectations see it. What the offline agent or the policy does without a
    tool call counts as the tool: its actions, and a file it attaches (as send_media, by name)."""
    tools = [ToolUse(call.name, dict(call.arguments)) for call in reply.tool_calls]
    called = {tool.name for tool in tools}
    tools += [ToolUse(a.kind, {"reason": a.reason}) for a in reply.actions if a.kind not in called]
    if SEND_MEDIA not in called:
        names = media_names or {}
        tools += [ToolUse(SEND_MEDIA, {"name": names.get(url, url)}) for url in reply.media_urls]
    return Answer(
        said=said,
        text=reply.text,
        handed_off=any(action.kind == "handoff_to_human" for action in reply.actions),
        tools=tuple(tools),
        prompt_tokens=reply.usage.prompt_tokens,
        completion_tokens=reply.usage.completion_tokens,
        max_reply_parts=max_parts,
    )


def _media_names(runtime: AgentRuntime, tenant: str, agent: str | None) -> dict[str, str]:
    found = runtime.catalog.agent(tenant, agent) if agent else None
    return {m.url: m.name for m in found.agent.spec.media} if found is not None else {}


async def run_case(
    runtime: AgentRuntime, tenant: str, golden: GoldenFile, case: Case
) -> CaseResult:
    """Every turn of the case in order, each answered with the turns before it as history."""
    history: list[HistoryEntry] = []
    answers: list[Answer] = []
    failures: list[str] = []
    agent: str | None = None
    provider = ""
    spending = runtime.catalog.tenants.by_name(tenant).spec.spending
    cost: Decimal | None = None
    for number, turn in enumerate(case.turns, start=1):
        said = [entry.text for entry in history if entry.role == "user"] + [turn.say]
        context = ConversationContext(
            turn_key=f"eval:{golden.path.name}:{case.name}:{number}",
            contact_number=case.contact,
            language=contact_language(said, case.contact),
            sticky_agent=agent,
        )
        reply = await runtime.respond(tenant, context, turn.say, history)
        agent, provider = reply.agent or agent, reply.provider
        media = _media_names(runtime, tenant, reply.agent)
        answer = answer_of(turn.say, reply, spending.max_reply_parts, media)
        model = _model_of(runtime, tenant, reply)
        if spending.price(model) is not None:
            cost = (cost or Decimal(0)) + turn_cost(spending, model, reply.usage)
        answers.append(answer)
        if reply.fallback:
            failures.append(f"turn {number}: answered with the fallback message (the model failed)")
        failures += [f"turn {number}: {reason}" for reason in unmet(turn.expect, [answer])]
        history += [HistoryEntry("user", turn.say), HistoryEntry("assistant", reply.text)]
    failures += [f"conversation: {reason}" for reason in unmet(case.expect, answers)]
    return CaseResult(
        file=golden.path.name,
        case=case.name,
        agent=agent or "-",
        provider=provider,
        failures=tuple(failures),
        prompt_tokens=sum(a.prompt_tokens for a in answers),
        completion_tokens=sum(a.completion_tokens for a in answers),
        cost=cost,
        currency=spending.currency,
    )


def _model_of(runtime: AgentRuntime, tenant: str, reply: AgentReply) -> str | None:
    found = runtime.catalog.agent(tenant, reply.agent) if reply.agent else None
    if found is None or reply.provider != found.provider:
        return None  # answered without the model: offline, policy, fallback
    return found.agent.spec.model.name


async def run_golden_files(
    files: Sequence[GoldenFile], endpoint: ModelEndpoint
) -> list[CaseResult]:
    """Every case of every file, in order; one runtime per file, closed after it."""
    results: list[CaseResult] = []
    for golden in files:
        catalog = catalog_for(golden)
        tenant = tenant_of(golden, catalog)
        runtime = AgentRuntime(
            catalog=catalog,
            sessions=None,
            platform_api_key=endpoint.api_key,
            platform_base_url=endpoint.base_url,
            egress=endpoint.egress,
        )
        try:
            for case in golden.cases:
                results.append(await run_case(runtime, tenant, golden, case))
        finally:
            await runtime.close()
    return results
