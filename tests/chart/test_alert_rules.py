"""The chart's alerts under promtool: they parse, and each fires on its bad condition only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.helm import Helm
from tests.chart.promtool import Promtool, PromtoolError, write_rules, write_tests

UNIT_TESTS = Path(__file__).with_name("alerts_test.yaml")
RULES_FILE = "wta-rules.yaml"  # the name alerts_test.yaml's rule_files expects
ENABLED = "monitoring.prometheusRule.enabled=true"


def rule_groups(helm: Helm, *sets: str) -> list[dict[str, Any]]:
    """spec.groups of the PrometheusRule the chart renders with `sets`."""
    objects = helm.render(sets=[ENABLED, *sets])
    [rule] = [o for o in objects if o["kind"] == "PrometheusRule"]
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def alert_names(groups: list[dict[str, Any]]) -> set[str]:
    return {r["alert"] for group in groups for r in group["rules"] if "alert" in r}


@pytest.fixture(scope="module")
def default_groups(helm: Helm) -> list[dict[str, Any]]:
    return rule_groups(helm)


def test_rules_pass_promtool_check(
    promtool: Promtool, default_groups: list[dict[str, Any]], tmp_path: Path
) -> None:
    output = promtool.check_rules(write_rules(tmp_path / RULES_FILE, default_groups))
    assert f"SUCCESS: {sum(len(g['rules']) for g in default_groups)} rules found" in output


def minutes(duration: str) -> int:
    """A promtool eval_time such as 15m or 1h as minutes."""
    value, unit = int(duration[:-1]), duration[-1]
    return value * {"m": 1, "h": 60}[unit]


def test_every_alert_has_unit_tests_that_stay_quiet_then_fire(
    default_groups: list[dict[str, Any]],
) -> None:
    """alerts_test.yaml shows each alert silent before it fires (a new alert needs tests)."""
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    first_fired: dict[str, int] = {}
    first_silent: dict[str, int] = {}
    for case in cases:
        seen = first_fired if case["exp_alerts"] else first_silent
        name, at = case["alertname"], minutes(case["eval_time"])
        seen[name] = min(at, seen.get(name, at))
    alerts = alert_names(default_groups)
    assert alerts == {
        "WTAWebhookErrors",
        "WTAWebhookSignatureRejections",
        "WTAConsumerLag",
        "WTADeadLetterGrowth",
        "WTAModelErrors",
        "WTAHandoffQueueStale",
        "WTASpendingSoftLimit",
        "WTASpendingHardLimit",
        "WTAOperatorReconcileFailures",
    }
    assert set(first_fired) == alerts, f"never shown firing: {alerts - set(first_fired)}"
    assert set(first_silent) == alerts, f"never shown silent: {alerts - set(first_silent)}"
    late = {name for name in alerts if first_silent[name] >= first_fired[name]}
    assert not late, f"not shown silent before they fire: {late}"


def test_alerts_fire_on_bad_series_only_after_their_for(
    promtool: Promtool, default_groups: list[dict[str, Any]], tmp_path: Path
) -> None:
    write_rules(tmp_path / RULES_FILE, default_groups)
    tests = shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    assert "SUCCESS" in promtool.test_rules(Path(tests))


def test_unit_tests_catch_an_alert_that_never_fires(
    promtool: Promtool, default_groups: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The harness can fail: the same tests against an alert on a misspelt metric do."""
    broken = yaml.safe_load(yaml.safe_dump(default_groups))
    for group in broken:
        for rule in group["rules"]:
            if rule.get("alert") == "WTAConsumerLag":
                rule["expr"] = rule["expr"].replace("wta_stream_pending_messages", "wta_pending")
    write_rules(tmp_path / RULES_FILE, broken)
    tests = Path(shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name))
    with pytest.raises(PromtoolError, match="alertname: WTAConsumerLag"):
        promtool.test_rules(tests)


def test_thresholds_and_alert_labels_come_from_values(
    promtool: Promtool, helm: Helm, tmp_path: Path
) -> None:
    groups = rule_groups(
        helm,
        "monitoring.prometheusRule.thresholds.handoffQueueAgeSeconds=600",
        "monitoring.prometheusRule.alertLabels.team=messaging",
    )
    for rule in (r for g in groups for r in g["rules"]):
        assert rule["labels"]["team"] == "messaging", rule["alert"]
    waiting = 'wta_handoff_oldest_waiting_seconds{tenant="%s", pod="%s-runtime-1"}'
    write_rules(tmp_path / RULES_FILE, groups)
    case = {
        "interval": "1m",
        "input_series": [
            {"series": waiting % ("acme", "acme"), "values": "900x20"},  # over 600 s
            {"series": waiting % ("globex", "globex"), "values": "500x20"},  # under it
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "WTAHandoffQueueStale", "exp_alerts": [{
                "exp_labels": {"severity": "warning", "team": "messaging", "tenant": "acme"},
                "exp_annotations": {
                    "summary": "A contact of tenant acme waits for a person",
                    "description": "The oldest conversation handed off to a person has waited "
                    "15m 0s.",
                    "runbook": "docs/operating.md#alerts",
                },
            }]},
        ],
    }  # fmt: skip
    tests = write_tests(tmp_path / "threshold_test.yaml", [RULES_FILE], [case])
    assert "SUCCESS" in promtool.test_rules(tests)
