#!/bin/sh
# Installs Debian's Chromium, the browser the tests of `dlc serve` drive
# (playwright-core, test/helpers/browser.ts): headless, with WebGPU on its
# software adapter (SwiftShader). Needs root or sudo, and apt.
# Idempotent: exits at once when /usr/bin/chromium runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
probe() {
  /usr/bin/chromium --version >/dev/null 2>&1
}
if probe; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi
what="browser: no /usr/bin/chromium; Debian's chromium"
. "$here/as-root.sh"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
if probe; then
  echo "browser: installed $(/usr/bin/chromium --version 2>/dev/null)"
else
  echo "browser: chromium still does not run after apt-get install chromium" >&2
  exit 1
fi
