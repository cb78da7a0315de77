#!/usr/bin/env bash
# The main job on the built-in default network (README): installs missing system packages,
# builds squeezeflow in release mode and runs it. Extra arguments go to `squeezeflow`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet -p squeezeflow-host
bin=target/release/squeezeflow
if [ $# -gt 0 ]; then
  exec "$bin" "$@"
fi
"$bin" info
