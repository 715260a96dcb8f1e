#!/usr/bin/env bash
# Build promtool (Prometheus's rule checker and rule unit-test runner) for a pinned
# Prometheus release, from the Go module proxy only. The chart tests use it to check
# the PrometheusRule's alerts and the dashboards' PromQL.
#
# Prometheus 3.x is published on the module proxy as v0.3<minor>.<patch>
# (3.16.0 -> v0.316.0), and its go.mod has no replace directives, so a plain
# `go install ...@version` works.
#
# The binary is cached in
#   ${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/prom/<prometheus-version>/promtool
# Progress goes to stderr; on success stdout lists the binary and its LAST line is
# the cache directory:   dir=$(hack/build-prom-tools.sh | tail -1)
#
# Environment: WTA_CACHE_DIR (cache root), WTA_BUILD_JOBS (go build -p).
set -euo pipefail

# ---- pinned version ----------------------------------------------------------
PROMETHEUS_VERSION="3.16.0"   # latest release on the Go module proxy
# ------------------------------------------------------------------------------

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

prom_minor_patch="${PROMETHEUS_VERSION#3.}"         # 16.0
MODULE_VERSION="v0.3$(printf '%02d' "${prom_minor_patch%%.*}").${prom_minor_patch#*.}"  # v0.316.0

cache_root="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}"
out_dir="${cache_root}/prom/${PROMETHEUS_VERSION}"
promtool="${out_dir}/promtool"

promtool_ok() {
  [[ -x "${promtool}" ]] || return 1
  local version  # captured first: `| grep -q` under pipefail can fail on SIGPIPE
  version="$("${promtool}" --version 2>/dev/null)" || return 1
  [[ "${version}" == "promtool, version ${PROMETHEUS_VERSION} "* ]]
}
report() {
  printf '%s\n%s\n' "${promtool}" "${out_dir}"
}

if promtool_ok; then
  report
  exit 0
fi

# --- locate go ------------------------------------------------------------------
# shellcheck source=hack/lib/go.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go.sh"
require_go

lock_build_dir "${out_dir}"
if promtool_ok; then  # built by another run while this one waited
  report
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/wta-prom-build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false"
jobs="${WTA_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

version_pkg="github.com/prometheus/common/version"
ldflags="-s -w -X ${version_pkg}.Version=${PROMETHEUS_VERSION} -X ${version_pkg}.Branch=release"
ldflags+=" -X ${version_pkg}.BuildDate=$(date -u +'%Y%m%d-%H:%M:%S')"

log "building promtool ${PROMETHEUS_VERSION} (github.com/prometheus/prometheus@${MODULE_VERSION}; first time takes a few minutes)"
start=${SECONDS}
# Run outside the repository so no go.mod/go.work around it is picked up.
(cd "${work}" && GOBIN="${work}/bin" "${GO}" install -p "${jobs}" -trimpath -ldflags "${ldflags}" \
    "github.com/prometheus/prometheus/cmd/promtool@${MODULE_VERSION}") \
  || die "building promtool ${PROMETHEUS_VERSION} failed"
mv -f "${work}/bin/promtool" "${promtool}.tmp"
mv -f "${promtool}.tmp" "${promtool}"
log "built ${promtool} in $((SECONDS - start))s"

promtool_ok || die "built promtool does not report version ${PROMETHEUS_VERSION}"
report
