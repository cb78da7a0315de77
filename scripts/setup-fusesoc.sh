#!/usr/bin/env bash
# Installs FuseSoC (from PyPI, pinned) for a bundle's core file (`<top>.core`: lint, sim and
# synth targets) in a Python venv under $SQUEEZEFLOW_CACHE/fusesoc (default
# ~/.cache/squeezeflow/fusesoc), where squeezeflow's tests find it. Does nothing when `fusesoc`
# is on PATH or already installed there. Needs python3 (3.10 or newer) with venv and pip, and
# access to PyPI; scripts/setup.sh installs python3-venv.
set -euo pipefail

. "$(dirname "$0")/cache-root.sh"
venv="$root/fusesoc"
if command -v fusesoc >/dev/null 2>&1 || [ -x "$venv/bin/fusesoc" ]; then
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "squeezeflow setup-fusesoc: python3 with venv is needed (apt-get install python3-venv)" >&2
  exit 1
fi
echo "squeezeflow setup-fusesoc: installing fusesoc into $venv" >&2
mkdir -p "$root"
python3 -m venv "$venv"
"$venv/bin/pip" install -q fusesoc==2.4.7
echo "squeezeflow setup-fusesoc: fusesoc $("$venv/bin/fusesoc" --version 2>&1 | head -1)" >&2
