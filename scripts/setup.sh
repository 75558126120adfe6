#!/usr/bin/env bash
# One-time set-up of a controller (Debian/Ubuntu, as root or with sudo): the Debian packages
# the lab and the tests need, then the npm packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=$(grep -hv '^\s*#' .ci/lab-packages.txt .ci/test-packages.txt 2>/dev/null | tr '\n' ' ')
missing=$(for p in $packages; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done)
if [ -n "$missing" ]; then
  echo "Installing Debian packages:" $missing
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
npm ci --no-audit --no-fund
# npm ci's "prepare" bundled the runner (dist/, so `npx zx run` starts fast) unless scripts are
# disabled: then build here. Never fatal: run rebuilds it on first use or falls back to tsx.
[ -f dist/play.mjs ] || npm run --silent build || echo "warning: build failed; npx zx run will load the TypeScript through tsx" >&2
