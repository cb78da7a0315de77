"""A register-to-register delay model of a Yosys JSON netlist (used by depth.py --family).

The longest path in nanoseconds, not in cells: each cell adds its own delay from a published
timing model, and each net between cells adds one routing hop, except the links a slice makes
without general routing (carry chains, a LUT into its slice's wide mux or carry). The model has
no placement, so a hop costs what routed nets of its fan-out cost in real designs:
- xc7, xcup: the medians of the routed nets between slices in public Vivado timing reports
  (2026-12-02 survey, docs/timing.md): Artix-7 speed grade -1 (5 reports, 172 nets) 0.645 ns
  at fan-out 1, 0.824 at 2-9, 1.151 at 10-99, 2.808 at 100 and more; UltraScale+ (7 reports,
  122 nets) 0.326 at fan-out 1-9, 0.814 at 10-99, 1.751 at 100 and more.
- ecp5: 0.87 ns whatever the fan-out, the median hop on the critical paths nextpnr-ecp5
  reported for our own designs (181 hops: mean 0.90, 90th percentile 1.33).
docs/timing.md compares the model with place and route on the ECP5.

Cell delays, by family (the slow corner; ns):
- xc7: Artix-7 speed grade -1 from Project X-Ray's database (prjxray-db artix7/timings:
  slicel.sdf, DSP_L.sdf), which holds Vivado's timing model: LUT 0.124-0.152, MUXF7 up to 0.314,
  MUXF8 up to 0.283, CARRY4 0.51-0.55 in and 0.117 a stage along the chain, flip-flop clock to
  out 0.36 and setup 0.11, DSP48E1 clock to P 0.434 with PREG, 2.305 from MREG, setup into MREG
  3.288 and into PREG through the multiplier 5.081. Block RAM clock to out, 2.46 without and
  0.89 with the output register, is the 7-series figure of the Spartan-7 data sheet (DS189,
  -1), which shares the block RAM; the data sheet of the Artix-7 was not at hand.
- xcup: no open cell model exists for UltraScale+. LUTs 0.10 (the -2 LUT delays of the
  surveyed Vivado reports, 0.090-0.099); DSP48E2 from the data sheet's maximum frequencies
  (DS925, -2): 1/775 MHz = 1.29 ns a stage with every register, 1/410 MHz = 2.44 ns through
  the multiplier without MREG; everything else the 7-series figures (slower than
  UltraScale+, so the model errs low on the clock).
- ecp5: LFE5U speed 6, the delays nextpnr-ecp5 reported on our critical paths: flip-flop clock
  to out 0.52, LUT4 0.24, wide mux 0.26, CCU2C 0.45 in and 0.07 along, block RAM clock to out
  5.83 without the output register, MULT18X18D 3.93 unregistered.
Shift registers (SRL) and LUT RAM are modelled coarsely: an SRL's clock to out 1.5 (assumed), a
LUT RAM's read as a 0.3 (xc7) or 0.4 ns (ecp5) cell from its read address; its data, write
address and enable are captured like a flip-flop's.
"""
from collections import defaultdict

# Routing delay of a hop by fan-out: [(fewest loads, ns), ...], highest first.
ROUTES = {
    "xc7": [(100, 2.808), (10, 1.151), (2, 0.824), (0, 0.645)],
    "xcup": [(100, 1.751), (10, 0.814), (0, 0.326)],
    "ecp5": [(0, 0.87)],
}

FAMILIES = {
    "xc7": dict(ff=(0.36, 0.11), lut=0.13, mux7=0.29, mux8=0.28, carry_in=0.55, carry_along=0.117,
                carry_out=0.21, bram=(2.46, 0.89, 0.6), lutram=0.3, srl=(1.5, 0.3),
                # DSP: clock to P with PREG, from MREG; setup into MREG, into PREG through the
                # multiplier; through the multiplier from an input register, from a port; C to P
                dsp=dict(preg=0.434, mreg=2.305, to_mreg=3.288, to_preg=5.081, inreg=5.37,
                         comb=5.2, c=1.8)),
    "ecp5": dict(ff=(0.52, 0.0), lut=0.24, mux7=0.26, mux8=0.26, carry_in=0.45, carry_along=0.07,
                 carry_out=0.37, bram=(5.83, 0.8, 0.13), lutram=0.4, srl=(1.5, 0.3)),
}
FAMILIES["xcup"] = dict(FAMILIES["xc7"], lut=0.10,
                        dsp=dict(preg=0.434, mreg=1.29, to_mreg=1.29, to_preg=2.44, inreg=2.44,
                                 comb=2.44, c=1.29))

