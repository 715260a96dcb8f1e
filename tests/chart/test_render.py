"""What the chart renders: lint, the objects of each configuration, and the values it refuses."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.chart.helm import CHART, FULL_VALUES, Helm, container_env, find, kinds
from tests.operator.factories import runtime_inputs, shared_runtime_inputs, tenant_view
from wta_operator.builders.runtime import build_runtime_deployment
from wta_operator.builders.shared_runtime import build_shared_runtime_deployment

MONITORING = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
# Documented keys whose value is a Kubernetes object or a map: their keys are data, not options.
FREE_FORM = {"resources", "podSecurityContext", "securityContext", "labels", "affinity"}


@pytest.mark.parametrize("values", [[], [FULL_VALUES]], ids=["default", "full"])
def test_helm_lint_is_clean(helm: Helm, values: list[object]) -> None:
    args = ["lint", "--strict", str(CHART)] + [f"--values={v}" for v in values]
    done = helm.run(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout, done.stdout
    assert "[ERROR]" not in done.stdout, done.stdout


def test_default_values_install_operator_gateway_crds_and_admission_policy(helm: Helm) -> None:
    objects = helm.render()
    assert kinds(objects) == {
        "ConfigMap",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert {c["metadata"]["name"] for c in crds} == {"whatsapptenants.wta.io", "aiagents.wta.io"}
    for crd in crds:
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_operator_is_one_pod_recreated_on_upgrade(helm: Helm) -> None:
    operator = find(helm.render(), "Deployment", "wta-operator")
    assert operator["spec"]["replicas"] == 1
    assert operator["spec"]["strategy"] == {"type": "Recreate"}
    pod = operator["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["python", "-m", "wta_operator"]
    assert "checksum/config" in operator["spec"]["template"]["metadata"]["annotations"]


def test_pods_run_non_root_on_a_read_only_root_filesystem(helm: Helm) -> None:
    for deployment in (o for o in helm.render() if o["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        container = pod["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - the pod's own emptyDir


def test_gateway_mounts_the_routes_secret_the_operator_writes(helm: Helm) -> None:
    objects = helm.render(namespace="platform")
    gateway = find(objects, "Deployment", "wta-gateway")
    pod = gateway["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    routes = next(v for v in pod["volumes"] if v["name"] == "routes")
    assert routes["secret"] == {"secretName": "wta-gateway-routes", "optional": True}
    gateway_settings = find(objects, "ConfigMap", "wta-gateway")["data"]
    operator_settings = find(objects, "ConfigMap", "wta-operator")["data"]
    assert operator_settings["WTA_GATEWAY_NAMESPACE"] == "platform"
    assert operator_settings["WTA_GATEWAY_ROUTES_SECRET"] == "wta-gateway-routes"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "routes")
    assert gateway_settings["WTA_MANIFESTS_DIR"] == mount["mountPath"]
    assert gateway_settings["WTA_ENVIRONMENT"] == "production"


def test_secrets_are_referenced_never_inlined(helm: Helm) -> None:
    objects = helm.render(values=[FULL_VALUES])
    operator = container_env(find(objects, "Deployment", "wta-operator"))
    gateway = container_env(find(objects, "Deployment", "wta-gateway"))
    assert operator["WTA_NATS_URL"] == {"secretKeyRef": {"name": "wta-nats", "key": "url"}}
    # The gateway connects as its own user, which the operator lists in NATS's authorization.
    gateway_user = {"secretKeyRef": {"name": "wta-nats-gateway", "key": "url"}}
    assert gateway["WTA_NATS_URL"] == operator["WTA_GATEWAY_NATS_URL"] == gateway_user
    assert operator["WTA_ADMIN_DATABASE_URL"] == {
        "secretKeyRef": {"name": "wta-db-superuser", "key": "uri"}
    }
    # The handoff API and the staff console read the tenants' database through the gateway.
    assert gateway["WTA_DATABASE_URL"] == {"secretKeyRef": {"name": "wta-gateway-db", "key": "url"}}
    assert "Secret" not in kinds(objects)


def test_without_its_own_user_the_gateway_connects_as_the_operator(helm: Helm) -> None:
    objects = helm.render(sets=["nats.existingSecret.name=wta-nats"])
    operator = container_env(find(objects, "Deployment", "wta-operator"))
    gateway = container_env(find(objects, "Deployment", "wta-gateway"))
    assert gateway["WTA_NATS_URL"] == {"secretKeyRef": {"name": "wta-nats", "key": "url"}}
    assert "WTA_GATEWAY_NATS_URL" not in operator


def test_full_values_render_every_optional_object(helm: Helm) -> None:
    objects = helm.render(values=[FULL_VALUES], sets=["operator.watchNamespaces={shop-a,shop-b}"])
    assert {
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        *MONITORING,
    } <= kinds(objects)
    assert "ClusterRole" not in kinds(objects)
    roles = {o["metadata"]["namespace"] for o in objects if o["kind"] == "Role"}
    assert roles == {"shop-a", "shop-b", "wta-system"}
    dashboards = [o for o in objects if o["metadata"]["name"].startswith("wta-dashboard-")]
    assert len(dashboards) == 2
    gateway = find(objects, "Deployment", "wta-gateway")
    assert "replicas" not in gateway["spec"]  # the autoscaler owns it
    image = gateway["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("registry.example.com/wta/wta-runtime@sha256:")


def test_the_runtime_pod_monitor_scrapes_every_metrics_port_of_a_runtime_pod(helm: Helm) -> None:
    objects = helm.render(values=[FULL_VALUES])
    monitor = find(objects, "PodMonitor", "wta-runtime")
    scraped = {endpoint["port"] for endpoint in monitor["spec"]["podMetricsEndpoints"]}
    tenant = tenant_view()
    pod = build_runtime_deployment(tenant, runtime_inputs(tenant))["spec"]["template"]["spec"]
    assert scraped == {port["name"] for c in pod["containers"] for port in c.get("ports", [])}


def test_the_runtime_pod_monitor_selects_dedicated_and_shared_runtime_pods(helm: Helm) -> None:
    monitor = find(helm.render(values=[FULL_VALUES]), "PodMonitor", "wta-runtime")
    tenant = tenant_view()
    pods = [
        build_runtime_deployment(tenant, runtime_inputs(tenant)),
        build_shared_runtime_deployment([], shared_runtime_inputs()),
    ]
    [expression] = monitor["spec"]["selector"]["matchExpressions"]
    for deployment in pods:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels[expression["key"]] in expression["values"]


def test_a_second_claim_of_a_number_is_refused_by_a_policy_on_the_operators_config_map(
    helm: Helm,
) -> None:
    objects = helm.render(sets=["operator.watchNamespaces={shop-a}"])
    policy = find(objects, "ValidatingAdmissionPolicy", "wta-number-claims")
    binding = find(objects, "ValidatingAdmissionPolicyBinding", "wta-number-claims")
    settings = find(objects, "ConfigMap", "wta-operator")["data"]
    assert policy["spec"]["paramKind"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    assert binding["spec"]["policyName"] == "wta-number-claims"
    assert binding["spec"]["paramRef"]["name"] == settings["WTA_NUMBER_CLAIMS_CONFIG_MAP"]
    assert binding["spec"]["paramRef"]["namespace"] == settings["WTA_GATEWAY_NAMESPACE"]
    [selector] = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert selector["values"] == ["shop-a"]

    disabled = helm.render(sets=["admission.numberClaims.enabled=false"])
    assert not {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} & kinds(disabled)
    assert "WTA_NUMBER_CLAIMS_CONFIG_MAP" not in find(disabled, "ConfigMap", "wta-operator")["data"]


def test_crds_can_be_left_to_another_tool(helm: Helm) -> None:
    assert "CustomResourceDefinition" not in kinds(helm.render(sets=["crds.create=false"]))


def test_single_gateway_gets_no_disruption_budget(helm: Helm) -> None:
    """A budget of one available pod out of one would block every node drain."""
    assert "PodDisruptionBudget" not in kinds(helm.render(sets=["gateway.replicas=1"]))


def test_config_change_rolls_the_gateway(helm: Helm) -> None:
    def checksum(*sets: str) -> str:
        gateway = find(helm.render(sets=list(sets)), "Deployment", "wta-gateway")
        return str(gateway["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum() != checksum("gateway.publicBaseUrl=https://wta.example.com")


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["gateway.replicas=two"], "at '/gateway/replicas': got string, want integer"),
        (["gateway.replica=2"], "at '/gateway': additional properties 'replica' not allowed"),
        (["nats.url=http://nats:4222"], "at '/nats/url': 'http://nats:4222' does not match"),
        (["gateway.service.type=Ingress"], "value must be one of 'ClusterIP', 'NodePort'"),
        (["operator.watchNamespaces={Shop_A}"], "at '/operator/watchNamespaces/0'"),
        (["monitoring.prometheusRule.thresholds.modelErrorRatio=3"], "maximum: got 3, want 1"),
        (["image.pullPolicy=Sometimes"], "at '/image/pullPolicy': value must be one of"),
        (["monitoring.serviceMonitor.interval=soon"], "at '/monitoring/serviceMonitor/interval'"),
        (
            ["database.runtimeUrl=postgresql://wta:secret@db/wta"],
            "database.runtimeUrl holds a password",
        ),
        (["nats.url=nats://wta:secret@nats:4222"], "nats.url holds credentials"),
        (["operator.runtime.media.store=s3"], "set operator.runtime.media.s3.bucket"),
        (["operator.runtime.media.store=gcs"], "at '/operator/runtime/media/store'"),
        (
            ["operator.runtime.egressAllow={http://crm.svc}"],
            "at '/operator/runtime/egressAllow/0'",
        ),
        (
            ["operator.runtime.media.s3.bucket=b-1", "operator.runtime.media.s3.kmsKeyId=k"],
            "kmsKeyId needs operator.runtime.media.s3.serverSideEncryption: aws:kms",
        ),
        (
            ["nats.authSecret=nats/wta-nats-auth"],
            "nats.authSecret needs nats.existingSecret",
        ),
        (
            ["nats.runtimeUrl=nats://wta:secret@nats:4222"],
            "at '/nats/runtimeUrl'",
        ),
        (
            [
                "gateway.autoscaling.enabled=true",
                "gateway.autoscaling.minReplicas=5",
                "gateway.autoscaling.maxReplicas=3",
            ],
            "minReplicas (5) is larger than gateway.autoscaling.maxReplicas (3)",
        ),
    ],
)
def test_wrong_values_are_refused_with_a_clear_message(
    helm: Helm, sets: list[str], message: str
) -> None:
    assert message in helm.refusal(*sets)


def test_the_egress_allow_list_reaches_the_operator_and_none_is_set_by_default(
    helm: Helm,
) -> None:
    allowed = helm.render(sets=["operator.runtime.egressAllow={10.250.0.1/32,*.tools.svc}"])
    data = find(allowed, "ConfigMap", "wta-operator")["data"]
    assert data["WTA_RUNTIME_EGRESS_ALLOW"] == "10.250.0.1/32,*.tools.svc"
    assert (
        "WTA_RUNTIME_EGRESS_ALLOW" not in find(helm.render(), "ConfigMap", "wta-operator")["data"]
    )


def test_every_values_key_has_a_doc_comment() -> None:
    """Each key of values.yaml (at any depth, outside list items) has a `# --` comment."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    in_list_below: int | None = None  # indentation of a key whose value is a list
    for number, line in enumerate(lines):
        match = re.match(r"^( *)(- )?([A-Za-z_][\w-]*):", line)
        if not match or line.lstrip().startswith("#"):
            continue
        indent = len(match.group(1))
        if in_list_below is not None and indent > in_list_below:
            continue
        in_list_below = None
        if match.group(2):
            continue
        above = number - 1
        comments = []
        while above >= 0 and lines[above].strip().startswith("#"):
            comments.append(lines[above].strip())
            above -= 1
        if not any(c.startswith("# --") for c in comments):
            undocumented.append(f"values.yaml:{number + 1}: {line.strip()}")
        value = line.split(":", 1)[1].strip()
        starts_list = number + 1 < len(lines) and lines[number + 1].lstrip().startswith("- ")
        if not value and (starts_list or match.group(3) in FREE_FORM):
            in_list_below = indent
    assert not undocumented, "keys without a `# --` comment:\n" + "\n".join(undocumented)


def test_values_yaml_and_schema_agree(helm: Helm) -> None:
    """The defaults pass the schema, and the schema describes every top-level key."""
    helm.template()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = yaml.safe_load((CHART / "values.schema.json").read_text())
    assert set(values) <= set(schema["properties"])
