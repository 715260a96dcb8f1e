#!/usr/bin/env bash
# End to end on a throwaway kind cluster, for machines WITH Docker:
#   1. create a kind cluster (its own kubeconfig; yours is never touched)
#   2. build the image from ./Dockerfile and load it into the cluster
#   3. install NATS (official chart, JetStream on) and PostgreSQL (CloudNativePG, one instance)
#   4. install charts/wta, the local Twilio-compatible API, and examples/ in namespace "shop"
#   5. send one signed webhook through the gateway Service (`wta chat -m ...` in a pod) and check
#      that the offline agent's reply reached the in-cluster Twilio API
#   6. delete the cluster (KEEP_CLUSTER=1 keeps it; diagnostics are printed on failure)
#
# Needs: docker, kind, python3; kubectl (1.31+) and helm from PATH, else hack/install-kube-tools.sh.
# Usage: hack/kind-e2e.sh            (about 5-10 minutes, mostly image pulls)
set -euo pipefail

CLUSTER="${KIND_CLUSTER:-wta-e2e}"
IMAGE="${WTA_E2E_IMAGE:-wta-runtime:e2e}"
KEEP_CLUSTER="${KEEP_CLUSTER:-0}"
NATS_CHART_REPO="https://nats-io.github.io/k8s/helm/charts/"
CNPG_CHART_REPO="https://cloudnative-pg.github.io/charts"
TENANT="acme-pizza"
TENANT_NS="shop"
SYSTEM_NS="wta-system"
E2E_NS="wta-e2e"
TWILIO_URL="http://local-twilio.${E2E_NS}.svc.cluster.local:8010"
GATEWAY_URL="http://wta-gateway.${SYSTEM_NS}.svc.cluster.local"
QUESTION="what are your opening hours?"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/wta-kind-e2e.XXXXXX")"
export KUBECONFIG="${work}/kubeconfig"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is needed ($2)"
}
need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need python3 "to URL-encode the database password"
docker info >/dev/null 2>&1 || die "docker is installed but its engine is not running"

if command -v kubectl >/dev/null 2>&1 && command -v helm >/dev/null 2>&1; then
  KUBECTL="$(command -v kubectl)"
  HELM="$(command -v helm)"
else
  tools="$("${root}/hack/install-kube-tools.sh" | tail -1)"
  KUBECTL="${tools}/kubectl"
  HELM="${tools}/helm"
fi
kubectl() { "${KUBECTL}" "$@"; }
helm() { "${HELM}" "$@"; }

diagnose() {
  log "diagnostics"
  kubectl get pods -A -o wide || true
  kubectl get whatsapptenants,aiagents -A || true
  kubectl -n "${SYSTEM_NS}" logs deployment/wta-operator --tail=80 || true
  kubectl -n "${SYSTEM_NS}" logs deployment/wta-gateway --tail=40 || true
  kubectl -n "${TENANT_NS}" logs "deployment/${TENANT}-runtime" --tail=80 || true
  kubectl -n "${E2E_NS}" logs deployment/local-twilio --tail=40 || true
}

cleanup() {
  local status=$?
  if [[ ${status} -ne 0 ]]; then
    diagnose
  fi
  if [[ "${KEEP_CLUSTER}" == "1" ]]; then
    log "keeping cluster ${CLUSTER}: export KUBECONFIG=${KUBECONFIG}; delete it with: kind delete cluster --name ${CLUSTER}"
  else
    log "deleting cluster ${CLUSTER}"
    kind delete cluster --name "${CLUSTER}" >/dev/null 2>&1 || true
    rm -rf "${work}"
  fi
  if [[ ${status} -eq 0 ]]; then
    log "PASSED: the reply reached the in-cluster Twilio API"
  else
    log "FAILED (exit ${status})"
  fi
}
trap cleanup EXIT

# ---- 1. cluster and image -------------------------------------------------------------------
log "creating kind cluster ${CLUSTER}"
kind create cluster --name "${CLUSTER}" --kubeconfig "${KUBECONFIG}" --wait 120s

log "building ${IMAGE}"
docker build --tag "${IMAGE}" "${root}"
kind load docker-image "${IMAGE}" --name "${CLUSTER}"

# ---- 2. NATS with JetStream, PostgreSQL ------------------------------------------------------
log "installing NATS (official chart, JetStream on)"
helm upgrade --install nats nats --repo "${NATS_CHART_REPO}" \
  --namespace nats --create-namespace \
  --set config.jetstream.enabled=true \
  --set config.jetstream.fileStore.pvc.size=1Gi \
  --set natsBox.enabled=false \
  --wait --timeout 5m

log "installing CloudNativePG and a one-instance PostgreSQL cluster"
helm upgrade --install cnpg cloudnative-pg --repo "${CNPG_CHART_REPO}" \
  --namespace cnpg-system --create-namespace --wait --timeout 5m
kubectl create namespace db --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f - <<EOF
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: wta-db
  namespace: db
spec:
  instances: 1
  enableSuperuserAccess: true
  storage:
    size: 1Gi
EOF
kubectl -n db wait --for=condition=Ready cluster/wta-db --timeout=10m

# The operator's admin URL: the superuser on CloudNativePG's "app" database.
kubectl create namespace "${SYSTEM_NS}" --dry-run=client -o yaml | kubectl apply -f -
password="$(kubectl -n db get secret wta-db-superuser -o jsonpath='{.data.password}' | base64 -d)"
encoded="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${password}")"
kubectl -n "${SYSTEM_NS}" create secret generic wta-db-admin \
  --from-literal=url="postgresql+asyncpg://postgres:${encoded}@wta-db-rw.db.svc.cluster.local:5432/app" \
  --dry-run=client -o yaml | kubectl apply -f -

