#!/usr/bin/env bash
# Benchmarks and full-network checks (opt-in: minutes, not part of the test run).
#  1. the integer reference on one SqueezeNet v1.1 224x224 frame (cargo bench);
#  2. the whole v1.1 accelerator in Verilator on every frame of a clip (default: the shared
#     16-frame astronaut_pan.y4m), every logit compared with the reference; the JSON report
#     (cycles per frame measured vs estimated, MAC utilisation, Verilator speed) goes to
#     out/bench/sim_squeezenet1_1.json. Exits non-zero on any mismatch;
#  3. the fit for each Xilinx device (below);
#  3b. Deep Compression: SqueezeNet v1.1 imported with codebook weights at 7, 6, 5 and 4 bits
#     (conv1 int8), each scored against the float model on the clip and the photos
#     (out/bench/import_<k>bit.json: cosine, top-5 overlap, top-1 on decisive frames); the
#     6-bit model fitted to each Xilinx device (out/bench/<device>_6bit/manifest.json) and run
#     whole in Verilator on the clip, every logit compared (out/bench/sim_squeezenet1_1_6bit.json);
#  4. the regression farm (scripts/bench-regress.sh);
#  5. the input fuzzers, long (PROPTEST_CASES=20000);
#  6. with SQUEEZEFLOW_BENCH_ECP5=1 (about an hour and a half more): the ULX3S network's
#     bitstream with the open flow (`build`: Yosys, nextpnr-ecp5, ecppack), its fmax and
#     critical path in out/bench/build_ulx3s.json, and place and route of one layer of every
#     kind on its own (scripts/pnr_blocks.py: out/bench/ulx3s/timing/ecp5_pnr.tsv), then the
#     delay model against those runs (scripts/model_check.py: out/bench/model_check.txt);
#  7. with SQUEEZEFLOW_BENCH_XILINX=1 (about an hour and a half): the delay model on the
#     XC7A200T and XCZU7EV foldings, their biggest modules and the whole network
#     (scripts/timing.sh: out/bench/<device>/timing/<family>.tsv and each path).
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
# 3b. codebook weights (Deep Compression).
photos=(../shared/frames/astronaut.png ../shared/frames/chelsea.png ../shared/frames/coffee.png)
for k in 7 6 5 4; do
  target/release/squeezeflow import ../shared/models/squeezenet1_1.onnx \
    --calibrate ../shared/frames/calibration -o "out/bench/squeezenet1_1_${k}bit.safetensors" \
    --weight-bits "$k" --layer-bits conv1=8 --score "$clip" "${photos[@]}" --json \
    > "out/bench/import_${k}bit.json"
done
for dev in xc7a200t xc7k325t xczu7ev; do
  target/release/squeezeflow gen --model out/bench/squeezenet1_1_6bit.safetensors --device "$dev" \
    -o "out/bench/${dev}_6bit" | tee "out/bench/gen_${dev}_6bit.txt"
done
target/release/squeezeflow gen --model out/bench/squeezenet1_1_6bit.safetensors \
  -o out/bench/squeezenet1_1_6bit | tee out/bench/gen_6bit.txt
target/release/squeezeflow sim --bundle out/bench/squeezenet1_1_6bit "$clip" \
  --report out/bench/sim_squeezenet1_1_6bit.json | tee out/bench/sim_6bit.txt
# 4. the regression farm: 1 vs 2 workers on the clip, a 2-shard SLURM run, 100 synthetic frames
#    (out/bench/regress.json).
bash scripts/bench-regress.sh "$clip"
# 5. the input fuzzers (tests/tests/fuzz.rs) for 20,000 cases each instead of a few hundred.
PROPTEST_CASES=20000 cargo test -q --release -p squeezeflow-tests --test fuzz | tee out/bench/fuzz.txt
# 6. timing on the ECP5 (opt-in).
if [ "${SQUEEZEFLOW_BENCH_ECP5:-0}" = 1 ]; then
  bash scripts/setup-ecp5.sh
  clock=$(target/release/squeezeflow gen --config model/configs/ulx3s_small.toml --board ulx3s \
    -o out/bench/ulx3s --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clock_mhz"])')
  echo "ULX3S bundle at $clock MHz"
  target/release/squeezeflow build out/bench/ulx3s --json > out/bench/build_ulx3s.json
  python3 scripts/pnr_blocks.py out/bench/ulx3s | tee out/bench/pnr_blocks.txt
  python3 scripts/model_check.py out/bench/ulx3s | tee out/bench/model_check.txt
fi
# 7. the delay model on the Xilinx foldings (opt-in).
if [ "${SQUEEZEFLOW_BENCH_XILINX:-0}" = 1 ]; then
  target/release/squeezeflow gen --device xc7a200t -o out/bench/xc7a200t > /dev/null
  TIMING_MODULES="guard avgpool_gearbox pool1 conv1 fire2_expand1x1 fire4_expand3x3 conv10 net" \
    bash scripts/timing.sh out/bench/xc7a200t xc7 | tee out/bench/timing_xc7a200t.txt
  target/release/squeezeflow gen --device xczu7ev -o out/bench/xczu7ev > /dev/null
  TIMING_MODULES="net" bash scripts/timing.sh out/bench/xczu7ev xcup | tee out/bench/timing_xczu7ev.txt
fi
