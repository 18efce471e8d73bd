#!/bin/sh
# Gives Dawn (npm `webgpu`) a software Vulkan adapter on a machine without a GPU:
# Mesa's lavapipe. Debian 12's own Mesa (22.x) lacks a feature Dawn needs; the
# backports suite carries a newer Mesa that works. Needs root and apt.
# Idempotent: exits at once when an adapter is already found.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$0")/.."
probe() {
  node -e "import('webgpu').then(async m=>{const g=m.create([]);const a=await g.requestAdapter();process.exit(a?0:1)}).catch(()=>process.exit(1))" 2>/dev/null
}
if probe; then
  echo "webgpu: adapter found"
  exit 0
fi
what="webgpu: no adapter; Mesa lavapipe"
. "$here/as-root.sh"
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
  uri=$(sed -n 's/^URIs: *//p' "$src" | head -n1)
else
  uri=http://deb.debian.org/debian
fi
printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$uri" "$codename" | $sudo tee /etc/apt/sources.list.d/backports.sources >/dev/null
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$codename-backports" libvulkan1 mesa-vulkan-drivers >/dev/null
if probe; then
  echo "webgpu: software adapter installed (Mesa lavapipe)"
else
  echo "webgpu: still no adapter after installing Mesa lavapipe" >&2
  exit 1
fi
