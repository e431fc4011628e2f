#!/usr/bin/env bash
# Installs the Debian packages the test suite runs against, if they are missing:
# zarr-python (the v2 reference reader/writer), unzip (checks our archives), chromium (browser tests).
set -euo pipefail
missing=()
/usr/bin/python3 -c "import zarr" 2>/dev/null || missing+=(python3-zarr)
command -v unzip >/dev/null || missing+=(unzip)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
