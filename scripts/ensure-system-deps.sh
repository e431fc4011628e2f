#!/usr/bin/env bash
# Installs what the test suite runs against, if it is missing:
# - Debian packages: zarr-python 2.13 (the v2 reference reader/writer) with fsspec + aiohttp (its
#   FSStore over http://), unzip (checks our archives), chromium (browser tests);
# - a project-local virtualenv .venv with tensorstore + numpy (the reference reader for Zarr v3, v2,
#   zip, kvstack, http and s3), from the machine's pip configuration (a local wheelhouse here).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
/usr/bin/python3 -c "import zarr" 2>/dev/null || missing+=(python3-zarr)
/usr/bin/python3 -c "import fsspec, aiohttp" 2>/dev/null || missing+=(python3-fsspec python3-aiohttp)
command -v unzip >/dev/null || missing+=(unzip)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! .venv/bin/python -c "import tensorstore, numpy" 2>/dev/null; then
  echo "installing tensorstore + numpy into .venv" >&2
  python3 -m venv .venv
  PIP_RETRIES=0 .venv/bin/pip install -q tensorstore numpy
fi
