#!/usr/bin/env bash
# The main job (README): installs missing system packages, builds squeezeflow, generates the
# accelerator for the built-in SqueezeNet v1.1 (real ImageNet weights, int8), builds it in
# Verilator and streams a short real clip through it, comparing every logit with the integer
# reference. Extra arguments go to `squeezeflow sim` (e.g. a video file, --max-frames N).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet -p squeezeflow-host
exec target/release/squeezeflow sim "$@"
