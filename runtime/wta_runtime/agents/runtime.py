"""The agent runtime: one entry point the worker calls per turn.

`respond` selects the agent, applies its handoff policy, recalls the contact's memory, runs the
model with its tools (or the offline agent), falls back on model failure, then records memory,
usage and the selection. It never raises for a model or tool problem: the worst case is the
fallback message, flagged as such.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents import usage as records
from wta_runtime.agents.after_hours import AwayTeam, away_team, told_after_hours
from wta_runtime.agents.agent_catalog import AgentCatalog, AgentResources
from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.agents.chat_model import ChatModel
from wta_runtime.agents.document_search import DocumentSearch
from wta_runtime.agents.embeddings import Embedder, HashingEmbedder
from wta_runtime.agents.handoff_policy import business_hours_of, handoff_reason, too_many_failures
from wta_runtime.agents.mcp_tools import McpTools, prepare_mcp
from wta_runtime.agents.memory import ContactMemory, memory_items
from wta_runtime.agents.model_calls import RETRYABLE, ModelFailure, RetryBudget
from wta_runtime.agents.offline import OFFLINE_LABEL, offline_answer
from wta_runtime.agents.prompt import PromptInputs, chat_messages
from wta_runtime.agents.providers import ChatModels, load_integrations
from wta_runtime.agents.selection import (
    Choice,
    choose_without_model,
    default_choice,
    select_agent,
)
from wta_runtime.agents.spend_limits import (
    STATE_NUMBER,
    Periods,
    SpendTotals,
    agent_state,
    hard_limit_reply,
    tenant_state,
    time_zone,
    turn_cost,
    with_turn,
)
from wta_runtime.agents.tool_loop import DEFAULT_MAX_STEPS, run_tool_loop
from wta_runtime.agents.toolbox import DocumentLookup, Toolbox
from wta_runtime.agents.turn import (
    AgentAction,
    AgentReply,
    AgentTurn,
    ConversationContext,
    HistoryEntry,
    ToolCallRecord,
    Usage,
)
from wta_runtime.catalog import Tenant
from wta_runtime.conversation.turn_text import contact_words
from wta_runtime.db.agent_records import TurnRecordRows
from wta_runtime.db.driver import DATABASE_ERRORS, driver
from wta_runtime.db.knowledge_store import StoredPassage
from wta_runtime.db.spend import spend_totals
from wta_runtime.egress.connections import egress_client
from wta_runtime.egress.policy import EgressPolicy, EgressRefused
from wta_runtime.metrics import EGRESS_REFUSED
from wta_runtime.openai_errors import openai_errors


def _unavailable() -> tuple[type[BaseException], ...]:
    """What leaves a turn without its records or memory, never without its reply."""
    return (*DATABASE_ERRORS, httpx.HTTPError, *openai_errors())


log = logging.getLogger("wta.agents")
RECENT_TOOL_RESULTS = 5
DOCUMENT_PASSAGES = 4  # passages of ingested documents one lookup_knowledge call returns


def utcnow() -> datetime:
    return datetime.now(UTC)


def _prepare_providers(catalog: AgentCatalog) -> None:
    """Import the LangChain integrations the catalog's agents use before their first turn (a
    first import takes seconds; inside a turn it would stall the process's conversations)."""
    load_integrations(resources.provider for resources in catalog.resources.values())


@dataclass
class _Answer:
    text: str
    provider: str
    outcome: str  # answered | unanswered | fallback | handoff
    actions: list[AgentAction] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    media_urls: list[str] = field(default_factory=list)


