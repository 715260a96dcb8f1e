# shellcheck shell=bash
# Sourced by the hack/ scripts that run podman: a containers.conf of the project's own (through
# CONTAINERS_CONF, so nothing in /etc changes) with what this machine needs, each detected:
#   - cgroups v1 or hybrid: crun refuses that layout, so podman uses runc;
#   - root without CAP_SYS_RESOURCE: containers may not raise nofile/nproc above this shell's
#     hard limits (podman's defaults do), so the defaults are those limits.

# 0 when the calling process holds capability number $1 in its effective set.
has_capability() {
  local effective
  effective="$(awk '/^CapEff:/ {print $2}' /proc/self/status)"
  (( (16#${effective} >> $1) & 1 ))
}

# 0 when /sys/fs/cgroup is the unified (v2) hierarchy.
cgroup_v2() {
  [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == cgroup2fs ]]
}

CAP_SYS_RESOURCE=24

# The nofile and nproc limits containers get, or nothing to say when root may raise them.
# Measured without CAP_SYS_RESOURCE: runc may set nofile up to this shell's hard limit, but
# nproc at that hard limit is refused while 4096 is accepted.
container_ulimits() {
  if ! has_capability "${CAP_SYS_RESOURCE}"; then
    local nproc
    nproc="$(ulimit -Hu)"
    [[ "${nproc}" == unlimited || "${nproc}" -gt 4096 ]] && nproc=4096
    printf 'nofile=%s:%s\n' "$(ulimit -Hn)" "$(ulimit -Hn)"
    printf 'nproc=%s:%s\n' "${nproc}" "${nproc}"
  fi
}

# `podman build` arguments with those limits (builds ignore containers.conf's default_ulimits).
PODMAN_BUILD_ULIMITS=()
while read -r _wta_limit; do
  [[ -n "${_wta_limit}" ]] && PODMAN_BUILD_ULIMITS+=(--ulimit "${_wta_limit}")
done < <(container_ulimits)

write_containers_conf() {
  local conf="$1" limits
  limits="$(container_ulimits | sed 's/.*/"&"/' | paste -sd, | sed 's/,/, /g')"
  {
    printf '[containers]\n'
    if [[ -n "${limits}" ]]; then
      printf 'default_ulimits = [%s]\n' "${limits}"
    fi
    printf '\n[engine]\n'
    if ! cgroup_v2; then
      printf 'runtime = "runc"\n'
    fi
  } > "${conf}.tmp"
  mv -f "${conf}.tmp" "${conf}"
}

command -v podman >/dev/null 2>&1 || {
  printf 'error: podman is needed (hack/install-node-packages.sh installs it)\n' >&2
  exit 1
}
_wta_podman_conf="${WTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wta}/image/containers.conf"
mkdir -p "$(dirname "${_wta_podman_conf}")"
write_containers_conf "${_wta_podman_conf}"
export CONTAINERS_CONF="${_wta_podman_conf}"
