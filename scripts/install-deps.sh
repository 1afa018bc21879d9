#!/usr/bin/env bash
# Installs what Gantry's tests need on Debian 12: the real registry clients, a Docker engine, the
# reference registry (docker-registry), debootstrap and chromium (for the web UI's browser tests,
# driven by playwright-core) from Debian's packages (only when run as root and something is
# missing), then the npm dependencies. Idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(skopeo podman buildah umoci containerd debootstrap apache2-utils crun runc fuse-overlayfs uidmap
  docker-registry jq zip nginx openssl chromium)
DOCKER_PACKAGES=(docker.io)

missing=()
for p in "${DEBIAN_PACKAGES[@]}" "${DOCKER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-deps: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${DEBIAN_PACKAGES[@]}" >/dev/null
    # The engine alone: recommends would pull in a second containerd setup we do not use.
    apt-get install -y -qq --no-install-recommends "${DOCKER_PACKAGES[@]}" >/dev/null
  else
    echo "install-deps: missing Debian packages (${missing[*]}); tests that need them will be skipped." >&2
    echo "install-deps: run as root on Debian 12 to install them." >&2
  fi
fi

# better-sqlite3 compiles from source here (~60 s): no prebuilt downloads are reachable.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
