#!/usr/bin/env bash
# Benchmarks and full-network checks (opt-in: minutes, not part of the test run).
#  1. the integer reference on one SqueezeNet v1.1 224x224 frame (cargo bench);
#  2. the whole v1.1 accelerator in Verilator on every frame of a clip (default: the shared
#     16-frame astronaut_pan.y4m), every logit compared with the reference; the JSON report
#     (cycles per frame measured vs estimated, MAC utilisation, Verilator speed) goes to
#     out/bench/sim_squeezenet1_1.json. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out/bench
clip="${1:-../shared/frames/astronaut_pan.y4m}"
cargo bench -q -p squeezeflow-model --bench reference | tee out/bench/reference.txt
cargo build --release --quiet -p squeezeflow-host
target/release/squeezeflow gen -o out/bench/squeezenet1_1 | tee out/bench/gen.txt
target/release/squeezeflow sim --bundle out/bench/squeezenet1_1 "$clip" \
  --report out/bench/sim_squeezenet1_1.json | tee out/bench/sim.txt
