#!/usr/bin/env bash
# Build real kube-apiserver and etcd binaries (plus kube-controller-manager,
# best effort) for pinned versions, from the Go module proxy only.
#
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the k8s.io/*
# staging modules with ./staging paths, and etcd's server module does the same
# with ../api etc.), so each is built from a throwaway wrapper module whose
# go.mod requires the pinned version and, for Kubernetes, replaces every
# staging module with its published v0.<minor>.<patch> release.
#
# Binaries are cached in
#   ${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/kube/<k8s-version>/
# Progress goes to stderr; on success stdout lists the binaries and its LAST
# line is the cache directory:   dir=$(hack/build-kube-binaries.sh | tail -1)
#
# With --node it also builds kube-scheduler, kubelet and kube-proxy, for the real node of tests/node.
#
# Environment: WTA_CACHE_DIR (cache root), WTA_BUILD_JOBS (go build -p),
# WTA_SKIP_CONTROLLER_MANAGER=1 (do not build kube-controller-manager).
set -euo pipefail

with_node=0
if [[ "${1:-}" == --node ]]; then
  with_node=1
fi

# ---- pinned versions ---------------------------------------------------------
KUBE_VERSION="v1.35.8"   # latest 1.35.x patch available on the Go module proxy
ETCD_VERSION="v3.6.16"   # latest 3.6.x patch available on the Go module proxy
# ------------------------------------------------------------------------------

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

kube_minor_patch="${KUBE_VERSION#v1.}"         # 35.8
kube_minor="${kube_minor_patch%%.*}"           # 35
STAGING_VERSION="v0.${kube_minor_patch}"       # v0.35.8

cache_root="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}"
out_dir="${cache_root}/kube/${KUBE_VERSION}"
apiserver="${out_dir}/kube-apiserver"
kcm="${out_dir}/kube-controller-manager"
etcd_bin="${out_dir}/etcd"
kcm_failed_marker="${out_dir}/.kube-controller-manager.build-failed"
node_binaries=(kube-scheduler kubelet kube-proxy)

# --- binary checks --------------------------------------------------------------
apiserver_ok() {
  [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -qx "Kubernetes ${KUBE_VERSION}"
}
etcd_ok() {
  [[ -x "${etcd_bin}" ]] \
    && "${etcd_bin}" --version 2>/dev/null | grep -qx "etcd Version: ${ETCD_VERSION#v}"
}
kcm_settled() {
  [[ "${WTA_SKIP_CONTROLLER_MANAGER:-0}" == 1 ]] || apiserver_ok "${kcm}" || [[ -e "${kcm_failed_marker}" ]]
}
node_ok() {
  [[ ${with_node} == 0 ]] && return 0
  local b
  for b in "${node_binaries[@]}"; do
    apiserver_ok "${out_dir}/${b}" || return 1
  done
}
report() {
  local b
  for b in "${apiserver}" "${etcd_bin}" "${kcm}" "${out_dir}/kube-scheduler" "${out_dir}/kubelet" "${out_dir}/kube-proxy"; do
    if [[ -x "${b}" ]]; then printf '%s\n' "${b}"; fi
  done
  printf '%s\n' "${out_dir}"
}

if apiserver_ok "${apiserver}" && etcd_ok && kcm_settled && node_ok; then
  report
  exit 0
fi

# --- locate go ------------------------------------------------------------------
# shellcheck source=hack/lib/go.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go.sh"
require_go

lock_build_dir "${out_dir}"
if apiserver_ok "${apiserver}" && etcd_ok && kcm_settled && node_ok; then  # built while this one waited
  report
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/wta-kube-build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false"
jobs="${WTA_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# --- kubernetes wrapper module --------------------------------------------------
kube_mod="${work}/kube"
mkdir -p "${kube_mod}"
build_kube() {
  local name="$1" dest="$2"
  local date ldflags
  date="$(date -u +'%Y-%m-%dT%H:%M:%SZ')"
  ldflags="-s -w"
  local kv
  for kv in "gitVersion=${KUBE_VERSION}" "gitMajor=1" "gitMinor=${kube_minor}" \
            "gitTreeState=clean" "buildDate=${date}"; do
    ldflags+=" -X k8s.io/component-base/version.${kv} -X k8s.io/client-go/pkg/version.${kv}"
  done
  log "building ${name} ${KUBE_VERSION} (first time takes several minutes)"
  local start=${SECONDS}
  (cd "${kube_mod}" && "${GO}" build -p "${jobs}" -trimpath -ldflags "${ldflags}" \
      -o "${dest}.tmp" "k8s.io/kubernetes/cmd/${name}") || { rm -f "${dest}.tmp"; return 1; }
  mv -f "${dest}.tmp" "${dest}"
  log "built ${dest} in $((SECONDS - start))s"
}

prepare_kube_module() {
  log "resolving k8s.io/kubernetes@${KUBE_VERSION} from the Go module proxy"
  local gomod
  gomod="$(cd "${work}" && GOFLAGS='' "${GO}" mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" \
            | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "${gomod}" ]] || die "could not download k8s.io/kubernetes@${KUBE_VERSION} go.mod"
  local staging
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "${gomod}")"
  [[ -n "${staging}" ]] || die "no staging replace directives found in ${gomod}"
  {
    printf 'module wta.local/kube-build\n\ngo 1.25.0\n\ngodebug default=go1.25\n\n'
    printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "${KUBE_VERSION}"
    local m
    for m in ${staging}; do
      printf '\t%s => %s %s\n' "${m}" "${m}" "${STAGING_VERSION}"
    done
    printf ')\n'
  } > "${kube_mod}/go.mod"
  local pkgs=("k8s.io/kubernetes/cmd/kube-apiserver@${KUBE_VERSION}")
  if [[ "${WTA_SKIP_CONTROLLER_MANAGER:-0}" != 1 ]]; then
    pkgs+=("k8s.io/kubernetes/cmd/kube-controller-manager@${KUBE_VERSION}")
  fi
  if [[ ${with_node} == 1 ]]; then
    local b
    for b in "${node_binaries[@]}"; do
      pkgs+=("k8s.io/kubernetes/cmd/${b}@${KUBE_VERSION}")
    done
  fi
  (cd "${kube_mod}" && "${GO}" get "${pkgs[@]}") \
    || die "go get of k8s.io/kubernetes ${KUBE_VERSION} failed (wrapper module: ${kube_mod}/go.mod)"
}

if ! apiserver_ok "${apiserver}" || ! kcm_settled || ! node_ok; then
  prepare_kube_module
  if ! apiserver_ok "${apiserver}"; then
    build_kube kube-apiserver "${apiserver}" || die "building kube-apiserver failed"
    apiserver_ok "${apiserver}" || die "built kube-apiserver does not report Kubernetes ${KUBE_VERSION}"
  fi
  if ! kcm_settled; then
    if build_kube kube-controller-manager "${kcm}" && apiserver_ok "${kcm}"; then
      rm -f "${kcm_failed_marker}"
    else
      log "warning: kube-controller-manager did not build (optional, continuing)"
      rm -f "${kcm}"
      touch "${kcm_failed_marker}"
    fi
  fi
  if [[ ${with_node} == 1 ]]; then
    for b in "${node_binaries[@]}"; do
      if ! apiserver_ok "${out_dir}/${b}"; then
        build_kube "${b}" "${out_dir}/${b}" || die "building ${b} failed"
        apiserver_ok "${out_dir}/${b}" || die "built ${b} does not report Kubernetes ${KUBE_VERSION}"
      fi
    done
  fi
fi

# --- etcd wrapper module --------------------------------------------------------
if ! etcd_ok; then
  etcd_mod="${work}/etcd"
  mkdir -p "${etcd_mod}"
  printf 'module wta.local/etcd-build\n\ngo 1.25.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "${ETCD_VERSION}" > "${etcd_mod}/go.mod"
  log "resolving go.etcd.io/etcd/server/v3@${ETCD_VERSION} from the Go module proxy"
  (cd "${etcd_mod}" && "${GO}" get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}") \
    || die "go get of go.etcd.io/etcd/server/v3 ${ETCD_VERSION} failed"
  log "building etcd ${ETCD_VERSION} (first time takes a few minutes)"
  start=${SECONDS}
  (cd "${etcd_mod}" && "${GO}" build -p "${jobs}" -trimpath -ldflags "-s -w" \
      -o "${etcd_bin}.tmp" go.etcd.io/etcd/server/v3) || { rm -f "${etcd_bin}.tmp"; die "building etcd failed"; }
  mv -f "${etcd_bin}.tmp" "${etcd_bin}"
  log "built ${etcd_bin} in $((SECONDS - start))s"
  etcd_ok || die "built etcd does not report version ${ETCD_VERSION#v}"
fi

report
