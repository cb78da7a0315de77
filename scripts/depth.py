#!/usr/bin/env python3
"""The deepest register-to-register path of a Yosys JSON netlist, in cells.

Usage: depth.py [--family xc7|xcup|ecp5] NETLIST.json [TOP]

Sequential cells cut paths: flip-flops (FD*, TRELLIS_FF), block and ultra RAMs (RAMB*, URAM*,
DP16KD, PDPW16KD), shift registers (SRL*), and DSP/multiplier primitives whose registers are all
on (a DSP48 with MREG or PREG set, a MULT18X18D with a registered output). Every other cell
(LUTs, carry chains, muxes, unregistered DSPs) adds one to a path's length. Ports of the top
module start and end paths as registers would. Prints the length and the path: the launching
cell, the cells it goes through (type and name), and the capturing cell; then the net with the
most loads (cell input pins) and what drives it: a large fan-out costs routing delay that a
depth count does not show. Yosys 0.23's own `ltp
-noff` does not know the technology flip-flops, so it cannot give this.

With --family, also the longest path in nanoseconds by the cell delays of that family and a
routing delay a hop (delay_model.py), and the clock it allows.
"""
import json
import sys
from collections import defaultdict

SEQ_PREFIXES = ("FD", "TRELLIS_FF", "RAMB", "URAM", "DP16KD", "PDPW16KD", "SRL", "LUTRAM",
                "RAM32", "RAM64", "RAM128", "RAM256", "TRELLIS_DPR16X4", "DPR16X4")


def registered(cell):
    t = cell["type"]
    if t.startswith(SEQ_PREFIXES):
        return True
    p = cell.get("parameters", {})
    def on(name):
        v = str(p.get(name, "0"))
        return v not in ("0", "", "NONE", "00000000000000000000000000000000") and set(v) != {"0"}
    if t.startswith("DSP48"):
        return on("MREG") or on("PREG")
    if t.startswith("MULT18X18"):
        return on("REG_OUTPUT_CLK") and str(p.get("REG_OUTPUT_CLK")) != "NONE"
    return False


def main():
    args = sys.argv[1:]
    family = None
    if args[:1] == ["--family"]:
        family, args = args[1], args[2:]
    path = args[0]
    netlist = json.load(open(path))
    mods = netlist["modules"]
    top = args[1] if len(args) > 1 else next(
        n for n, m in mods.items() if m.get("attributes", {}).get("top"))
    m = mods[top]
    cells = m["cells"]
    drivers = {}      # bit -> cell name (outputs)
    sinks = defaultdict(list)  # bit -> [cell names] (inputs)
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            for b in bits:
                if isinstance(b, str):
                    continue  # constants
                if dirs.get(port) == "output":
                    drivers[b] = name
                else:
                    sinks[b].append(name)
    # The combinational graph: edges between non-registered cells only.
    comb = {n for n, c in cells.items() if not registered(c)}
    succ = defaultdict(set)
    for b, d in drivers.items():
        for s in sinks[b]:
            if d in comb and s in comb and s != d:
                succ[d].add(s)
    # Longest path (in cells) over the DAG of combinational cells, by memoised DFS.
    sys.setrecursionlimit(1_000_000)
    best = {}
    nxt = {}
    def longest(n):
        if n in best:
            return best[n]
        best[n] = 1  # guards a combinational loop
        b, k = 1, None
        for s in succ[n]:
            v = 1 + longest(s)
            if v > b:
                b, k = v, s
        best[n], nxt[n] = b, k
        return b
    chain = []
    if comb:
        chain = [max(comb, key=longest)]
        while nxt.get(chain[-1]):
            chain.append(nxt[chain[-1]])
    # Where it starts and ends: the registered cell (or port) feeding the first cell and fed by
    # the last.
    def feeders(n):
        c = cells[n]
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output":
                continue
            for b in bits:
                d = drivers.get(b)
                if d is not None and d not in comb:
                    return f"{cells[d]['type']} {src(d) or d}"
        return "a top-level input"
    def fed(n):
        c = cells[n]
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) != "output":
                continue
            for b in bits:
                for s in sinks.get(b, []):
                    if s not in comb:
                        return f"{cells[s]['type']} {src(s) or s}"
        return "a top-level output"
    def src(n):
        # Where the cell came from in the Verilog (Yosys keeps `src` through synthesis).
        # Flattened cells carry the instance's place, then the module's: keep the innermost one
        # in the design (not Yosys's own techmap library).
        parts = [p for p in cells[n].get("attributes", {}).get("src", "").split("|")
                 if p and "/share/yosys/" not in p and not p.endswith(":0.0-0.0")]
        return parts[-1] if parts else ""
    # The widest fan-outs: loads per driven bit (cell input pins but clocks), with the pins
    # they load (a clock enable or reset reaching every register is another problem than data).
    pins = defaultdict(lambda: defaultdict(int))
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            # Clock pins are the clock tree's business, not the fabric's.
            if dirs.get(port) != "output" and port != "C" and "CLK" not in port:
                for b in bits:
                    if not isinstance(b, str) and b in drivers:
                        pins[b][port.rstrip("0123456789[]")] += 1
    widest = sorted(pins, key=lambda b: -sum(pins[b].values()))[:3]
    print(f"{len(chain)} cells")
    if chain:
        print(f"  from {feeders(chain[0])}")
        for n in chain:
            print(f"  {cells[n]['type']:<10} {src(n) or n}")
        print(f"  to   {fed(chain[-1])}")
    if family:
        from delay_model import longest
        ns, dpath, end = longest(cells, family)
        mhz = 1000.0 / ns if ns > 0 else float("inf")
        print(f"model {family}: {ns:.2f} ns, {mhz:.0f} MHz")
        for name, outport, t in dpath:
            print(f"  {t:6.2f} {cells[name]['type']:<10} {outport:<6} {src(name) or name}")
        if end:
            print(f"  to   {cells[end[0]]['type']} {end[1]} {src(end[0]) or end[0]}")
    for b in widest:
        d = drivers[b]
        loads = ", ".join(f"{n} {p}" for p, n in sorted(pins[b].items(), key=lambda x: -x[1])[:4])
        print(f"fan-out {sum(pins[b].values())} from {cells[d]['type']} {src(d) or d} ({loads})")


if __name__ == "__main__":
    main()
