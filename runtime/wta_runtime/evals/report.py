"""The tables of `wta eval` (pass or fail per case, why, tokens) and `wta replay` (side by side)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from wta_runtime.evals.replay import ReplayedTurn
from wta_runtime.evals.runner import CaseResult


def results_table(results: Sequence[CaseResult]) -> Table:
    """Pass/fail per case with its reasons, the agent that answered and its tokens, and a total."""
    table = Table("file", "case", "agent", "result", "why", "tokens (in/out)", show_footer=True)
    for result in results:
        verdict = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
        table.add_row(
            escape(result.file),
            escape(result.case),
            escape(f"{result.agent} ({result.provider})"),
            verdict,
            escape("\n".join(result.failures)),
            f"{result.prompt_tokens}/{result.completion_tokens}",
        )
    failed = sum(not r.passed for r in results)
    table.columns[0].footer = "total"
    table.columns[3].footer = f"{len(results) - failed} passed, {failed} failed"
    table.columns[
        5
    ].footer = (
        f"{sum(r.prompt_tokens for r in results)}/{sum(r.completion_tokens for r in results)}"
    )
    return table


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
