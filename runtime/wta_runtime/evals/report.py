"""The table `wta eval` prints: one row per case, pass or fail, why, and the tokens spent."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

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
