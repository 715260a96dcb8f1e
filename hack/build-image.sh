#!/usr/bin/env bash
# Build the platform's image from ./Dockerfile: with Docker when an engine answers, otherwise
# with podman on a base image made from Debian's packages (hack/build-base-image.sh) when
# python:3.11-slim cannot be pulled.
#
# Usage: hack/build-image.sh [--save]
#   Prints the image's name. The tag is the checksum of everything the Dockerfile copies, so an
#   unchanged tree is not rebuilt. With --save (podman only) it also writes the image as a
#   docker-archive tarball under ${WTA_CACHE_DIR:-~/.cache/wta}/image/ and prints its path on a
#   second line: what tests/node imports into containerd.
set -euo pipefail

REPOSITORY="${WTA_IMAGE_REPOSITORY:-localhost/wta-runtime}"
PULLED_BASE="python:3.11-slim-bookworm"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
save=0
if [[ "${1:-}" == --save ]]; then
  save=1
fi

# The Dockerfile's inputs: itself and what it COPYs.
inputs_checksum() {
  (cd "${root}" && find Dockerfile pyproject.toml requirements.lock README.md runtime operator \
      -type f -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 \
    | LC_ALL=C sort -z | xargs -0 cksum | cksum | cut -d' ' -f1)
}

if [[ ${save} == 0 ]] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  image="${REPOSITORY}:$(inputs_checksum)"
  log "building ${image} with Docker"
  docker build --tag "${image}" "${root}" >&2
  printf '%s\n' "${image}"
  exit 0
fi

"${root}/hack/install-node-packages.sh"
# shellcheck source=hack/lib/podman.sh
source "${root}/hack/lib/podman.sh"

if podman image exists "${PULLED_BASE}" || podman pull --quiet "docker.io/library/${PULLED_BASE}" >/dev/null 2>&1; then
  base="${PULLED_BASE}"
else
  log "${PULLED_BASE} cannot be pulled: making a base image from Debian's packages"
  base="$("${root}/hack/build-base-image.sh")"
fi
image="${REPOSITORY}:$(cksum <<<"${base} $(inputs_checksum)" | cut -d' ' -f1)"
cache_dir="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/image"
archive="${cache_dir}/${image##*/}.tar"
archive="${archive/:/-}"

if ! podman image exists "${image}"; then
  if [[ -s "${archive}" ]]; then
    podman load --quiet --input "${archive}" >/dev/null
  else
    log "building ${image} on ${base} with podman"
    # The host's network: the build reaches the package registries the way this machine does.
    podman build --network host "${PODMAN_BUILD_ULIMITS[@]}" --build-arg "PYTHON_IMAGE=${base}" --tag "${image}" "${root}" >&2 \
      || die "podman build failed"
  fi
  # Builds of other trees go once they are two hours old (younger ones may be another
  # worktree's, about to be loaded), with their build stages.
  podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=${REPOSITORY}" \
      --filter until=2h | grep -vxF "${image}" | xargs -r podman rmi --force >/dev/null 2>&1 || true
  podman image prune --force --filter until=2h >/dev/null 2>&1 || true
  find "${cache_dir}" -maxdepth 1 -name "${REPOSITORY##*/}-*.tar" -not -name "${archive##*/}" \
    -mmin +120 -delete
fi
printf '%s\n' "${image}"
if [[ ${save} == 1 ]]; then
  if [[ ! -s "${archive}" ]]; then
    podman save --quiet --format docker-archive --output "${archive}.tmp" "${image}"
    mv -f "${archive}.tmp" "${archive}"
  fi
  printf '%s\n' "${archive}"
fi
