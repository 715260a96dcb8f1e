"""docs/metrics.md is the one metric set: the code, the alerts and the dashboards agree with it."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

from tests.chart.helm import CHART, ROOT, Helm

DOC = ROOT / "docs" / "metrics.md"
ROW = re.compile(r"^\| `(wta_[a-z0-9_]+)` \| (\w+) \| ([^|]*) \|")
METRIC = re.compile(r"\b(wta_[a-z0-9_]+)")
# Labels that would put a person's data (or unbounded values) into Prometheus.
FORBIDDEN_LABELS = {"number", "phone", "contact", "from", "to", "body", "text", "message_sid"}


@dataclass(frozen=True)
class Documented:
    name: str
    type: str
    labels: frozenset[str]
    emitted: bool


def documented() -> dict[str, Documented]:
    found: dict[str, Documented] = {}
    section = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
        row = ROW.match(line)
        if row and section in {"emitted", "planned"}:
            labels = frozenset(re.findall(r"`(\w+)`", row[3]))
            found[row[1]] = Documented(row[1], row[2], labels, section == "emitted")
    return found


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


def _used_metrics(text: str) -> set[str]:
    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in METRIC.findall(text)}


def test_alerts_use_documented_metrics(helm: Helm) -> None:
    objects = helm.render(sets=["monitoring.prometheusRule.enabled=true"])
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    exprs = [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]
    used = _used_metrics("\n".join(exprs))
    assert used, "no metric found in the PrometheusRule"
    assert used <= set(documented()), f"not in docs/metrics.md: {used - set(documented())}"


@pytest.mark.parametrize("path", sorted((CHART / "files" / "dashboards").glob("*.json")), ids=str)
def test_dashboards_use_documented_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = _used_metrics("\n".join(exprs))
    assert used <= set(documented()), f"not in docs/metrics.md: {used - set(documented())}"
