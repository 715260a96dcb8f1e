"""The chart repeats what other parts of the repository define; these tests catch the drift."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.chart.helm import CHART, FULL_VALUES, ROOT, Helm, find
from wta_operator.settings import OperatorConfig
from wta_runtime.settings import Settings


def test_chart_crds_are_an_exact_copy_of_crds_folder() -> None:
    source = {p.name: p.read_text() for p in (ROOT / "crds").glob("*.yaml")}
    copy = {p.name: p.read_text() for p in (CHART / "files" / "crds").glob("*.yaml")}
    stale = sorted(
        name for name in source.keys() | copy.keys() if source.get(name) != copy.get(name)
    )
    assert not stale, (
        f"charts/wta/files/crds/ differs from crds/ ({', '.join(stale)}): run `make crds`"
    )


def test_rendered_crds_are_the_crds_plus_helm_metadata(helm: Helm) -> None:
    rendered = {
        o["metadata"]["name"]: o for o in helm.render() if o["kind"] == "CustomResourceDefinition"
    }
    for path in (ROOT / "crds").glob("*.yaml"):
        source = yaml.safe_load(path.read_text())
        chart = rendered[source["metadata"]["name"]]
        assert chart["spec"] == source["spec"]
        assert chart["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_chart_rbac_is_an_exact_copy_of_the_operators() -> None:
    source = ROOT / "operator" / "wta_operator" / "rbac.yaml"
    copy = CHART / "files" / "operator-rbac.yaml"
    assert copy.read_text() == source.read_text(), (
        "charts/wta/files/operator-rbac.yaml differs from operator/wta_operator/rbac.yaml: "
        "run `cp operator/wta_operator/rbac.yaml charts/wta/files/operator-rbac.yaml`"
    )


def test_operator_gets_exactly_the_rules_of_its_rbac_file(helm: Helm) -> None:
    """ClusterRole by default, Roles when namespaces are listed: the same grants either way."""
    documents = yaml.safe_load_all((CHART / "files" / "operator-rbac.yaml").read_text())
    expected = _grants(next(d for d in documents if d and d["kind"] == "ClusterRole")["rules"])
    assert _grants(find(helm.render(), "ClusterRole")["rules"]) == expected
    namespaced = helm.render(sets=["operator.watchNamespaces={shop}"])
    for role in (o for o in namespaced if o["kind"] == "Role"):
        assert _grants(role["rules"]) == expected


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _env_names(objects: list[dict[str, Any]], component: str) -> set[str]:
    names = set(find(objects, "ConfigMap", f"wta-{component}")["data"])
    container = find(objects, "Deployment", f"wta-{component}")["spec"]["template"]["spec"]
    names |= {e["name"] for e in container["containers"][0].get("env", [])}
    return names


def _setting_names(settings: type[Any]) -> set[str]:
    return {f"WTA_{field.upper()}" for field in settings.model_fields}


def test_operator_settings_exist(helm: Helm) -> None:
    objects = helm.render(values=[FULL_VALUES])
    unknown = _env_names(objects, "operator") - _setting_names(OperatorConfig)
    assert not unknown, f"not OperatorConfig settings: {unknown}"


def test_gateway_settings_exist(helm: Helm) -> None:
    objects = helm.render(values=[FULL_VALUES])
    unknown = _env_names(objects, "gateway") - _setting_names(Settings)
    assert not unknown, f"not wta_runtime Settings: {unknown}"


def test_image_user_is_the_pods_user(helm: Helm) -> None:
    """The Dockerfile's uid is the one the chart and the operator's runtime pods run as."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
    assert user, "the Dockerfile must end with a numeric USER uid:gid"
    values = yaml.safe_load((CHART / "values.yaml").read_text())["podSecurityContext"]
    assert (values["runAsUser"], values["runAsGroup"]) == (int(user[1]), int(user[2]))
    builder = (ROOT / "operator" / "wta_operator" / "builders" / "runtime.py").read_text()
    assert f'"runAsUser": {user[1]}' in builder


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }
    assert copied <= kept, f"copied but ignored: {copied - kept}"


def test_dashboards_are_valid_grafana_json() -> None:
    for path in (CHART / "files" / "dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"].startswith("wta-"), path.name
        assert dashboard["panels"], path.name
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: repeated panel ids"


def test_rendered_settings_are_read_by_the_processes(
    helm: Helm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMaps' strings parse into the processes' settings (lists, booleans, numbers)."""
    objects = helm.render(values=[FULL_VALUES], sets=["operator.watchNamespaces={shop-a,shop-b}"])
    monkeypatch.chdir(ROOT / "charts")  # no .env file here
    for key, value in find(objects, "ConfigMap", "wta-operator")["data"].items():
        monkeypatch.setenv(key, value)
    # What the Secret of nats.existingSecret holds: the operator's user (nats.authSecret is set).
    monkeypatch.setenv("WTA_NATS_URL", "nats://wta-operator:pw@nats.nats:4222")
    operator = OperatorConfig()
    assert operator.namespaces == ["shop-a", "shop-b"]
    assert operator.standalone is True
    assert operator.gateway_namespace == "wta-system"
    assert operator.number_claims_config_map == "wta-number-claims"
    assert operator.runtime_media_env["WTA_MEDIA_S3_BUCKET"] == "wta-media"
    assert operator.runtime_media_s3_credentials_secret == "wta-media-s3"
    assert operator.runtime_egress_allow == (
        "10.20.0.0/16,crm.tools.svc.cluster.local,*.tools.example.internal"
    )
    assert operator.runtime_service_account_annotations == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/wta-media"
    }
    for key, value in find(objects, "ConfigMap", "wta-gateway")["data"].items():
        monkeypatch.setenv(key, value)
    gateway = Settings()
    assert gateway.environment == "production"
    assert gateway.trust_forwarded_headers is False
    assert gateway.public_base_url == "https://wta.example.com"
