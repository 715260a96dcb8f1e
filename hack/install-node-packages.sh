#!/usr/bin/env bash
# Install, from Debian's packages, what the real-node tests (tests/node) and `make image` without
# Docker need: containerd, runc, the CNI plugins, podman/buildah, debootstrap, umoci,
# busybox-static, iptables, conntrack, socat. Does nothing when all are present.
#
# Needs root and apt-get; otherwise exits 3 with a one-line reason on stderr, which the node
# tests turn into their skip reason.
set -euo pipefail

PACKAGES=(
  containerd runc containernetworking-plugins iptables conntrack socat iproute2
  podman buildah debootstrap umoci skopeo busybox-static
)
# A command each package provides, to tell "installed" without asking dpkg for every one.
COMMANDS=(containerd runc /usr/lib/cni/bridge iptables conntrack socat ip podman buildah
  debootstrap umoci skopeo /bin/busybox)

missing=()
for i in "${!COMMANDS[@]}"; do
  if ! command -v "${COMMANDS[$i]}" >/dev/null 2>&1 && [[ ! -x "${COMMANDS[$i]}" ]]; then
    missing+=("${PACKAGES[$i]}")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "$(uname -s)" != Linux ]]; then
  echo "the real node needs Linux (this is $(uname -s))" >&2
  exit 3
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "the real node needs root to install ${missing[*]} and run containerd" >&2
  exit 3
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get to install ${missing[*]}" >&2
  exit 3
fi
printf '==> installing %s from Debian packages\n' "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
  || { echo "apt-get install ${missing[*]} failed" >&2; exit 3; }
