"""docs/metrics.md is the one metric set: the code, the alerts and the dashboards agree with it."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

from tests.chart.dashboards import DASHBOARD_FILES, expressions, variable_query, variables
from tests.chart.helm import ROOT, Helm
from tests.chart.metrics_doc import METRIC, Documented, documented, metric_of, used_metrics

# Labels that would put a person's data (or unbounded values) into Prometheus.
FORBIDDEN_LABELS = {"number", "phone", "contact", "from", "to", "body", "text", "message_sid"}
# Labels with a small closed set of values, which the meaning column of docs/metrics.md quotes.
CLOSED_LABELS = {"outcome", "state", "status", "provider", "kind"}
SELECTOR = re.compile(r"\b(wta_[a-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LABEL_VALUES = re.compile(r"label_values\(\s*(\w+)\s*(?:\{[^}]*\})?\s*,\s*(\w+)\s*\)")


def registered() -> dict[str, MetricWrapperBase]:
    """Every wta_ metric defined by a module of the runtime or the operator that uses Prometheus."""
    metrics: dict[str, MetricWrapperBase] = {}
    for package in ("runtime/wta_runtime", "operator/wta_operator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "prometheus_client" not in path.read_text() or path.name == "__main__.py":
                continue
            relative = path.relative_to(ROOT / package.split("/")[0]).with_suffix("")
            module = importlib.import_module(".".join(relative.parts))
            for value in vars(module).values():
                if isinstance(value, MetricWrapperBase) and value._name.startswith("wta_"):
                    suffix = "_total" if value._type == "counter" else ""
                    metrics[value._name + suffix] = value
    return metrics


def test_every_registered_metric_is_documented_as_emitted() -> None:
    docs = documented()
    for name, metric in registered().items():
        assert name in docs, f"{name} is not in docs/metrics.md: add a row to 'Emitted'"
        entry = docs[name]
        assert entry.emitted, f"{name} is emitted now: move its row from 'Planned' to 'Emitted'"
        assert entry.type == metric._type, f"{name} is a {metric._type}, documented {entry.type}"
        assert entry.labels == set(metric._labelnames), f"{name}: labels {metric._labelnames}"


def test_every_metric_documented_as_emitted_is_registered() -> None:
    names = registered()
    missing = [d.name for d in documented().values() if d.emitted and d.name not in names]
    assert not missing, f"documented as emitted but defined nowhere: {missing}"


def test_labels_never_carry_personal_data() -> None:
    for entry in documented().values():
        assert not entry.labels & FORBIDDEN_LABELS, f"{entry.name}: {entry.labels}"
        assert entry.labels & {"tenant", "kind"}, f"{entry.name} has no tenant (or kind) label"


def label_problems(expr: str, docs: dict[str, Documented]) -> list[str]:
    """Labels `expr` selects or groups by that its metrics do not have, or values never emitted."""
    problems: list[str] = []
    names = set(METRIC.findall(expr))
    known = {
        label for name in names if metric_of(name) in docs for label in docs[metric_of(name)].labels
    }
    if any(name.endswith("_bucket") for name in names):
        known.add("le")
    for name, matchers in SELECTOR.findall(expr):
        entry = docs.get(metric_of(name))
        if entry is None:
            continue  # reported by the metric-name tests
        labels = entry.labels | ({"le"} if name.endswith("_bucket") else set())
        for label, op, value in MATCHER.findall(matchers):
            if label not in labels:
                problems.append(f"{name} has no label {label!r}")
            elif label in CLOSED_LABELS and re.fullmatch(r"[\w|]+", value):
                # A plain value or alternation must be documented; real regexes are left to
                # the promtool tests, which feed them the values the code emits.
                unknown = [v for v in value.split("|") if v not in entry.quoted]
                if unknown:
                    problems.append(f"{name}{{{label}{op}...}}: {unknown} not documented")
    for grouping in GROUPING.findall(expr):
        for label in filter(None, (g.strip() for g in grouping.split(","))):
            if label not in known:
                problems.append(f"grouping by {label!r}, which none of {sorted(names)} has")
    return problems


def alert_expressions(helm: Helm) -> list[str]:
    objects = helm.render(sets=["monitoring.prometheusRule.enabled=true"])
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]


def test_alerts_use_documented_metrics(helm: Helm) -> None:
    used = used_metrics("\n".join(alert_expressions(helm)))
    assert used, "no metric found in the PrometheusRule"
    assert used <= set(documented()), f"not in docs/metrics.md: {used - set(documented())}"


def test_alerts_use_documented_labels_and_values(helm: Helm) -> None:
    docs = documented()
    problems = {e: p for e in alert_expressions(helm) if (p := label_problems(e, docs))}
    assert not problems, problems


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_dashboards_use_documented_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    queries = [variable_query(v) for v in variables(dashboard).values() if v["type"] == "query"]
    used = used_metrics("\n".join([*expressions(dashboard), *queries]))
    assert used, f"no metric found in {path.name}"
    assert used <= set(documented()), f"not in docs/metrics.md: {used - set(documented())}"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_dashboards_use_documented_labels_and_values(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    docs = documented()
    problems = {e: p for e in expressions(dashboard) if (p := label_problems(e, docs))}
    assert not problems, problems
    for variable in variables(dashboard).values():
        if variable["type"] != "query":
            continue
        query = LABEL_VALUES.fullmatch(variable_query(variable).strip())
        assert query, f"${variable['name']}: expected label_values(metric, label)"
        metric, label = query.groups()
        assert label in docs[metric].labels, f"${variable['name']}: {metric} has no {label!r}"


def test_label_checks_catch_wrong_labels_and_values() -> None:
    docs = documented()
    assert label_problems('sum by (tenant) (wta_turns_total{outcome="dead_letter"})', docs) == []
    assert label_problems('wta_turns_total{outcome="deadletter"}', docs) == [
        "wta_turns_total{outcome=...}: ['deadletter'] not documented"
    ]
    assert label_problems('wta_stream_pending_messages{agent="pizza"}', docs) == [
        "wta_stream_pending_messages has no label 'agent'"
    ]
    assert label_problems("sum by (agent) (wta_stream_pending_messages)", docs) == [
        "grouping by 'agent', which none of ['wta_stream_pending_messages'] has"
    ]
    assert label_problems("sum by (le) (rate(wta_turn_seconds_bucket[5m]))", docs) == []
