#!/usr/bin/env bash
# Make a Python base image from Debian's packages, for building the Dockerfile where no registry
# image can be pulled: `debootstrap bookworm` with python3, pip and venv, imported with
# `podman import`. Prints the image's name (the Dockerfile's PYTHON_IMAGE build argument).
#
# The root filesystem is cached as a tarball in
#   ${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/image/
# keyed on this script's checksum, so a warm machine only re-imports it (a few seconds).
#
# The host's CA bundle is copied in: where HTTPS to the package registries goes through an
# intercepting proxy, pip and uv inside the build trust what the host trusts.
set -euo pipefail

SUITE="bookworm"
MIRROR="${WTA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
INCLUDE="python3,python3-pip,python3-venv,python-is-python3,ca-certificates"
HOST_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/lib/podman.sh
source "${here}/lib/podman.sh"

key="$(cksum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
image="localhost/wta-base:${SUITE}-${key}"
cache_dir="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/image"
tarball="${cache_dir}/wta-base-${SUITE}-${key}.tar"

if podman image exists "${image}"; then
  printf '%s\n' "${image}"
  exit 0
fi

mkdir -p "${cache_dir}"
exec 8>"${cache_dir}/.base.lock"
flock 8

if [[ ! -s "${tarball}" ]]; then
  command -v debootstrap >/dev/null || die "debootstrap is needed (hack/install-node-packages.sh)"
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/wta-base.XXXXXX")"
  trap 'rm -rf "${rootfs}"' EXIT
  log "debootstrap ${SUITE} with ${INCLUDE} (about 80 s)"
  debootstrap --variant=minbase --include="${INCLUDE}" "${SUITE}" "${rootfs}" "${MIRROR}" >&2 \
    || die "debootstrap ${SUITE} from ${MIRROR} failed"
  # Debian marks its Python externally managed; the Dockerfile pip-installs uv into it.
  rm -f "${rootfs}"/usr/lib/python3*/EXTERNALLY-MANAGED
  if [[ -s "${HOST_CA_BUNDLE}" ]]; then
    cp "${HOST_CA_BUNDLE}" "${rootfs}/etc/ssl/certs/ca-certificates.crt"
  fi
  rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/* "${rootfs}"/var/log/*
  tar --numeric-owner -C "${rootfs}" -cf "${tarball}.tmp" .
  mv -f "${tarball}.tmp" "${tarball}"
fi

log "importing ${tarball} as ${image}"
podman import \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV UV_NATIVE_TLS=1' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  "${tarball}" "${image}" >/dev/null
printf '%s\n' "${image}"
