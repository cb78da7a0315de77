#!/usr/bin/env bash
# Logic depth per layer of a bundle (opt-in; minutes per family): every layer module of the
# bundle's core synthesized on its own with Yosys, and the longest register-to-register path in
# cells (scripts/depth.py on the netlist: flip-flops, block RAMs and registered DSPs cut the
# paths) reported, for Xilinx 7-series (`synth_xilinx -flatten`), UltraScale+ (`-family xcup`)
# and ECP5 (`synth_ecp5`), plus the whole top module. The cells on a path are LUTs, carry chain
# cells and muxes: the count is a depth, not a delay (docs/timing.md says how the two relate).
#   scripts/timing.sh BUNDLE [FAMILY ...]      FAMILY: xc7, xcup, ecp5 (default: all three)
#   TIMING_MODULES="conv10 net" scripts/timing.sh BUNDLE xc7   only these modules (a name
#                                               without the bundle's prefix is completed)
# Writes BUNDLE/timing/<family>.tsv (module, cells on the longest path, the widest fan-out,
# seconds), each path and its delay model (timing/<family>_<module>.path, scripts/depth.py) and
# each netlist (timing/<family>_<module>.json, for depth.py again), and prints the table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:?usage: scripts/timing.sh BUNDLE [xc7|xcup|ecp5 ...]}"
shift
families=("$@")
[ ${#families[@]} -eq 0 ] && families=(xc7 xcup ecp5)
cd "$bundle"
[ -f manifest.json ] || { echo "timing: $bundle has no manifest.json" >&2; exit 1; }
# The sources in compile order and the top module, from the manifest.
mapfile -t rtl < <(python3 -c 'import json; [print(f) for f in json.load(open("manifest.json"))["rtl"]]')
top=$(python3 -c 'import json; print(json.load(open("manifest.json"))["top_module"])')
core="${rtl[1]}"
# Every module the core file declares: one a layer, plus the core, net, guard and loader.
# The layers first, the wholes (core, net, top) last: they take as long as the rest together.
mapfile -t all < <(sed -n 's/^module \([A-Za-z0-9_]*\)(.*/\1/p' "$core")
prefix="${all[0]%_core}"
modules=()
for m in "${all[@]}"; do
  case "$m" in "${prefix}_core" | "${prefix}_net") ;; *) modules+=("$m") ;; esac
done
modules+=("${prefix}_net" "$top")
if [ -n "${TIMING_MODULES:-}" ]; then
  chosen=()
  for want in $TIMING_MODULES; do
    found=""
    for m in "${modules[@]}"; do
      if [ "$m" = "$want" ] || [ "$m" = "${prefix}_$want" ]; then found="$m"; fi
    done
    [ -n "$found" ] || { echo "timing: no module $want in $core" >&2; exit 1; }
    chosen+=("$found")
  done
  modules=("${chosen[@]}")
fi
mkdir -p timing
for fam in "${families[@]}"; do
  case "$fam" in
    xc7) synth="synth_xilinx -flatten" ;;
    xcup) synth="synth_xilinx -family xcup -flatten" ;;
    ecp5) synth="synth_ecp5" ;;
    *) echo "timing: unknown family $fam (xc7, xcup, ecp5)" >&2; exit 1 ;;
  esac
  out="timing/$fam.tsv"
  printf 'module\tcells_on_longest_path\twidest_fanout\tseconds\n' > "$out"
  for m in "${modules[@]}"; do
    t0=$(date +%s)
    log="timing/${fam}_$m.log"
    net="timing/${fam}_$m.json"
    if yosys -q -l "$log" -p "read_verilog -defer ${rtl[*]}; $synth -top $m; write_json $net" >/dev/null 2>&1 \
      && python3 "$here/depth.py" --family "$fam" "$net" "$m" > "timing/${fam}_$m.path"; then
      depth=$(head -1 "timing/${fam}_$m.path" | cut -d' ' -f1)
      fanout=$(sed -n 's/^fan-out \([0-9]*\) .*/\1/p' "timing/${fam}_$m.path" | head -1)
    else
      depth="error (see $log)"
      fanout=""
    fi
    printf '%s\t%s\t%s\t%s\n' "$m" "${depth:-?}" "${fanout:-?}" "$(( $(date +%s) - t0 ))" | tee -a "$out"
  done
done
