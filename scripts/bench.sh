#!/usr/bin/env bash
# Benchmarks and full-network checks (opt-in: minutes, not part of the test run).
#  1. the integer reference on one SqueezeNet v1.1 224x224 frame (cargo bench);
#  2. the whole v1.1 accelerator in Verilator on every frame of a clip (default: the shared
#     16-frame astronaut_pan.y4m), every logit compared with the reference; the JSON report
#     (cycles per frame measured vs estimated, MAC utilisation, Verilator speed) goes to
#     out/bench/sim_squeezenet1_1.json. Exits non-zero on any mismatch;
#  3. the fit for each Xilinx device (below);
#  4. the regression farm (scripts/bench-regress.sh);
#  5. the input fuzzers, long (PROPTEST_CASES=20000).
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
# 3. the fit for each Xilinx device target (estimates; `squeezeflow synth DIR` then runs Yosys on
#    a bundle, an hour or more for the whole network): each bundle's manifest.json holds the
#    folding, cycles per frame, frames per second at the part's clock and the resources.
for dev in xc7a200t xc7k325t xczu7ev; do
  target/release/squeezeflow gen --device "$dev" -o "out/bench/$dev" | tee "out/bench/gen_$dev.txt"
done
# 4. the regression farm: 1 vs 2 workers on the clip, a 2-shard SLURM run, 100 synthetic frames
#    (out/bench/regress.json).
bash scripts/bench-regress.sh "$clip"
# 5. the input fuzzers (tests/tests/fuzz.rs) for 20,000 cases each instead of a few hundred.
PROPTEST_CASES=20000 cargo test -q --release -p squeezeflow-tests --test fuzz | tee out/bench/fuzz.txt