# ---- 3. the local Twilio-compatible API, serving the accounts of examples/ --------------------
log "deploying the local Twilio-compatible API"
kubectl create namespace "${E2E_NS}" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "${E2E_NS}" create configmap e2e-manifests --from-file="${root}/examples/" \
  --dry-run=client -o yaml | kubectl apply -f -
# `wta local-twilio` listens on 127.0.0.1 only, so the same app is started on 0.0.0.0 here.
kubectl apply -f - <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: local-twilio
  namespace: ${E2E_NS}
spec:
  replicas: 1
  selector:
    matchLabels: {app: local-twilio}
  template:
    metadata:
      labels: {app: local-twilio}
    spec:
      containers:
        - name: twilio
          image: ${IMAGE}
          imagePullPolicy: Never
          command: [python, -c]
          args:
            - |
              import uvicorn
              from wta_runtime.catalog import load_catalog
              from wta_runtime.local.twilio_api import create_twilio_app
              from wta_runtime.settings import get_settings
              settings = get_settings()
              catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
              accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
              uvicorn.run(create_twilio_app(accounts), host="0.0.0.0", port=8010)
          env:
            - {name: WTA_MANIFESTS_DIR, value: /manifests}
          ports:
            - {name: http, containerPort: 8010}
          readinessProbe:
            tcpSocket: {port: http}
          volumeMounts:
            - {name: manifests, mountPath: /manifests, readOnly: true}
      volumes:
        - name: manifests
          configMap: {name: e2e-manifests}
---
apiVersion: v1
kind: Service
metadata:
  name: local-twilio
  namespace: ${E2E_NS}
spec:
  selector: {app: local-twilio}
  ports:
    - {name: http, port: 8010, targetPort: http}
EOF
kubectl -n "${E2E_NS}" rollout status deployment/local-twilio --timeout=3m

# ---- 4. the chart and the example tenant -------------------------------------------------------
log "installing charts/wta"
helm upgrade --install wta "${root}/charts/wta" \
  --namespace "${SYSTEM_NS}" \
  --set image.repository="${IMAGE%:*}" \
  --set image.tag="${IMAGE##*:}" \
  --set image.pullPolicy=Never \
  --set nats.url=nats://nats.nats.svc.cluster.local:4222 \
  --set database.adminExistingSecret.name=wta-db-admin \
  --set operator.runtime.twilioApiBase="${TWILIO_URL}" \
  --set gateway.replicas=1 \
  --wait --timeout 5m

log "applying examples/ in namespace ${TENANT_NS}"
kubectl create namespace "${TENANT_NS}" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "${TENANT_NS}" apply -f "${root}/examples/"

log "waiting for the operator to make the tenant's database scope and runtime"
kubectl -n "${TENANT_NS}" wait --for=create "secret/${TENANT}-database" --timeout=3m
kubectl -n "${TENANT_NS}" wait --for=create "deployment/${TENANT}-runtime" --timeout=3m

# The runtime pod's init container migrates the tenant's schema before the worker starts.
kubectl -n "${TENANT_NS}" rollout status "deployment/${TENANT}-runtime" --timeout=5m

log "waiting for the gateway's routes to list the tenant"
for _ in $(seq 1 60); do
  keys="$(kubectl -n "${SYSTEM_NS}" get secret wta-gateway-routes -o jsonpath='{.data}' 2>/dev/null || true)"
  [[ "${keys}" == *"${TENANT}"* ]] && break
  sleep 3
done
[[ "${keys:-}" == *"${TENANT}"* ]] || die "the operator never wrote ${TENANT}'s route to wta-gateway-routes"
# Read the routes now rather than wait for the kubelet to refresh the mounted Secret.
kubectl -n "${SYSTEM_NS}" rollout restart deployment/wta-gateway
kubectl -n "${SYSTEM_NS}" rollout status deployment/wta-gateway --timeout=3m

# ---- 5. one signed webhook through the gateway Service -----------------------------------------
log "sending \"${QUESTION}\" as a WhatsApp contact through ${GATEWAY_URL}"
kubectl -n "${E2E_NS}" delete job e2e-chat --ignore-not-found
kubectl apply -f - <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: e2e-chat
  namespace: ${E2E_NS}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: chat
          image: ${IMAGE}
          imagePullPolicy: Never
          args: [wta_runtime, chat, --message, "${QUESTION}", --gateway-url, "${GATEWAY_URL}", --wait, "90"]
          env:
            - {name: WTA_MANIFESTS_DIR, value: /manifests}
            - {name: WTA_TWILIO_API_BASE, value: "${TWILIO_URL}"}
          volumeMounts:
            - {name: manifests, mountPath: /manifests, readOnly: true}
      volumes:
        - name: manifests
          configMap: {name: e2e-manifests}
EOF
if ! kubectl -n "${E2E_NS}" wait --for=condition=complete job/e2e-chat --timeout=3m; then
  kubectl -n "${E2E_NS}" logs job/e2e-chat || true
  die "no reply reached the in-cluster Twilio API"
fi
reply="$(kubectl -n "${E2E_NS}" logs job/e2e-chat)"
printf '%s\n' "${reply}"
[[ "${reply}" == *"[offline agent]"* ]] || die "the reply is not the offline agent's"
