#!/usr/bin/env bash
# The pod sandbox ("pause") image of the real node, from Debian's busybox-static: busybox sleeping
# forever as the sandbox's only process. No registry image is pulled.
# Prints the image's name, then the path of its docker-archive tarball (cached under
# ${WTA_CACHE_DIR:-~/.cache/wta}/image/), for `ctr images import`.
set -euo pipefail

IMAGE="localhost/wta-pause:busybox"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/image"
archive="${cache_dir}/wta-pause-busybox.tar"

if [[ ! -s "${archive}" ]]; then
  "${root}/hack/install-node-packages.sh"
  # shellcheck source=hack/lib/podman.sh
  source "${root}/hack/lib/podman.sh"
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/wta-pause.XXXXXX")"
  trap 'rm -rf "${rootfs}"' EXIT
  install -D -m 0755 /bin/busybox "${rootfs}/bin/busybox"
  tar --numeric-owner -C "${rootfs}" -c . \
    | podman import --quiet --change 'ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]' - "${IMAGE}" >/dev/null
  podman save --quiet --format docker-archive --output "${archive}.tmp" "${IMAGE}"
  mv -f "${archive}.tmp" "${archive}"
fi
printf '%s\n%s\n' "${IMAGE}" "${archive}"