CLOCK_PINS = ("C", "CLK", "WCLK", "CLKA", "CLKB", "WCK", "CLKARDCLK", "CLKBWRCLK")


def _on(params, name):
    v = str(params.get(name, "0"))
    return v not in ("", "NONE") and set(v) - {"0"} != set()


def _dsp_input_reg(params, base):
    """Whether a DSP48's input port A, B, C or D has its input register."""
    names = {"A": ("AREG",), "B": ("BREG",), "C": ("CREG",), "D": ("DREG", "ADREG")}[base]
    return any(_on(params, n) for n in names)


def _read_address(port):
    """A LUT RAM's read address pins (the read is combinational; data, write address and
    write enable are captured at the clock)."""
    return port.startswith(("RAD", "ADDRA", "ADDRB", "ADDRC", "DPRA")) or \
        (port[:1] == "A" and port[1:].isdigit())


def _is_clock(port):
    return port in CLOCK_PINS or port.startswith("CLK")


class Timing:
    """Per-cell timing: launch delay of registered outputs, setup of registered inputs, and the
    delay of a combinational arc from an input to an output (None: no arc)."""

    def __init__(self, family):
        self.f = FAMILIES[family]
        self.family = family

    def kind(self, t):
        if t.startswith(("FD", "TRELLIS_FF")):
            return "ff"
        if t.startswith(("RAMB", "URAM", "DP16KD", "PDPW16KD")):
            return "bram"
        if t.startswith(("RAM32", "RAM64", "RAM128", "RAM256", "TRELLIS_DPR16X4", "DPR16X4")):
            return "lutram"
        if t.startswith("SRL"):
            return "srl"
        if t.startswith("DSP48"):
            return "dsp"
        if t.startswith("MULT18X18"):
            return "mult"
        if t.startswith(("CARRY", "CCU2")):
            return "carry"
        if t.startswith(("MUXF7", "PFUMX")):
            return "mux7"
        if t.startswith(("MUXF8", "MUXF9", "L6MUX")):
            return "mux8"
        if t == "ALU54B":
            return "alu"
        return "lut"  # LUT1..6, LUT4, INV and other small logic

    def launch(self, cell, port):
        """Clock-to-out of a registered output, or None for a combinational one."""
        k, p = self.kind(cell["type"]), cell.get("parameters", {})
        if k == "ff":
            return self.f["ff"][0]
        if k == "bram":
            outreg = any(_on(p, n) for n in ("DOA_REG", "DOB_REG")) or \
                str(p.get("REGMODE_A", "")).startswith("OUTREG") or \
                str(p.get("REGMODE_B", "")).startswith("OUTREG")
            return self.f["bram"][1] if outreg else self.f["bram"][0]
        if k == "srl":
            return self.f["srl"][0]
        if k == "dsp":
            if _on(p, "PREG"):
                return self.f["dsp"]["preg"]
            if _on(p, "MREG"):
                return self.f["dsp"]["mreg"]
            if any(_on(p, n) for n in ("AREG", "BREG", "ADREG", "DREG")):
                return self.f["dsp"]["inreg"]  # through the multiplier from an input register
            return None
        if k == "mult":
            if str(p.get("REG_OUTPUT_CLK", "NONE")) != "NONE":
                return self.f["ff"][0]
            if str(p.get("REG_INPUTA_CLK", "NONE")) != "NONE":
                return self.f["ff"][0] + 3.93
            return None
        return None

    def setup(self, cell, port):
        """Setup of a registered input, or None for a combinational one."""
        k, p = self.kind(cell["type"]), cell.get("parameters", {})
        if k == "ff":
            return self.f["ff"][1]
        if k == "bram":
            return self.f["bram"][2]
        if k == "srl":
            return self.f["srl"][1]
        if k == "lutram":
            return None if _read_address(port) else self.f["ff"][1]
        if k == "dsp":
            base = port.rstrip("0123456789[]")
            if base in ("A", "B", "D", "C"):
                if _dsp_input_reg(p, base):
                    return 0.45
                if base == "C":
                    return self.f["dsp"]["c"] if _on(p, "PREG") else None
                if _on(p, "MREG"):
                    return self.f["dsp"]["to_mreg"]
                return self.f["dsp"]["to_preg"] if _on(p, "PREG") else None
            return 0.5  # control inputs (OPMODE, ALUMODE, CE, RST)
        if k == "mult":
            if str(p.get("REG_INPUTA_CLK", "NONE")) != "NONE":
                return 0.1
            if str(p.get("REG_OUTPUT_CLK", "NONE")) != "NONE":
                return 3.93
            return None
        return None

    def arc(self, cell, inport, outport):
        """Delay of a combinational arc, or None."""
        k = self.kind(cell["type"])
        f = self.f
        if k in ("ff", "bram", "srl"):
            return None
        if k == "lutram":
            return f["lutram"] if _read_address(inport) else None
        if k == "dsp":
            base = inport.rstrip("0123456789[]")
            if base not in ("A", "B", "D", "C") or _dsp_input_reg(cell.get("parameters", {}), base):
                return None
            if _on(cell.get("parameters", {}), "MREG") or _on(cell.get("parameters", {}), "PREG"):
                return None
            return self.f["dsp"]["c"] if base == "C" else self.f["dsp"]["comb"]
        if k == "mult":
            return None if self.launch(cell, outport) is not None else 3.93
        if k == "alu":
            return 2.0
        if k == "carry":
            along = inport in ("CI", "CIN")
            out_sum = not outport.startswith(("CO", "COUT"))
            d = f["carry_along"] if along else f["carry_in"]
            return d + (f["carry_out"] if out_sum else 0.0)
        if k == "mux7":
            return f["mux7"]
        if k == "mux8":
            return f["mux8"]
        return f["lut"]

    def route(self, src_cell, src_port, dst_cell, dst_port, fanout=1):
        """Routing delay of a net of `fanout` loads from one cell's output to another's input."""
        sk = self.kind(src_cell["type"]) if src_cell else None
        dk = self.kind(dst_cell["type"])
        if dk == "carry" and (dst_port in ("CI", "CIN") or
                              (sk == "lut" and not dst_port.startswith(("CYINIT",)))):
            return 0.0  # along the chain, or a LUT into its own slice's carry
        if dk in ("mux7", "mux8") and sk in ("lut", "mux7") and dst_port not in ("S", "C0", "SD"):
            return 0.0  # a LUT into its slice's wide mux
        return next(ns for least, ns in ROUTES[self.family] if fanout >= least)


