#!/usr/bin/env bash
# Regression-farm figures (docs/regress.md), part of scripts/bench.sh:
#  1. the clip (default: the shared 16-frame astronaut_pan.y4m) on the built-in SqueezeNet v1.1,
#     1 worker against 2 workers: wall-clock speed-up, and the two reports identical;
#  2. the same regression as a 2-shard job array on a real single-node SLURM
#     (scripts/slurm-local.sh), merged: its report identical to the local one;
#  3. 100 synthetic frames on the default network, unattended; its JUnit XML validated against
#     host/tests/data/junit.xsd.
# Writes out/bench/regress.json. Exits non-zero when a report differs or a frame mismatches.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
clip="$(realpath "${1:-../shared/frames/astronaut_pan.y4m}")"
bin=target/release/squeezeflow
cargo build --release --quiet -p squeezeflow-host
mkdir -p out/bench
spec=out/bench/clip16.toml
printf '[[case]]\nname = "v1_1_clip"\nframes = ["%s"]\nframes_per_job = 4\n' "$clip" > "$spec"
now() { date +%s.%N; }
# Bundle and model once (not timed).
"$bin" regress "$spec" -o out/bench/regress_warm --prepare --quiet
t0=$(now); "$bin" regress "$spec" -j 1 -o out/bench/regress_j1 --fresh --quiet \
  --bundles out/bench/regress_warm/bundles; t1=$(now)
"$bin" regress "$spec" -j 2 -o out/bench/regress_j2 --fresh --quiet \
  --bundles out/bench/regress_warm/bundles; t2=$(now)
cmp out/bench/regress_j1/report.json out/bench/regress_j2/report.json
# SLURM: 2 shards of one CPU each, merged.
eval "$(bash scripts/slurm-local.sh start)"
trap 'bash scripts/slurm-local.sh stop >/dev/null 2>&1 || true' EXIT
rm -rf out/bench/regress_slurm
t3=$(now); "$bin" regress "$spec" -o out/bench/regress_slurm --slurm --shards 2 \
  --cpus-per-task 1 --quiet; t4=$(now)
cmp out/bench/regress_j2/report.json out/bench/regress_slurm/report.json
bash scripts/slurm-local.sh stop >/dev/null 2>&1 || true
trap - EXIT
# 100 synthetic frames, the default network.
printf '[[case]]\nname = "v1_1_synthetic100"\nframes = ["synthetic:100"]\n' > out/bench/synthetic100.toml
t5=$(now); "$bin" regress out/bench/synthetic100.toml -o out/bench/regress_100 --fresh; t6=$(now)
xmllint --noout --schema host/tests/data/junit.xsd out/bench/regress_100/junit.xml
python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" <<'PY'
import json, sys
t = [float(x) for x in sys.argv[1:]]
j1, j2, slurm, s100 = t[1] - t[0], t[2] - t[1], t[4] - t[3], t[6] - t[5]
r = {
    "clip_frames": json.load(open("out/bench/regress_j1/report.json"))["totals"],
    "clip_seconds_1_worker": round(j1, 1),
    "clip_seconds_2_workers": round(j2, 1),
    "speedup_2_workers": round(j1 / j2, 3),
    "reports_identical_1_2_slurm": True,
    "slurm_2_shards_seconds": round(slurm, 1),
    "synthetic100": json.load(open("out/bench/regress_100/report.json"))["totals"],
    "synthetic100_seconds": round(s100, 1),
    "synthetic100_junit_valid": True,
}
json.dump(r, open("out/bench/regress.json", "w"), indent=2)
print(json.dumps(r, indent=2))
PY
