#!/usr/bin/env python3
"""Place and route of single layer modules on the ECP5 (opt-in; minutes a block).

A layer module has more ports than the package has pins, so each one is wrapped in a harness
whose only pins are a clock, a serial input, a load strobe and a serial output: every input of
the module comes from a flip-flop of a shift register fed by the serial input, and every output
goes into a flip-flop of a loadable shift register read out serially. Every path that ends or
starts at the module's ports is then register to register, as it is inside the network (where
the neighbour's port registers take the harness's place), and nextpnr's fmax is the module's.

    scripts/pnr_blocks.py BUNDLE [--freq MHZ] [MODULE_SUFFIX ...]

MODULE_SUFFIX picks modules by name after the bundle's prefix (`conv1`, `fire2_expand3x3`,
`pool1`); the default is one module of every kind in the bundle. Writes
BUNDLE/timing/ecp5_pnr.tsv (module, fmax in MHz, logic and routing delay on the critical
path, its start and end) and, per module, the nextpnr log and report under BUNDLE/timing/pnr/.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time


def tool(name):
    """A YoWASP tool from the venv scripts/setup-ecp5.sh writes, or a native one on PATH."""
    root = os.environ.get("SQUEEZEFLOW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "squeezeflow")
    for cand in (name, "yowasp-" + name, os.path.join(root, "yowasp", "bin", "yowasp-" + name)):
        p = shutil.which(cand)
        if p:
            return p
    sys.exit(f"pnr_blocks: {name} not found; run scripts/setup-ecp5.sh")


def modules_of(core_text):
    """Every module of the core file: name -> [(direction, width, port)] in port order."""
    mods = {}
    for m in re.finditer(r"^module (\w+)\((.*?)\);(.*?)^endmodule", core_text, re.S | re.M):
        name, order, body = m.group(1), m.group(2).split(","), m.group(3)
        decl = {}
        for d in re.finditer(r"^\s*(input|output)\s+(?:wire|reg)\s+(?:\[(\d+):0\]\s*)?(\w+);",
                             body, re.M):
            decl[d.group(3)] = (d.group(1), int(d.group(2) or 0) + 1)
        mods[name] = [(decl[p][0], decl[p][1], p) for p in order if p in decl]
    return mods


def kind(suffix):
    """The block kind of a layer module: conv engine, pool, gearbox, fifo, fork, concat."""
    for k in ("gearbox", "fifo", "fork", "concat", "guard", "loader"):
        if suffix.endswith(k):
            return k
    if suffix.startswith("pool"):
        return "maxpool"
    if suffix == "avgpool":
        return "avgpool"
    if "squeeze" in suffix:
        return "conv1x1_squeeze"
    if "expand1x1" in suffix:
        return "conv1x1_expand"
    if "expand3x3" in suffix:
        return "conv3x3"
    return "conv_" + suffix


def harness(name, ports):
    """A wrapper with four pins around module `name` (see the module docstring)."""
    ins = [(w, p) for d, w, p in ports if d == "input" and p != "clock"]
    outs = [(w, p) for d, w, p in ports if d == "output"]
    nin = max(1, sum(w for w, _ in ins))
    nout = max(1, sum(w for w, _ in outs))
    lines = [
        "module timing_harness(input wire clk, input wire din, input wire ld, output wire dout);",
        f"    reg [{nin - 1}:0] si = {nin}'d0;",
        f"    reg [{nout - 1}:0] so = {nout}'d0;",
        f"    wire [{nout - 1}:0] o;",
        "    always @(posedge clk) begin",
        f"        si <= {{si[{max(nin - 2, 0)}:0], din}};" if nin > 1 else "        si <= din;",
        f"        so <= ld ? o : {{1'b0, so[{nout - 1}:1]}};" if nout > 1 else "        so <= o;",
        "    end",
        "    assign dout = so[0];",
        f"    {name} dut (.clock(clk)",
    ]
    at = 0
    for w, p in ins:
        lines.append(f"        , .{p}(si[{at + w - 1}:{at}])")
        at += w
    at = 0
    for w, p in outs:
        lines.append(f"        , .{p}(o[{at + w - 1}:{at}])")
        at += w
    lines += ["    );", "endmodule", ""]
    return "\n".join(lines)


def critical_path(report):
    """(logic ns, routing ns, from, to) of the first critical path of nextpnr's report."""
    paths = report.get("critical_paths") or []
    if not paths:
        return (0.0, 0.0, "?", "?")
    p = paths[0]
    logic = sum(s["delay"] for s in p["path"] if s["type"] != "routing")
    route = sum(s["delay"] for s in p["path"] if s["type"] == "routing")
    steps = p["path"]
    return (logic, route, steps[0]["from"]["cell"], steps[-1]["to"]["cell"])


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    bundle, freq, picks = args[0], 125.0, []
    rest = args[1:]
    while rest:
        a = rest.pop(0)
        if a == "--freq":
            freq = float(rest.pop(0))
        else:
            picks.append(a)
    man = json.load(open(os.path.join(bundle, "manifest.json")))
    rtl = [os.path.join(bundle, f) for f in man["rtl"]]
    core = open(rtl[1]).read()
    mods = modules_of(core)
    prefix = next(n for n in mods if n.endswith("_core"))[: -len("_core")]
    layers = {n[len(prefix) + 1:]: n for n in mods
              if n.startswith(prefix + "_") and n not in (prefix + "_core", prefix + "_net")}
    if picks:
        missing = [p for p in picks if p not in layers]
        if missing:
            sys.exit(f"pnr_blocks: no module {missing} in {rtl[1]} (have {sorted(layers)})")
        chosen = picks
    else:
        seen, chosen = set(), []
        for s in sorted(layers):
            k = kind(s)
            if k not in seen:
                seen.add(k)
                chosen.append(s)
    yosys, nextpnr = shutil.which("yosys") or sys.exit("pnr_blocks: yosys not found"), tool(
        "nextpnr-ecp5")
    out_dir = os.path.join(bundle, "timing", "pnr")
    os.makedirs(out_dir, exist_ok=True)
    tsv = os.path.join(bundle, "timing", "ecp5_pnr.tsv")
    with open(tsv, "w") as f:
        f.write("module\tkind\tfmax_mhz\tlogic_ns\trouting_ns\tfrom\tto\tseconds\n")
    dev = man.get("device", {}).get("nextpnr") or "--85k --package CABGA381 --speed 6"
    for s in chosen:
        t0 = time.time()
        work = os.path.join(out_dir, s)
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(work, "harness.v"), "w") as f:
            f.write(harness(layers[s], mods[layers[s]]))
        srcs = " ".join(os.path.abspath(r) for r in rtl) + " harness.v"
        # $readmemh names mem/... from the bundle root: run where those files are.
        for d in ("mem",):
            link = os.path.join(work, d)
            if not os.path.exists(link) and os.path.isdir(os.path.join(bundle, d)):
                os.symlink(os.path.abspath(os.path.join(bundle, d)), link)
        y = subprocess.run([yosys, "-q", "-l", "yosys.log", "-p",
                            f"read_verilog -defer {srcs}; synth_ecp5 -top timing_harness "
                            "-json harness.json"], cwd=work, capture_output=True, text=True)
        if y.returncode != 0:
            row = [s, kind(s), "yosys-error", "", "", "", ""]
        else:
            subprocess.run([nextpnr, *dev.split(), "--json", "harness.json", "--freq", str(freq),
                            "--lpf-allow-unconstrained", "--timing-allow-fail", "--quiet",
                            "--report", "report.json", "--log", "nextpnr.log"],
                           cwd=work, capture_output=True, text=True)
            try:
                rep = json.load(open(os.path.join(work, "report.json")))
                fmax = min(c["achieved"] for c in rep["fmax"].values())
                lg, rt, fr, to = critical_path(rep)
                row = [s, kind(s), f"{fmax:.1f}", f"{lg:.2f}", f"{rt:.2f}", fr, to]
            except (OSError, ValueError, KeyError):
                row = [s, kind(s), "nextpnr-error", "", "", "", ""]
        row.append(str(int(time.time() - t0)))
        print("\t".join(row), flush=True)
        with open(tsv, "a") as f:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
