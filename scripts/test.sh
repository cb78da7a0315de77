#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing system packages, checks formatting and
# lints, then runs every default test. Slow full-network runs are opt-in (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-fusesoc.sh   # the bundle core file tests (tests/tests/ip_bundle.rs)
bash scripts/setup-ecp5.sh      # the bitstream test (host/tests/synth_dse.rs)
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
