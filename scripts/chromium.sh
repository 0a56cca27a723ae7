#!/usr/bin/env bash
# Prints the path of the Chromium the browser tests (internal/e2e) drive,
# installing Debian's 'chromium' package with apt when none is found, as
# scripts/pg.sh does for PostgreSQL. `make test` runs it first: the browser
# tests never skip, so a machine without Chromium fails rather than reports
# green without them.
set -euo pipefail

find_chromium() {
  local p
  for p in chromium chromium-browser google-chrome; do
    if command -v "$p" >/dev/null 2>&1; then command -v "$p"; return 0; fi
  done
  return 1
}

if find_chromium; then exit 0; fi
echo "chromium.sh: Chromium is not installed; installing the 'chromium' package with apt (browser tests)" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq chromium >&2; }; then
  echo "chromium.sh: could not install Chromium; run: sudo apt-get install chromium" >&2
  exit 1
fi
find_chromium || { echo "chromium.sh: chromium still not found after installing it" >&2; exit 1; }
