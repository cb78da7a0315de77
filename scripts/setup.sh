#!/usr/bin/env bash
# Installs the system packages squeezeflow needs (Verilator, Yosys, Icarus Verilog, a C++ compiler)
# when they are missing. Safe to run again: it does nothing when everything is present.
set -euo pipefail

need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
command -v iverilog >/dev/null 2>&1 || need+=(iverilog)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)   # JUnit XML checks in the tests
# A Python venv for FuseSoC (scripts/setup-fusesoc.sh) and the ECP5 tools (setup-ecp5.sh).
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv python3-pip)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "squeezeflow setup: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "squeezeflow setup: need root (or sudo) to install: ${need[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
