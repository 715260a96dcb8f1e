"""The tables of `wta eval` (pass or fail per case, why, tokens) and `wta replay` (side by side)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.markup import escape
from rich.table import Table

from wta_runtime.evals.replay import ReplayedTurn
from wta_runtime.evals.runner import CaseResult


def results_table(results: Sequence[CaseResult]) -> Table:
    """Pass/fail per case, the agent that answered, its tokens and cost, and the totals."""
    table = Table("file", "case", "agent", "result", "tokens (in/out)", "cost", show_footer=True)
    for result in results:
        verdict = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
        table.add_row(
            escape(result.file),
            escape(result.case),
            escape(f"{result.agent} ({result.provider})"),
            verdict,
            f"{result.prompt_tokens}/{result.completion_tokens}",
            _money(result.cost, result.currency),
        )
    failed = sum(not r.passed for r in results)
    table.columns[0].footer = "total"
    table.columns[3].footer = f"{len(results) - failed} passed, {failed} failed"
    tokens = sum(r.prompt_tokens for r in results), sum(r.completion_tokens for r in results)
    table.columns[4].footer = f"{tokens[0]}/{tokens[1]}"
    priced = [r for r in results if r.cost is not None]
    if priced:
        total = sum((r.cost for r in priced if r.cost is not None), Decimal(0))
        table.columns[5].footer = _money(total, priced[0].currency)
    return table


def failure_lines(results: Sequence[CaseResult]) -> list[str]:
    """One whole line per unmet expectation, `file / case: turn N: why`, to read in a CI log."""
    return [
        f"FAIL {result.file} / {result.case}: {failure}"
        for result in results
        for failure in result.failures
    ]


def _money(amount: Decimal | None, currency: str) -> str:
    """Cost to the millionth (one turn often costs less than a cent); '-' without a price."""
    return "-" if amount is None else f"{amount.quantize(Decimal('0.000001'))} {currency}"


def replay_table(turns: Sequence[ReplayedTurn]) -> Table:
    """Each turn: what the contact said, what was sent, what the candidate would send."""
    table = Table("#", "contact", "sent", "candidate", "", show_lines=True)
    for number, turn in enumerate(turns, start=1):
        sent = escape("\n".join(turn.sent)) if turn.sent else "[dim](nothing sent)[/dim]"
        candidate = escape(turn.candidate)
        if turn.handed_off:
            candidate += "\n[yellow](hands off to a person)[/yellow]"
        same = "same" if turn.sent == (turn.candidate,) else "[yellow]differs[/yellow]"
        table.add_row(str(number), escape(turn.said), sent, candidate, same)
    return table