class AgentRuntime:
    """Answers turns with the current agent catalog; `swap` replaces the catalog atomically."""

    name = "runtime"

    def __init__(
        self,
        *,
        catalog: AgentCatalog,
        sessions: async_sessionmaker[AsyncSession] | None,
        embedder: Embedder | None = None,
        platform_api_key: SecretStr | None = None,
        platform_base_url: str | None = None,
        budget: RetryBudget | None = None,
        max_tool_steps: int = DEFAULT_MAX_STEPS,
        clock: Callable[[], datetime] = utcnow,
        http: httpx.AsyncClient | None = None,
        egress: EgressPolicy | None = None,
        retry_later: bool = False,
    ) -> None:
        """`http`: the client of HTTP tools, made with `egress_client` (else one is made);
        `egress`: where HTTP tools and MCP servers may be (public addresses unless it says more);
        `retry_later`: a model that fails in a way that may pass (timeout, 429, 5xx, no
        connection) raises `ModelFailure` instead of answering with the fallback, for a caller
        that retries the turn with backoff (the worker); otherwise the fallback answers at once."""
        self._catalog = catalog
        # The tenants the last swap removed, as that version resolved them (their Secrets).
        self._departed = catalog.only(())
        prepare_mcp(self._catalog)
        _prepare_providers(self._catalog)
        self._sessions = sessions
        self._platform_key = platform_api_key
        self._platform_base_url = platform_base_url
        self._budget = budget or RetryBudget()
        self._max_steps = max_tool_steps
        self._clock = clock
        self._retry_later = retry_later
        self._owns_http = http is None
        egress = egress or EgressPolicy()
        self._http = http or egress_client(egress)
        self._models = ChatModels(egress)
        self._mcp = McpTools(egress)
        embedder = embedder or HashingEmbedder()
        self.embedder = embedder
        self._memory = ContactMemory(sessions, embedder, clock) if sessions else None
        self._documents = DocumentSearch(sessions, embedder) if sessions else None

    @property
    def catalog(self) -> AgentCatalog:
        return self._catalog

    def swap(self, catalog: AgentCatalog) -> None:
        """Serve later turns with `catalog`; turns already running finish with the old one."""
        prepare_mcp(catalog)
        _prepare_providers(catalog)
        departed = set(self._catalog.tenants.tenants) - set(catalog.tenants.tenants)
        self._departed = self._catalog.only(departed)
        self._catalog = catalog

    async def reply(self, turn: AgentTurn) -> AgentReply:
        """The AgentProvider interface: `respond` with the turn's context (or a fresh key)."""
        context = turn.context or ConversationContext(
            turn_key=f"turn:{uuid.uuid4()}", contact_name=turn.contact_name
        )
        return await self.respond(turn.tenant, context, turn.user_text, turn.history)

    async def respond(
        self,
        tenant: Tenant | str,
        context: ConversationContext,
        user_text: str,
        history: Sequence[HistoryEntry],
    ) -> AgentReply:
        """The reply to `user_text`, with the agent chosen, actions, tool calls and usage."""
        started = time.perf_counter()
        catalog = self._catalog  # one version for the whole turn
        name = tenant if isinstance(tenant, str) else tenant.name
        if catalog.tenant(name) is None and isinstance(tenant, Tenant):
            # A turn that took its tenant before a reload removed it (deleted, or moved to
            # another runtime) finishes with that tenant's agents as they were loaded.
            catalog = self._departed
        current = catalog.tenant(name)
        if current is None:
            raise LookupError(
                f"tenant {name!r} is not in this runtime's agent catalog (not in its manifests, "
                "or removed by a reload before this turn began)"
            )
        state = await records.load_state(self._sessions, context, RECENT_TOOL_RESULTS)
        said = contact_words(user_text)
        spending = current.spec.spending
        so_far = await self._spent_so_far(current, context)
        if so_far is not None and tenant_state(spending, so_far) == "hard":
            # No router either: it is a model call.
            choice, spent = choose_without_model(current, said, state.sticky_agent), Usage()
            choice = choice or default_choice(current)
        else:
            choice, spent = await select_agent(
                current,
                catalog,
                said,
                history,
                sticky=state.sticky_agent,
                model_for=self._chat_model,
                budget=self._budget,
            )
        if choice is None:
            text = current.spec.fallback_message
            return AgentReply(text=text, provider="fallback", fallback=True)
        resources = catalog.resources[(current.name, choice.agent.name)]
        window = tuple(history)[-choice.agent.spec.memory.window :]
        turn = AgentTurn(current, choice.agent, context.contact_name, window, user_text)
        now = self._clock()
        hours = business_hours_of(current.spec, choice.agent.spec)
        away = away_team(hours, context.language, now)
        forced = handoff_reason(choice.agent.spec.handoff, said, now, hours)
        if so_far is not None and agent_state(spending, so_far, choice.agent.name) == "hard":
            text, actions = hard_limit_reply(spending.on_hard_limit)
            answer = _Answer(text, "limit", records.LIMITED, actions)
        elif forced is not None:
            answer = self._handoff(resources, forced)
        else:
            answer = await self._answer(turn, resources, context, state, now, away)
        if answer.outcome in ("fallback", "unanswered") and too_many_failures(
            choice.agent.spec.handoff, state.failed_in_a_row + 1
        ):
            answer.actions.append(AgentAction("handoff_to_human", "too many failed turns"))
        answer.text, answer.actions = told_after_hours(
            answer.text, answer.actions, answer.tool_calls, away
        )
        reply = AgentReply(
            text=answer.text,
            provider=answer.provider,
            actions=tuple(answer.actions),
            tool_calls=tuple(answer.tool_calls),
            usage=spent + answer.usage,
            agent=choice.agent.name,
            selected_by=choice.method,
            latency_seconds=time.perf_counter() - started,
            fallback=answer.outcome == "fallback",
            media_urls=tuple(answer.media_urls),
        )
        record = await self._record(
            current, choice, resources, context, user_text, answer, reply, so_far
        )
        return dataclasses.replace(reply, record=record) if record is not None else reply

    async def _spent_so_far(
        self, tenant: Tenant, context: ConversationContext
    ) -> SpendTotals | None:
        """What the tenant spent in the limits' periods; None when it sets no limit."""
        if not tenant.spec.spending.limited:
            return None
        if context.spent is not None or self._sessions is None:
            return context.spent or SpendTotals()
        periods = Periods.at(self._clock(), time_zone(tenant.spec))
        try:
            return await spend_totals(driver(self._sessions), tenant.name, periods)
        except _unavailable():
            log.warning("could not read what tenant %s spent; answering", tenant.name)
            return SpendTotals()

    def _chat_model(self, resources: AgentResources) -> ChatModel | None:
        """The chat model of an agent, or None when no key is set (the offline agent). The
        platform's key and endpoint are OpenAI's: other providers have the agent's own."""
        openai_provider = resources.provider == "openai"
        key = resources.api_key or (self._platform_key if openai_provider else None)
        if key is None or not key.get_secret_value():
            return None
        base_url = resources.base_url or (self._platform_base_url if openai_provider else None)
        # The tenant's own endpoint, not the platform's, is reached only where egress allows.
        checked = base_url not in (None, self._platform_base_url)
        return self._models.get(resources.provider, key, base_url, checked=checked)

    def _handoff(self, resources: AgentResources, reason: str) -> _Answer:
        text = ACTION_TEXT["handoff_to_human"]
        offline = self._chat_model(resources) is None
        return _Answer(
            text=f"{OFFLINE_LABEL} {text}" if offline else text,
            provider="offline" if offline else "policy",
            outcome="handoff",
            actions=[AgentAction("handoff_to_human", reason)],
        )

    async def _answer(
        self,
        turn: AgentTurn,
        resources: AgentResources,
        context: ConversationContext,
        state: records.ConversationState,
        now: datetime,
        away: AwayTeam | None,
    ) -> _Answer:
        chat = self._chat_model(resources)
        if chat is None:
            found = offline_answer(turn)
            return _Answer(
                text=f"{OFFLINE_LABEL} {found.text}",
                provider="offline",
                outcome="answered" if found.answered else "unanswered",
                actions=list(found.actions),
                media_urls=list(found.media_urls),
            )
        spec = turn.agent.spec
        inputs = PromptInputs(
            tenant=turn.tenant,
            resources=resources,
            user_text=turn.user_text,
            history=turn.history,
            now=now,
            contact_name=context.contact_name,
            language=context.language,
            recalled=await self._recall(turn, context),
            earlier_tools=state.tool_results,
        )
        mcp = await self._mcp.offer(
            turn.tenant.name, turn.agent.name, spec.tools.mcp, resources.mcp_headers
        )
        try:
            result = await run_tool_loop(
                chat,
                model=spec.model,
                messages=chat_messages(inputs),
                tools=Toolbox(
                    resources,
                    self._http,
                    away.tool_note if away else None,
                    documents=self._document_lookup(turn),
                    mcp=mcp,
                ),
                budget=self._budget,
                max_steps=self._max_steps,
            )
        except ModelFailure as failure:
            if self._retry_later and failure.reason in RETRYABLE:
                raise  # the worker tries the turn again later, then dead-letters it
            log.warning(
                "agent %s of tenant %s failed: %s", turn.agent.name, turn.tenant.name, failure
            )
            if isinstance(failure.__cause__, EgressRefused):
                EGRESS_REFUSED.labels(turn.tenant.name, "model").inc()
            text = spec.fallback_message or turn.tenant.spec.fallback_message
            return _Answer(text, "fallback", "fallback", usage=failure.usage)
        return _Answer(
            result.text,
            chat.provider,
            "answered",
            result.actions,
            result.tool_calls,
            result.usage,
            result.media_urls,
        )

    def _document_lookup(self, turn: AgentTurn) -> DocumentLookup | None:
        """lookup_knowledge's search of the agent's ingested documents, if it has any."""
        documents = self._documents
        if documents is None or not turn.agent.spec.knowledge.sources:
            return None
        tenant, agent = turn.tenant.name, turn.agent.name

        async def lookup(query: str) -> list[StoredPassage]:
            try:
                return await documents.search(
                    tenant=tenant, agent=agent, query=query, limit=DOCUMENT_PASSAGES
                )
            except _unavailable():
                log.warning("knowledge documents not searched", exc_info=True)
                return []

        return lookup

    async def _recall(self, turn: AgentTurn, context: ConversationContext) -> list[str]:
        memory = turn.agent.spec.memory
        if self._memory is None or not memory.semantic_recall or not context.contact_number:
            return []
        try:
            return await self._memory.recall(
                tenant=turn.tenant.name,
                contact=context.contact_number,
                query=turn.user_text,
                top_k=memory.top_k,
                skip=[entry.text for entry in turn.history],
            )
        except _unavailable():
            log.warning("memory recall failed; answering without it", exc_info=True)
            return []

    async def _record(
        self,
        tenant: Tenant,
        choice: Choice,
        resources: AgentResources,
        context: ConversationContext,
        user_text: str,
        answer: _Answer,
        reply: AgentReply,
        so_far: SpendTotals | None,
    ) -> TurnRecordRows | None:
        """Count the turn and write its record; the record itself when the caller writes it
        with the reply (`context.record_with_reply`)."""
        spending = tenant.spec.spending
        model = resources.agent.spec.model.name if answer.provider == resources.provider else None
        cost = turn_cost(spending, resources.agent.spec.model.name, reply.usage)
        if so_far is not None:
            after = with_turn(so_far, choice.agent.name, reply.usage, cost)
            records.LIMIT_STATE.labels(tenant.name, choice.agent.name).set(
                STATE_NUMBER[agent_state(spending, after, choice.agent.name)]
            )
        record = records.TurnRecord(
            tenant=tenant.name,
            agent=choice.agent.name,
            conversation_id=context.conversation_id,
            turn_key=context.turn_key,
            provider=answer.provider,
            model=model,
            usage=reply.usage,
            seconds=reply.latency_seconds,
            outcome=answer.outcome,
            method=choice.method,
            detail=choice.detail,
            tool_calls=answer.tool_calls,
            handoff=any(a.kind == "handoff_to_human" for a in answer.actions),
            cost=cost,
            day=Periods.at(self._clock(), time_zone(tenant.spec)).today,
        )
        records.export_metrics(record)
        if self._sessions is None:
            return None
        rows = records.record_rows(record, self._clock())
        items = memory_items(user_text, answer.text, answer.tool_calls, answer.outcome)
        try:
            if not context.record_with_reply:
                await records.store_turn(self._sessions, rows)
            if self._memory and context.contact_number and choice.agent.spec.memory.semantic_recall:
                await self._memory.remember(
                    tenant=tenant.name,
                    contact=context.contact_number,
                    conversation_id=context.conversation_id,
                    turn_key=context.turn_key,
                    items=items,
                )
        except _unavailable():
            # The reply matters more than its bookkeeping: log and let it go out.
            log.warning("could not record the agent turn", exc_info=True)
        return rows if context.record_with_reply else None

    async def close(self) -> None:
        await self._models.close()
        if self._owns_http:
            await self._http.aclose()