def longest(cells, family):
    """The longest register-to-register path: (ns, [(cell, inport, outport, arrival)...],
    endpoint (cell, port) or None for a top-level output)."""
    tm = Timing(family)
    drv = {}
    loads = defaultdict(list)
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            for b in bits:
                if isinstance(b, str):
                    continue
                if dirs.get(port) == "output":
                    drv[b] = (name, port)
                elif not _is_clock(port):
                    loads[b].append((name, port))
    memo = {}
    back = {}
    port_launch = tm.f["ff"][0]  # a module port starts a path as a register would

    def arrival_bit(b):
        """Arrival time at the net `b` (at its driver's output pin)."""
        if b not in drv:
            return port_launch
        return arrival_pin(*drv[b])

    def arrival_pin(name, outport):
        key = (name, outport)
        if key in memo:
            return memo[key]
        c = cells[name]
        lt = tm.launch(c, outport)
        # An output can be both launched by a register and reached through a combinational
        # arc (a DSP48 with only one input registered): the later one counts.
        memo[key] = lt or 0.0  # also guards a combinational loop
        best, how = lt or 0.0, None
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output" or _is_clock(port):
                continue
            d = tm.arc(c, port, outport)
            if d is None:
                continue
            for b in bits:
                if isinstance(b, str):
                    continue
                src = drv.get(b)
                r = tm.route(cells[src[0]] if src else None, src[1] if src else None, c, port,
                             len(loads[b]))
                a = arrival_bit(b) + r + d
                if a > best:
                    best, how = a, (b, port)
        memo[key] = best
        back[key] = how
        return best

    worst, end = 0.0, None
    for name, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output" or _is_clock(port):
                continue
            s = tm.setup(c, port)
            if s is None:
                continue
            for b in bits:
                if isinstance(b, str) or b not in drv:
                    continue
                src = drv[b]
                t = arrival_bit(b) + tm.route(cells[src[0]], src[1], c, port, len(loads[b])) + s
                if t > worst:
                    worst, end = t, (name, port, b)
    path = []
    if end is not None:
        b = end[2]
        while b in drv:
            name, outport = drv[b]
            how = back.get((name, outport))
            path.append((name, outport, memo.get((name, outport), 0.0)))
            if how is None:
                break
            b = how[0]
        path.reverse()
    return worst, path, end
