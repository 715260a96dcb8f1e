"""The Grafana dashboards the chart ships: their panels, PromQL targets and template variables."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from tests.chart.helm import CHART

DASHBOARD_FILES = sorted((CHART / "files" / "dashboards").glob("*.json"))

# $name, ${name}, ${name:format} and the deprecated [[name]].
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
# Grafana's own variables, with the value a 1-minute-scrape Prometheus would get.
BUILTINS = {
    "__rate_interval": "2m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "6h",
    "__range_s": "21600",
    "__range_ms": "21600000",
}
# The one datasource reference every panel, target and query variable uses.
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of the dashboard."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def expressions(dashboard: Mapping[str, Any]) -> list[str]:
    return [target["expr"] for _, target in targets(dashboard)]


def variables(dashboard: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The dashboard's template variables by name."""
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def variable_query(variable: Mapping[str, Any]) -> str:
    """A query variable's query (Grafana stores it as a string or as {"query": ...})."""
    query = variable.get("query", "")
    return str(query["query"] if isinstance(query, dict) else query)


def used_variables(expr: str) -> set[str]:
    return {next(g for g in match.groups() if g) for match in VARIABLE.finditer(expr)}


def concrete(expr: str, values: Mapping[str, str]) -> str:
    """`expr` with Grafana's variables replaced by plain values, as Prometheus receives it."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        return BUILTINS.get(name) or values[name]

    return VARIABLE.sub(value, expr)
