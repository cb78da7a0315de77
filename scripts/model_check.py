#!/usr/bin/env python3
"""The delay model (delay_model.py) against place and route: for every place-and-route run
under the given directories (a netlist and its nextpnr log: scripts/pnr_blocks.py writes
BUNDLE/timing/pnr/<module>/{harness.json,nextpnr.log}, `squeezeflow build` writes
BUNDLE/build/{build.json,nextpnr.log}), the critical path nextpnr routed against the model's
longest path on the same netlist, and their ratio.

    scripts/model_check.py DIR [DIR ...]

Prints one line per run (module, nextpnr MHz and ns, model ns, ratio) and the ratios' range
and median. The ECP5 model runs on ECP5 netlists; docs/timing.md has the table.
"""
import glob
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json  # noqa: E402

from delay_model import longest  # noqa: E402


def runs(root):
    for log in sorted(glob.glob(os.path.join(root, "**", "nextpnr.log"), recursive=True)):
        d = os.path.dirname(log)
        for name in ("harness.json", "build.json"):
            if os.path.exists(os.path.join(d, name)):
                yield d, os.path.join(d, name), log


def fmax(log):
    found = re.findall(r"Max frequency for clock '[^']*': ([0-9.]+) MHz", open(log).read())
    return float(found[-1]) if found else None


def main():
    ratios = []
    for root in sys.argv[1:]:
        for d, net, log in runs(root):
            f = fmax(log)
            if not f:
                continue
            mods = json.load(open(net))["modules"]
            top = next(m for m in mods.values() if m.get("attributes", {}).get("top"))
            ns, _, _ = longest(top["cells"], "ecp5")
            if ns <= 0:
                continue
            r = (1000.0 / f) / ns
            ratios.append(r)
            print(f"{d}\t{f:.1f} MHz\t{1000.0 / f:.2f} ns\tmodel {ns:.2f} ns\tratio {r:.2f}")
    if ratios:
        print(f"{len(ratios)} runs: place and route / model from {min(ratios):.2f} to "
              f"{max(ratios):.2f}, median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
