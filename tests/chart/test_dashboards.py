"""The Grafana dashboards: well-formed, their PromQL parses, and it shows the right numbers."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.chart.dashboards import (
    BUILTINS,
    DASHBOARD_FILES,
    DATASOURCE,
    concrete,
    panels,
    targets,
    used_variables,
    variables,
)
from tests.chart.helm import Helm
from tests.chart.metrics_doc import documented
from tests.chart.promtool import Promtool, PromtoolError, write_rules, write_tests

# The value each dashboard variable takes in these tests.
VARIABLE_VALUES = {"tenant": "acme"}
# Label values the code emits, for the series every panel is tested against.
EMITTED = {
    "tenant": ["acme"],
    "agent": ["pizza"],
    "provider": ["openai"],
    "kind": ["WhatsAppTenant"],
    "status": ["sent"],
    "server": ["shop"],
}
EMITTED_PER_METRIC = {
    ("wta_webhook_requests_total", "outcome"): [
        *("accepted", "rejected_403", "rejected_503"),
        *("status_accepted", "status_rejected_503"),
    ],
    ("wta_turns_total", "outcome"): ["replied", "handed_off", "dead_letter"],
    ("wta_operator_reconciles_total", "outcome"): ["success", "retry", "error"],
    ("wta_conversations", "state"): ["pending", "progress", "human_handoff", "idle_timeout"],
    ("wta_conversations_expired_total", "state"): ["expired", "idle_timeout"],
    ("wta_outbound_attempts_resolved_total", "outcome"): ["adopted", "resent"],
    ("wta_db_statements_total", "kind"): ["worker", "other"],
    ("wta_outbound_refused_total", "reason"): ["opted_out", "outside_24h_window"],
    ("wta_knowledge_ingestions_total", "outcome"): ["ingested", "unchanged", "failed"],
    ("wta_agent_mcp_calls_total", "outcome"): ["ok", "error", "timeout", "unreachable"],
}
# Gauges every runtime pod reports for its whole tenant (the worker reads the shared consumer,
# each pod's worker counts the tenant's conversations): a panel must not add the pods up.
REPLICATED_GAUGES = {
    "wta_stream_pending_messages",
    "wta_conversations",
    "wta_handoff_oldest_waiting_seconds",
}
ACME_CONVERSATIONS = {"pending": 2, "progress": 3, "human_handoff": 1, "idle_timeout": 4}
# Two acme pods and one globex pod report them.
REPLICATED_SERIES = [
    *[
        (f'wta_stream_pending_messages{{tenant="acme", pod="acme-{pod}"}}', "7x30")
        for pod in (1, 2)
    ],
    ('wta_stream_pending_messages{tenant="globex", pod="globex-1"}', "3x30"),
    *[
        (f'wta_conversations{{tenant="acme", state="{state}", pod="acme-{pod}"}}', f"{count}x30")
        for state, count in ACME_CONVERSATIONS.items()
        for pod in (1, 2)
    ],
    *[
        (f'wta_handoff_oldest_waiting_seconds{{tenant="acme", pod="acme-{pod}"}}', "120x30")
        for pod in (1, 2)
    ],
]
# (dashboard, panel title) -> {labels: value} the panel must show.
EXPECTED_GAUGE_PANELS: dict[tuple[str, str], dict[str, float]] = {
    ("platform-overview.json", "Messages waiting for workers"): {"{}": 10},
    ("platform-overview.json", "Messages waiting by tenant"): {
        '{tenant="acme"}': 7,
        '{tenant="globex"}': 3,
    },
    ("tenant-conversations.json", "Open conversations"): {"{}": 10},
    ("tenant-conversations.json", "Oldest handoff waiting"): {"{}": 120},
    ("tenant-conversations.json", "Messages waiting for workers"): {"{}": 7},
    ("tenant-conversations.json", "Conversations by state"): {
        '{state="pending"}': 2,
        '{state="progress"}': 3,
        '{state="human_handoff"}': 1,
        '{state="idle_timeout"}': 4,
    },
}


def load(path: Path) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def record_name(path: Path, panel: dict[str, Any], target: dict[str, Any]) -> str:
    return f"dashboard:{re.sub(r'[^a-z0-9]', '_', path.stem)}:panel_{panel['id']}_{target['refId']}"


def test_chart_ships_every_dashboard_unchanged(helm: Helm) -> None:
    objects = helm.render(sets=["monitoring.dashboards.enabled=true"])
    shipped = {
        name: json.loads(text)
        for o in objects
        if o["kind"] == "ConfigMap" and "-dashboard-" in o["metadata"]["name"]
        for name, text in o["data"].items()
    }
    assert shipped == {path.name: load(path) for path in DASHBOARD_FILES}
    assert {"platform-overview.json", "tenant-conversations.json"} <= set(shipped)


def test_dashboards_have_distinct_uids_and_titles() -> None:
    dashboards = [load(path) for path in DASHBOARD_FILES]
    uids = [d["uid"] for d in dashboards]
    assert len(set(uids)) == len(uids), uids
    assert all(0 < len(uid) <= 40 and re.fullmatch(r"[\w-]+", uid) for uid in uids), uids
    titles = [d["title"] for d in dashboards]
    assert len(set(titles)) == len(titles), titles


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_panels_have_unique_ids_and_do_not_overlap(path: Path) -> None:
    found = list(panels(load(path)))
    ids = [p["id"] for p in found]
    assert len(set(ids)) == len(ids), f"duplicate panel ids: {sorted(ids)}"
    for panel in found:
        box = panel["gridPos"]
        assert box["w"] > 0, panel["title"]
        assert 0 <= box["x"] <= box["x"] + box["w"] <= 24, panel["title"]
    for a, b in combinations(found, 2):
        p, q = a["gridPos"], b["gridPos"]
        apart = (
            p["x"] + p["w"] <= q["x"]
            or q["x"] + q["w"] <= p["x"]
            or p["y"] + p["h"] <= q["y"]
            or q["y"] + q["h"] <= p["y"]
        )
        assert apart, f"panels {a['title']!r} and {b['title']!r} overlap"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_panel_queries_with_distinct_ref_ids(path: Path) -> None:
    for panel in panels(load(path)):
        if panel["type"] == "row":
            continue
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert refs, f"panel {panel['title']!r} has no query"
        assert len(set(refs)) == len(refs), f"panel {panel['title']!r}: refIds {refs}"
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_template_variables_are_declared_and_used(path: Path) -> None:
    dashboard = load(path)
    declared = variables(dashboard)
    used = {name for _, t in targets(dashboard) for name in used_variables(t["expr"])}
    undeclared = {name for name in used if not name.startswith("__")} - set(declared)
    assert not undeclared, f"used but not in templating.list: {undeclared}"
    unknown_builtins = {name for name in used if name.startswith("__")} - set(BUILTINS)
    assert not unknown_builtins, f"Grafana variables these tests cannot fill: {unknown_builtins}"
    unused = {n for n, v in declared.items() if v["type"] != "datasource"} - used
    assert not unused, f"declared but never used: {unused}"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_query_uses_the_datasource_variable(path: Path) -> None:
    dashboard = load(path)
    sources = [v for v in variables(dashboard).values() if v["type"] == "datasource"]
    assert [(v["name"], v["query"]) for v in sources] == [("datasource", "prometheus")]
    for panel in panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == DATASOURCE, panel["title"]
    for panel, target in targets(dashboard):
        assert target.get("datasource", DATASOURCE) == DATASOURCE, panel["title"]
    for variable in variables(dashboard).values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_expression_parses(promtool: Promtool, path: Path, tmp_path: Path) -> None:
    """Each target, its variables filled in, as a recording rule: `promtool check rules`."""
    groups = [
        {
            "name": f"panel {panel['id']} {target['refId']}: {panel['title']}",
            "rules": [
                {
                    "record": record_name(path, panel, target),
                    "expr": concrete(target["expr"], VARIABLE_VALUES),
                }
            ],
        }
        for panel, target in targets(load(path))
    ]
    output = promtool.check_rules(write_rules(tmp_path / "dashboard-rules.yaml", groups))
    assert f"SUCCESS: {len(groups)} rules found" in output


def emitted_series() -> list[dict[str, str]]:
    """Every documented metric with the label values the code emits, as promtool input series."""
    series: list[dict[str, str]] = []

    def add(name: str, labels: dict[str, str], values: str) -> None:
        selector = ", ".join(f'{k}="{v}"' for k, v in labels.items())
        series.append({"series": f"{name}{{{selector}}}", "values": values})

    for metric in documented().values():
        combos: list[dict[str, str]] = [{}]
        for label in sorted(metric.labels):
            choices = EMITTED_PER_METRIC.get((metric.name, label)) or EMITTED.get(label)
            assert choices, f"{metric.name}: add the values of its {label!r} label to EMITTED"
            combos = [{**c, label: v} for c in combos for v in choices]
        for labels in combos:
            if metric.type == "histogram":
                for le, step in (("0.5", 1), ("2.5", 3), ("+Inf", 4)):
                    add(f"{metric.name}_bucket", {**labels, "le": le}, f"0+{step}x30")
                add(f"{metric.name}_count", labels, "0+4x30")
                add(f"{metric.name}_sum", labels, "0+5x30")
            else:
                add(metric.name, labels, "0+10x30" if metric.type == "counter" else "5x30")
    return series


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_panel_shows_data_for_the_metrics_the_code_emits(
    promtool: Promtool, path: Path, tmp_path: Path
) -> None:
    """Against every documented metric with real label values, no query comes back empty."""
    checks = [
        {
            # 1 whatever the query's result, as long as it has one; nothing if it is empty.
            "expr": f"clamp_max(count({concrete(target['expr'], VARIABLE_VALUES)}), 1)",
            "eval_time": "20m",
            "exp_samples": [{"labels": "{}", "value": 1}],
        }
        for _, target in targets(load(path))
    ]
    case = {"interval": "1m", "input_series": emitted_series(), "promql_expr_test": checks}
    assert "SUCCESS" in promtool.test_rules(write_tests(tmp_path / "panels_test.yaml", [], [case]))


def test_gauges_of_every_runtime_pod_are_not_added_up(promtool: Promtool, tmp_path: Path) -> None:
    checks: list[dict[str, Any]] = []
    covered: set[tuple[str, str]] = set()
    for path in DASHBOARD_FILES:
        for panel, target in targets(load(path)):
            if not REPLICATED_GAUGES & set(re.findall(r"wta_\w+", target["expr"])):
                continue
            key = (path.name, panel["title"])
            assert key in EXPECTED_GAUGE_PANELS, f"{key} reads a per-pod gauge: add its expectation"
            covered.add(key)
            checks.append({
                "expr": concrete(target["expr"], VARIABLE_VALUES),
                "eval_time": "10m",
                "exp_samples": [
                    {"labels": labels, "value": value}
                    for labels, value in EXPECTED_GAUGE_PANELS[key].items()
                ],
            })  # fmt: skip
    assert covered == set(EXPECTED_GAUGE_PANELS)
    case = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in REPLICATED_SERIES],
        "promql_expr_test": checks,
    }
    assert "SUCCESS" in promtool.test_rules(write_tests(tmp_path / "gauges_test.yaml", [], [case]))


def test_checks_fail_on_a_broken_or_empty_query(promtool: Promtool, tmp_path: Path) -> None:
    """The harness can fail: a variable left in, and a value the code never emits."""
    unfilled = [{"name": "g", "rules": [{"record": "r", "expr": "rate(wta_turns_total[$x])"}]}]
    with pytest.raises(PromtoolError, match="could not parse expression"):
        promtool.check_rules(write_rules(tmp_path / "unfilled.yaml", unfilled))
    empty = {
        "expr": 'clamp_max(count(wta_turns_total{outcome="deadletter"}), 1)',
        "eval_time": "20m",
        "exp_samples": [{"labels": "{}", "value": 1}],
    }
    case = {"interval": "1m", "input_series": emitted_series(), "promql_expr_test": [empty]}
    with pytest.raises(PromtoolError, match="deadletter"):
        promtool.test_rules(write_tests(tmp_path / "empty_test.yaml", [], [case]))
