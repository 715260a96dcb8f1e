#!/usr/bin/env bash
# Install Debian's chromium for the console's browser tests (tests/console, pytest -m browser).
# Playwright cannot download its own browsers here. Does nothing when /usr/bin/chromium exists.
#
# Needs root and apt-get; otherwise prints a one-line reason and exits 0: the browser tests
# then skip themselves with that reason.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-tools: cannot install chromium (needs root and apt-get); browser tests will be skipped" >&2
  exit 0
fi
echo "==> installing chromium from Debian packages" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends chromium >/dev/null ||
    echo "browser-tools: apt-get could not install chromium; browser tests will be skipped" >&2
fi
