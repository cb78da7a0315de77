//! The streaming blocks around the convolution engines: max pool, global average pool, bypass
//! add, concatenation, broadcast, width converter and FIFO. Each has a Rust model (`update()`)
//! and Verilog (`hdl()`) that are the same machine register for register, and ends in an
//! [`crate::fifo`] output FIFO unless noted.

use rust_hdl::prelude::*;
use squeezeflow_model::quant::{AddParams, Requant};

use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};
use crate::leaf::{self, abits};
use crate::HwError;

/// Depth of the small output FIFOs.
pub const FIFO_DEPTH: usize = 4;
/// Output FIFO depth of the blocks with a requantizer (average pool, bypass add): above their
/// four cycles from taking a beat to the FIFO, so they take one every cycle.
pub const RQ_FIFO_DEPTH: usize = 8;

fn lanes_in(p: &AxisIn) -> Vec<u8> {
    p.data().collect()
}
fn is(s: &Signal<In, Bit>) -> bool {
    s.val()
}

const UNUSED_TLAST: &str = "/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast = s_axis$tlast;\n/* verilator lint_on UNUSEDSIGNAL */\n";

// ------------------------------------------------------------------------------------------
/// 3x3 stride-2 ceil-mode max pool, fully streaming: one input beat a cycle, at most one output
/// beat per input beat. Holds a partial horizontal maximum per channel and a partial vertical
/// maximum per output column and channel (`wo * c` bytes).
#[derive(LogicBlock)]
pub struct MaxPool {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _g: PoolGeom,
    _st: Box<PoolState>,
}

/// Geometry of a max pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolGeom {
    pub name: String,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub ho: usize,
    pub wo: usize,
    pub lanes: usize,
}

impl PoolGeom {
    pub fn cg(&self) -> usize {
        self.c / self.lanes
    }
    /// One input beat a cycle.
    pub fn cycles_per_frame(&self) -> u64 {
        (self.h * self.w * self.cg()) as u64
    }
    pub fn memory_bits(&self) -> u64 {
        ((self.wo + 1) * self.c * 8 + FIFO_DEPTH * (self.lanes * 8 + 1)) as u64
    }
}

#[derive(Clone, Debug)]
struct PoolState {
    x: usize,
    y: usize,
    j: usize,
    hp: Vec<Vec<u8>>,
    vm: Vec<Vec<u8>>,
    fifo: OutFifo,
}

impl MaxPool {
    pub fn new(
        layer: &squeezeflow_model::network::PoolLayer,
        lanes: usize,
    ) -> Result<Self, HwError> {
        if layer.kernel != 3 || layer.stride != 2 {
            return Err(HwError::Folding(format!(
                "{}: only 3x3 stride-2 max pools are supported",
                layer.name
            )));
        }
        if lanes == 0 || !layer.input.c.is_multiple_of(lanes) {
            return Err(HwError::Folding(format!(
                "{}: {lanes} lanes do not divide {} channels",
                layer.name, layer.input.c
            )));
        }
        let g = PoolGeom {
            name: layer.name.clone(),
            h: layer.input.h,
            w: layer.input.w,
            c: layer.input.c,
            ho: layer.output.h,
            wo: layer.output.w,
            lanes,
        };
        let st = PoolState {
            x: 0,
            y: 0,
            j: 0,
            hp: vec![vec![0; lanes]; g.cg()],
            vm: vec![vec![0; lanes]; g.wo * g.cg()],
            fifo: OutFifo::new(FIFO_DEPTH),
        };
        Ok(MaxPool {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            _g: g,
            _st: Box::new(st),
        })
    }
    pub fn geom(&self) -> &PoolGeom {
        &self._g
    }
    fn edge(&mut self) {
        let g = &self._g;
        let st = &mut self._st;
        if is(&self.reset) {
            st.x = 0;
            st.y = 0;
            st.j = 0;
            st.fifo.clear();
            return;
        }
        let ready = st.fifo.len() < FIFO_DEPTH;
        let fire = ready && is(&self.s_axis.tvalid);
        let pop = st.fifo.pops(&self.m_axis);
        let mut push = None;
        if fire {
            let v = lanes_in(&self.s_axis);
            let (x, y, j) = (st.x, st.y, st.j);
            let xeven = x % 2 == 0;
            let h_emit = x != 0 && (xeven || x == g.w - 1);
            let hox = if xeven {
                (x / 2).wrapping_sub(1)
            } else {
                g.wo - 1
            };
            let hmax: Vec<u8> = st.hp[j].iter().zip(&v).map(|(a, b)| *a.max(b)).collect();
            st.hp[j] = if xeven { v.clone() } else { hmax.clone() };
            if h_emit {
                let yeven = y % 2 == 0;
                let v_emit = y != 0 && (yeven || y == g.h - 1);
                let voy = if yeven {
                    (y / 2).wrapping_sub(1)
                } else {
                    g.ho - 1
                };
                let a = hox * g.cg() + j;
                let vmax: Vec<u8> = st.vm[a].iter().zip(&hmax).map(|(p, q)| *p.max(q)).collect();
                st.vm[a] = if yeven { hmax.clone() } else { vmax.clone() };
                if v_emit {
                    let last = voy == g.ho - 1 && hox == g.wo - 1 && j == g.cg() - 1;
                    push = Some((vmax, last));
                }
            }
            st.j += 1;
            if st.j == g.cg() {
                st.j = 0;
                st.x += 1;
                if st.x == g.w {
                    st.x = 0;
                    st.y += 1;
                    if st.y == g.h {
                        st.y = 0;
                    }
                }
            }
        }
        st.fifo.edge(push, pop);
    }
}

impl Logic for MaxPool {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        let ready = !is(&self.reset) && self._st.fifo.len() < FIFO_DEPTH;
        self.s_axis.tready.next = ready;
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let g = &self._g;
        let s = AxisNames::new("s_axis");
        let cg = g.cg();
        let mut v = format!(
            "// {name}: 3x3/2 ceil max pool, {h}x{w}x{c} -> {ho}x{wo}x{c}, {l} lanes\n{UNUSED_TLAST}\
reg [31:0] x, y, j;\n\
wire fire = {tv} && {tr};\n\
always @(*) {tr} = !reset && (f_count < {fd});\n\
wire xeven = !x[0];\n\
wire h_emit = (x != 0) && (xeven || (x == {wm1}));\n\
wire [31:0] hox = xeven ? (x >> 1) - 1 : {wom1};\n\
wire yeven = !y[0];\n\
wire v_emit = h_emit && (y != 0) && (yeven || (y == {hm1}));\n\
wire [31:0] voy = yeven ? (y >> 1) - 1 : {hom1};\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire [31:0] va = {va_mul} + j;\n/* verilator lint_on UNUSEDSIGNAL */\n",
            name = g.name, h = g.h, w = g.w, c = g.c, ho = g.ho, wo = g.wo, l = g.lanes,
            tv = s.tvalid(), tr = s.tready(), fd = FIFO_DEPTH,
            wm1 = g.w - 1, wom1 = g.wo - 1, hm1 = g.h - 1, hom1 = g.ho - 1,
            va_mul = crate::leaf::const_mul("hox", cg),
        );
        let ab_h = abits(cg);
        let ab_v = abits(g.wo * cg);
        // The row buffers are written one cycle late from registers (`wpend`, `wa_d`, `wd`),
        // with a bypass for a read of the word being written: their write address is then a
        // register apart from the read address, so Yosys maps them as simple dual-port LUTRAM
        // (on UltraScale+, Yosys 0.23 cannot map these asynchronous-read single-port RAMs).
        // The behaviour is the same.
        v.push_str(&format!(
            "reg wpend;\nreg [{abvm}:0] wa_d;\nalways @(posedge clock) begin\n    wpend <= !reset && fire && h_emit;\n    wa_d <= va[{abvm}:0];\nend\n",
            abvm = ab_v - 1
        ));
        let mut data = Vec::new();
        for l in 0..g.lanes {
            v.push_str(&format!(
                "reg [7:0] hp{l} [0:{cgm}];\nreg [7:0] vm{l} [0:{vmm}];\n\
wire [7:0] in{l} = {d};\n\
wire [7:0] hpo{l} = hp{l}[j[{abhm}:0]];\n\
wire [7:0] hmax{l} = (hpo{l} > in{l}) ? hpo{l} : in{l};\n\
reg [7:0] wd{l};\n\
wire [7:0] vmo{l} = (wpend && (wa_d == va[{abvm}:0])) ? wd{l} : vm{l}[va[{abvm}:0]];\n\
wire [7:0] vmax{l} = (vmo{l} > hmax{l}) ? vmo{l} : hmax{l};\n\
always @(posedge clock) if (fire) hp{l}[j[{abhm}:0]] <= xeven ? in{l} : hmax{l};\n\
always @(posedge clock) begin\n    wd{l} <= yeven ? hmax{l} : vmax{l};\n    if (wpend) vm{l}[wa_d] <= wd{l};\nend\n",
                cgm = cg - 1,
                vmm = g.wo * cg - 1,
                d = s.tdata(l),
                abhm = ab_h - 1,
                abvm = ab_v - 1,
            ));
            data.push(format!("vmax{l}"));
        }
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            g.lanes,
            FIFO_DEPTH,
            "fire && v_emit",
            &data,
            &format!(
                "(voy == {}) && (hox == {}) && (j == {})",
                g.ho - 1,
                g.wo - 1,
                cg - 1
            ),
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        x <= 0; y <= 0; j <= 0;\n    end else if (fire) begin\n        if (j == {cgm1}) begin\n            j <= 0;\n            if (x == {wm1}) begin\n                x <= 0;\n                y <= (y == {hm1}) ? 0 : y + 1;\n            end else x <= x + 1;\n        end else j <= j + 1;\n    end\nend\n",
            cgm1 = cg - 1,
            wm1 = g.w - 1,
            hm1 = g.h - 1
        ));
        Verilog::Custom(v)
    }
}

// ------------------------------------------------------------------------------------------
/// Global average pool: sums each channel over the map in `i32`, then drains the sums through
/// the logit requantizer (`sqf_requant`, 16-bit output). Output: one logit a beat, two lanes
/// (low byte, high byte). Cycles per frame: input beats + channels + 4.
#[derive(LogicBlock)]
pub struct AvgPool {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _g: GapGeom,
    _st: Box<GapState>,
}

/// Geometry of a global average pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapGeom {
    pub name: String,
    pub pixels: usize,
    pub c: usize,
    pub lanes: usize,
    pub requant: Requant,
}

impl GapGeom {
    pub fn cg(&self) -> usize {
        self.c / self.lanes
    }
    pub fn cycles_per_frame(&self) -> u64 {
        (self.pixels * self.cg() + self.c + 4) as u64
    }
    pub fn memory_bits(&self) -> u64 {
        (self.c * 32 + RQ_FIFO_DEPTH * 17) as u64
    }
}

#[derive(Clone, Debug)]
struct GapState {
    p: usize,
    j: usize,
    drain: bool,
    dc: usize,
    sums: Vec<Vec<i32>>,
    inflight: usize,
    r1: i32,
    v1: bool,
    last1: bool,
    m2: i64,
    vm: bool,
    lastm: bool,
    p2: i64,
    v2: bool,
    last2: bool,
    y3: i32,
    v3: bool,
    last3: bool,
    fifo: OutFifo,
}

impl AvgPool {
    pub fn new(
        name: &str,
        pixels: usize,
        c: usize,
        lanes: usize,
        requant: Requant,
    ) -> Result<Self, HwError> {
        if lanes == 0 || !c.is_multiple_of(lanes) {
            return Err(HwError::Folding(format!(
                "{name}: {lanes} lanes do not divide {c} channels"
            )));
        }
        let g = GapGeom {
            name: name.to_string(),
            pixels,
            c,
            lanes,
            requant,
        };
        let st = GapState {
            p: 0,
            j: 0,
            drain: false,
            dc: 0,
            sums: vec![vec![0; g.cg()]; lanes],
            inflight: 0,
            r1: 0,
            v1: false,
            last1: false,
            m2: 0,
            vm: false,
            lastm: false,
            p2: 0,
            v2: false,
            last2: false,
            y3: 0,
            v3: false,
            last3: false,
            fifo: OutFifo::new(RQ_FIFO_DEPTH),
        };
        Ok(AvgPool {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(2),
            _g: g,
            _st: Box::new(st),
        })
    }
    pub fn geom(&self) -> &GapGeom {
        &self._g
    }
    fn edge(&mut self) {
        let g = self._g.clone();
        let st = &mut self._st;
        if is(&self.reset) {
            st.p = 0;
            st.j = 0;
            st.drain = false;
            st.dc = 0;
            st.inflight = 0;
            st.v1 = false;
            st.vm = false;
            st.v2 = false;
            st.v3 = false;
            st.fifo.clear();
            return;
        }
        let fire = !st.drain && is(&self.s_axis.tvalid);
        let issue = st.drain && st.fifo.len() + st.inflight < RQ_FIFO_DEPTH;
        let pop = st.fifo.pops(&self.m_axis);
        let pushed = st.v3;
        let push = pushed.then(|| (vec![st.y3 as u8, (st.y3 >> 8) as u8], st.last3));
        st.fifo.edge(push, pop);
        st.y3 = leaf::requant_stage2(st.p2, g.requant.shift, 16);
        st.v3 = st.v2;
        st.last3 = st.last2;
        st.p2 = leaf::requant_round(st.m2, g.requant.shift);
        st.v2 = st.vm;
        st.last2 = st.lastm;
        st.m2 = leaf::requant_product(st.r1, g.requant.mult);
        st.vm = st.v1;
        st.lastm = st.last1;
        st.inflight = st.inflight + issue as usize - pushed as usize;
        if issue {
            st.r1 = st.sums[st.dc % g.lanes][st.dc / g.lanes];
            st.last1 = st.dc == g.c - 1;
            if st.dc == g.c - 1 {
                st.dc = 0;
                st.drain = false;
            } else {
                st.dc += 1;
            }
        }
        st.v1 = issue;
        if fire {
            let v: Vec<u8> = self.s_axis.data().collect();
            for (l, &b) in v.iter().enumerate() {
                let old = if st.p == 0 { 0 } else { st.sums[l][st.j] };
                st.sums[l][st.j] = old.wrapping_add(b as i32);
            }
            st.j += 1;
            if st.j == g.cg() {
                st.j = 0;
                st.p += 1;
                if st.p == g.pixels {
                    st.p = 0;
                    st.drain = true;
                }
            }
        }
    }
}

impl Logic for AvgPool {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        let ready = !is(&self.reset) && !self._st.drain;
        self.s_axis.tready.next = ready;
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let g = &self._g;
        let s = AxisNames::new("s_axis");
        let cg = g.cg();
        let ab = abits(cg);
        let fb = abits(RQ_FIFO_DEPTH);
        let mut v = format!(
            "// {name}: global average pool of {px} pixels x {c} channels, {l} lanes; logits u16 = requant(sum, {m}, {sh})\n{UNUSED_TLAST}\
reg [31:0] p, j, dc, inflight;\nreg drain;\n\
always @(*) {tr} = !reset && !drain;\n\
wire fire = {tv} && {tr};\n\
wire issue = !reset && drain && (({{{padw}'d0, f_count}} + inflight) < {fd});\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire [31:0] dl = dc % {l};\nwire [31:0] dj = dc / {l};\n/* verilator lint_on UNUSEDSIGNAL */\n\
reg signed [31:0] r1;\nreg v1, last1, vm, lastm, v2, last2, v3, last3;\nwire [15:0] y3;\n\
sqf_requant #(.OUT_BITS(16)) rq (.clock(clock), .acc(r1), .mult(16'd{m}), .shift(6'd{sh}), .y(y3));\n",
            name = g.name, px = g.pixels, c = g.c, l = g.lanes, m = g.requant.mult, sh = g.requant.shift,
            tr = s.tready(), tv = s.tvalid(), padw = 32 - (fb + 1), fd = RQ_FIFO_DEPTH,
        );
        let mut mux = String::from("32'sd0");
        for l in (0..g.lanes).rev() {
            v.push_str(&format!(
                "reg signed [31:0] sum{l} [0:{cgm}];\nalways @(posedge clock) if (fire) sum{l}[j[{abm}:0]] <= ((p == 0) ? 32'sd0 : sum{l}[j[{abm}:0]]) + $signed({{24'd0, {d}}});\n",
                cgm = cg - 1,
                abm = ab - 1,
                d = s.tdata(l)
            ));
            mux = format!("(dl == {l}) ? sum{l}[dj[{abm}:0]] : {mux}", abm = ab - 1);
        }
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            2,
            RQ_FIFO_DEPTH,
            "v3",
            &["y3[7:0]".to_string(), "y3[15:8]".to_string()],
            "last3",
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        p <= 0; j <= 0; dc <= 0; drain <= 0; inflight <= 0;\n        v1 <= 0; vm <= 0; v2 <= 0; v3 <= 0; last1 <= 0; lastm <= 0; last2 <= 0; last3 <= 0;\n    end else begin\n        v3 <= v2; last3 <= last2;\n        v2 <= vm; last2 <= lastm;\n        vm <= v1; lastm <= last1;\n        v1 <= issue;\n        inflight <= inflight + {{31'd0, issue}} - {{31'd0, v3}};\n        if (issue) begin\n            r1 <= {mux};\n            last1 <= (dc == {cm1});\n            if (dc == {cm1}) begin dc <= 0; drain <= 0; end else dc <= dc + 1;\n        end\n        if (fire) begin\n            if (j == {cgm1}) begin\n                j <= 0;\n                if (p == {pm1}) begin p <= 0; drain <= 1; end else p <= p + 1;\n            end else j <= j + 1;\n        end\n    end\nend\n",
            cm1 = g.c - 1,
            cgm1 = cg - 1,
            pm1 = g.pixels - 1
        ));
        Verilog::Custom(v)
    }
}

// ------------------------------------------------------------------------------------------
/// Bypass add: `y = requant(a * ka + b * kb)` lane by lane (`s_axis` is `a`, the concatenated
/// expand output; `s_axis_b` is `b`, the bypass). Takes a beat when both inputs offer one and
/// the output has room. Latency 4 + FIFO.
#[derive(LogicBlock)]
pub struct BypassAdd {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub s_axis_b: AxisIn,
    pub m_axis: AxisOut,
    _name: String,
    _p: AddParams,
    _st: Box<AddState>,
}

#[derive(Clone, Debug)]
struct AddState {
    inflight: usize,
    acc1: Vec<i32>,
    v1: bool,
    last1: bool,
    m2: Vec<i64>,
    vm: bool,
    lastm: bool,
    p2: Vec<i64>,
    v2: bool,
    last2: bool,
    y3: Vec<u8>,
    v3: bool,
    last3: bool,
    fifo: OutFifo,
}

impl BypassAdd {
    pub fn new(name: &str, lanes: usize, params: AddParams) -> Self {
        BypassAdd {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            s_axis_b: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            _name: name.to_string(),
            _p: params,
            _st: Box::new(AddState {
                inflight: 0,
                acc1: vec![0; lanes],
                v1: false,
                last1: false,
                m2: vec![0; lanes],
                vm: false,
                lastm: false,
                p2: vec![0; lanes],
                v2: false,
                last2: false,
                y3: vec![0; lanes],
                v3: false,
                last3: false,
                fifo: OutFifo::new(RQ_FIFO_DEPTH),
            }),
        }
    }
    fn ready(&self) -> bool {
        !is(&self.reset)
            && self._st.fifo.len() + self._st.inflight < RQ_FIFO_DEPTH
            && is(&self.s_axis.tvalid)
            && is(&self.s_axis_b.tvalid)
    }
    fn edge(&mut self) {
        if is(&self.reset) {
            let st = &mut self._st;
            st.inflight = 0;
            st.v1 = false;
            st.vm = false;
            st.v2 = false;
            st.v3 = false;
            st.fifo.clear();
            return;
        }
        let fire = self.ready();
        let a: Vec<u8> = self.s_axis.data().collect();
        let b: Vec<u8> = self.s_axis_b.data().collect();
        let last_in = is(&self.s_axis.tlast);
        let p = self._p;
        let st = &mut self._st;
        let pop = st.fifo.pops(&self.m_axis);
        let pushed = st.v3;
        st.fifo.edge(pushed.then(|| (st.y3.clone(), st.last3)), pop);
        for l in 0..st.y3.len() {
            st.y3[l] = leaf::requant_stage2(st.p2[l], p.requant.shift, 8) as u8;
            st.p2[l] = leaf::requant_round(st.m2[l], p.requant.shift);
            st.m2[l] = leaf::requant_product(st.acc1[l], p.requant.mult);
        }
        st.v3 = st.v2;
        st.last3 = st.last2;
        st.v2 = st.vm;
        st.last2 = st.lastm;
        st.vm = st.v1;
        st.lastm = st.last1;
        if fire {
            for l in 0..a.len() {
                st.acc1[l] = a[l] as i32 * p.ka as i32 + b[l] as i32 * p.kb as i32;
            }
            st.last1 = last_in;
        }
        st.v1 = fire;
        st.inflight = st.inflight + fire as usize - pushed as usize;
    }
}

impl Logic for BypassAdd {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        let r = self.ready();
        self.s_axis.tready.next = r;
        self.s_axis_b.tready.next = r;
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.s_axis_b.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let lanes = self.m_axis.lanes();
        let (a, b) = (AxisNames::new("s_axis"), AxisNames::new("s_axis_b"));
        let p = self._p;
        let fb = abits(RQ_FIFO_DEPTH);
        let mut v = format!(
            "// {name}: bypass add, y = requant(a * {ka} + b * {kb}, {m}, {sh}), {lanes} lanes\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast_b = {bl};\n/* verilator lint_on UNUSEDSIGNAL */\n\
reg [31:0] inflight;\nreg v1, last1, vm, lastm, v2, last2, v3, last3;\n\
wire ready = !reset && (({{{padw}'d0, f_count}} + inflight) < {fd}) && {av} && {bv};\n\
always @(*) {ar} = ready;\nalways @(*) {br} = ready;\n",
            name = self._name, ka = p.ka, kb = p.kb, m = p.requant.mult, sh = p.requant.shift,
            bl = b.tlast(), padw = 32 - (fb + 1), fd = RQ_FIFO_DEPTH,
            av = a.tvalid(), bv = b.tvalid(), ar = a.tready(), br = b.tready(),
        );
        let mut data = Vec::new();
        for l in 0..lanes {
            v.push_str(&format!(
                "reg signed [31:0] acc{l};\nalways @(posedge clock) if (ready) acc{l} <= $signed({{14'd0, {ad}}}) * $signed(32'd{ka}) + $signed({{14'd0, {bd}}}) * $signed(32'd{kb});\n\
wire [7:0] y{l};\nsqf_requant #(.OUT_BITS(8)) rq{l} (.clock(clock), .acc(acc{l}), .mult(16'd{m}), .shift(6'd{sh}), .y(y{l}));\n",
                ad = a.tdata(l), bd = b.tdata(l), ka = p.ka, kb = p.kb, m = p.requant.mult, sh = p.requant.shift,
            ));
            data.push(format!("y{l}"));
        }
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            lanes,
            RQ_FIFO_DEPTH,
            "v3",
            &data,
            "last3",
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        inflight <= 0; v1 <= 0; vm <= 0; v2 <= 0; v3 <= 0; last1 <= 0; lastm <= 0; last2 <= 0; last3 <= 0;\n    end else begin\n        v3 <= v2; last3 <= last2; v2 <= vm; last2 <= lastm; vm <= v1; lastm <= last1;\n        v1 <= ready;\n        if (ready) last1 <= {al};\n        inflight <= inflight + {{31'd0, ready}} - {{31'd0, v3}};\n    end\nend\n",
            al = a.tlast()
        ));
        Verilog::Custom(v)
    }
}

// ------------------------------------------------------------------------------------------
/// Per-pixel concatenation: `n_a` beats from `s_axis` (expand1x1), then `n_b` beats from
/// `s_axis_b` (expand3x3), pixel after pixel. `tlast` comes from `s_axis_b`.
#[derive(LogicBlock)]
pub struct Concat {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub s_axis_b: AxisIn,
    pub m_axis: AxisOut,
    _n_a: usize,
    _n_b: usize,
    _st: Box<(bool, usize, OutFifo)>,
}

impl Concat {
    /// `c_a`, `c_b`: channels per pixel of each input; `lanes` must divide both.
    pub fn new(lanes: usize, c_a: usize, c_b: usize) -> Result<Self, HwError> {
        if lanes == 0 || !c_a.is_multiple_of(lanes) || !c_b.is_multiple_of(lanes) {
            return Err(HwError::Folding(format!(
                "concat: {lanes} lanes do not divide {c_a} and {c_b}"
            )));
        }
        Ok(Concat {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            s_axis_b: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            _n_a: c_a / lanes,
            _n_b: c_b / lanes,
            _st: Box::new((false, 0, OutFifo::new(FIFO_DEPTH))),
        })
    }
    fn readies(&self) -> (bool, bool) {
        let ok = !is(&self.reset) && self._st.2.len() < FIFO_DEPTH;
        (ok && !self._st.0, ok && self._st.0)
    }
}

impl Logic for Concat {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if is(&self.reset) {
                *self._st = (false, 0, OutFifo::new(FIFO_DEPTH));
            } else {
                let (ra, rb) = self.readies();
                let fa = ra && is(&self.s_axis.tvalid);
                let fb = rb && is(&self.s_axis_b.tvalid);
                let push = if fa {
                    Some((self.s_axis.data().collect::<Vec<u8>>(), false))
                } else if fb {
                    Some((
                        self.s_axis_b.data().collect::<Vec<u8>>(),
                        is(&self.s_axis_b.tlast),
                    ))
                } else {
                    None
                };
                let pop = self._st.2.pops(&self.m_axis);
                let (n_a, n_b) = (self._n_a, self._n_b);
                let st = &mut self._st;
                st.2.edge(push, pop);
                if fa || fb {
                    let n = if st.0 { n_b } else { n_a };
                    if st.1 == n - 1 {
                        st.1 = 0;
                        st.0 = !st.0;
                    } else {
                        st.1 += 1;
                    }
                }
            }
        }
        let (ra, rb) = self.readies();
        self.s_axis.tready.next = ra;
        self.s_axis_b.tready.next = rb;
        self._st.2.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.s_axis_b.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let lanes = self.m_axis.lanes();
        let (a, b) = (AxisNames::new("s_axis"), AxisNames::new("s_axis_b"));
        let mut v = format!(
            "// concat: {na} beats from s_axis then {nb} from s_axis_b per pixel, {lanes} lanes\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast_a = {al};\n/* verilator lint_on UNUSEDSIGNAL */\n\
reg phase;\nreg [31:0] cnt;\n\
wire ok = !reset && (f_count < {fd});\n\
always @(*) {ar} = ok && !phase;\nalways @(*) {br} = ok && phase;\n\
wire fa = {ar} && {av};\nwire fb = {br} && {bv};\n",
            na = self._n_a, nb = self._n_b, al = a.tlast(), fd = FIFO_DEPTH,
            ar = a.tready(), br = b.tready(), av = a.tvalid(), bv = b.tvalid(),
        );
        let data: Vec<String> = (0..lanes)
            .map(|l| format!("(fa ? {} : {})", a.tdata(l), b.tdata(l)))
            .collect();
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            lanes,
            FIFO_DEPTH,
            "fa || fb",
            &data,
            &format!("!fa && {}", b.tlast()),
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        phase <= 0; cnt <= 0;\n    end else if (fa || fb) begin\n        if (cnt == (phase ? {nbm} : {nam})) begin cnt <= 0; phase <= !phase; end else cnt <= cnt + 1;\n    end\nend\n",
            nam = self._n_a - 1,
            nbm = self._n_b - 1
        ));
        Verilog::Custom(v)
    }
}

// ------------------------------------------------------------------------------------------
/// Broadcast: every input beat goes to both outputs (`m_axis`, `m_axis_b`), each behind its
/// own FIFO; the input waits until both have room.
#[derive(LogicBlock)]
pub struct Broadcast {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    pub m_axis_b: AxisOut,
    _st: Box<(OutFifo, OutFifo)>,
}

impl Broadcast {
    pub fn new(lanes: usize) -> Self {
        Broadcast {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            m_axis_b: AxisOut::new(lanes),
            _st: Box::new((OutFifo::new(FIFO_DEPTH), OutFifo::new(FIFO_DEPTH))),
        }
    }
    fn ready(&self) -> bool {
        !is(&self.reset) && self._st.0.len() < FIFO_DEPTH && self._st.1.len() < FIFO_DEPTH
    }
}

impl Logic for Broadcast {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if is(&self.reset) {
                self._st.0.clear();
                self._st.1.clear();
            } else {
                let fire = self.ready() && is(&self.s_axis.tvalid);
                let beat = fire.then(|| {
                    (
                        self.s_axis.data().collect::<Vec<u8>>(),
                        is(&self.s_axis.tlast),
                    )
                });
                let (pa, pb) = (
                    self._st.0.pops(&self.m_axis),
                    self._st.1.pops(&self.m_axis_b),
                );
                self._st.0.edge(beat.clone(), pa);
                self._st.1.edge(beat, pb);
            }
        }
        self.s_axis.tready.next = self.ready();
        self._st.0.drive(&mut self.m_axis);
        self._st.1.drive(&mut self.m_axis_b);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
        self.m_axis_b.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let lanes = self.s_axis.lanes();
        let s = AxisNames::new("s_axis");
        let mut v = format!(
            "// broadcast, {lanes} lanes\nalways @(*) {tr} = !reset && (fa_count < {fd}) && (fb_count < {fd});\nwire fire = {tr} && {tv};\n",
            tr = s.tready(),
            tv = s.tvalid(),
            fd = FIFO_DEPTH
        );
        let data: Vec<String> = (0..lanes).map(|l| s.tdata(l)).collect();
        v.push_str(&fifo::verilog(
            "fa",
            "m_axis",
            lanes,
            FIFO_DEPTH,
            "fire",
            &data,
            &s.tlast(),
        ));
        v.push_str(&fifo::verilog(
            "fb",
            "m_axis_b",
            lanes,
            FIFO_DEPTH,
            "fire",
            &data,
            &s.tlast(),
        ));
        Verilog::Custom(v)
    }
}

// ------------------------------------------------------------------------------------------
/// Width converter: `w_in` bytes a beat in, `w_out` bytes a beat out, in order; `tlast` on the
/// beat that completes a frame of `frame_bytes`. No output FIFO: the byte buffer is the output.
/// Cycles per frame: `frame_bytes / min(w_in, w_out)`.
///
/// When one width is a multiple `k` of the other (the common case: a wide expand feeding a
/// narrow concatenation, a narrow squeeze feeding a wide expand), the buffer is two banks of the
/// wider width (`2 * max` bytes) in slots of the narrower: the wide side reads or writes a
/// whole bank, the narrow side one slot, so each output byte is a `2k`:1 or 2:1 multiplexer.
/// Otherwise the buffer is a shift register of `2 * (w_in + w_out)` bytes, each byte loadable
/// from any input lane (measured with Yosys: a 32 -> 4 gearbox built that way took about
/// 6,000 LUTs). Either way the behaviour is a byte FIFO of the buffer's size.
#[derive(LogicBlock)]
pub struct Gearbox {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _frame: usize,
    _st: Box<(Vec<u8>, usize)>,
}

impl Gearbox {
    pub fn new(w_in: usize, w_out: usize, frame_bytes: usize) -> Result<Self, HwError> {
        if w_in == 0
            || w_out == 0
            || !frame_bytes.is_multiple_of(w_in)
            || !frame_bytes.is_multiple_of(w_out)
        {
            return Err(HwError::Folding(format!(
                "gearbox {w_in} -> {w_out} bytes does not divide a {frame_bytes}-byte frame"
            )));
        }
        Ok(Gearbox {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(w_in),
            m_axis: AxisOut::new(w_out),
            _frame: frame_bytes,
            _st: Box::new((Vec::new(), 0)),
        })
    }
    /// The width ratio `k` when one width is `k > 1` times the other (the banked buffer).
    fn ratio(&self) -> Option<usize> {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let (hi, lo) = (wi.max(wo), wi.min(wo));
        (hi != lo && hi.is_multiple_of(lo)).then_some(hi / lo)
    }
    /// Buffer bytes: room for a push whenever a pop is due keeps both sides at full rate.
    fn cap(&self) -> usize {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        match self.ratio() {
            Some(_) => 2 * wi.max(wo),
            None => 2 * (wi + wo),
        }
    }
    fn ready(&self) -> bool {
        !is(&self.reset) && self._st.0.len() + self.s_axis.lanes() <= self.cap()
    }
}

impl Logic for Gearbox {
    fn update(&mut self) {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        if self.clock.pos_edge() {
            if is(&self.reset) {
                *self._st = (Vec::new(), 0);
            } else {
                let push = self.ready() && is(&self.s_axis.tvalid);
                let pop = self._st.0.len() >= wo && is(&self.m_axis.tready);
                let input: Vec<u8> = self.s_axis.data().collect();
                let frame = self._frame;
                let st = &mut self._st;
                if pop {
                    st.0.drain(..wo);
                    st.1 = if st.1 + wo == frame { 0 } else { st.1 + wo };
                }
                if push {
                    st.0.extend_from_slice(&input[..wi]);
                }
            }
        }
        let valid = self._st.0.len() >= wo;
        self.s_axis.tready.next = self.ready();
        self.m_axis.tvalid.next = valid;
        if valid {
            let bytes: Vec<u8> = self._st.0[..wo].to_vec();
            self.m_axis.set_data(bytes);
        }
        self.m_axis.tlast.next = valid && self._st.1 + wo == self._frame;
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let cap = self.cap();
        let (s, m) = (AxisNames::new("s_axis"), AxisNames::new("m_axis"));
        let cb = abits(cap + 1);
        let mut v = format!(
            "// gearbox {wi} -> {wo} bytes a beat, frames of {fr} bytes\n{UNUSED_TLAST}\
reg [{cbm}:0] count;\nreg [31:0] done;\n\
always @(*) {tr} = !reset && ({{1'b0, count}} + {wi} <= {cap});\n\
wire push = {tr} && {tv};\n\
wire valid = (count >= {wo});\nwire pop = valid && {mr};\n\
always @(*) {mv} = valid;\nalways @(*) {ml} = valid && (done == {last_at});\n\
wire [{cbm}:0] keep = count - (pop ? {cb}'d{wo} : {cb}'d0);\n",
            fr = self._frame,
            cbm = cb - 1,
            tr = s.tready(),
            tv = s.tvalid(),
            mr = m.tready(),
            mv = m.tvalid(),
            ml = m.tlast(),
            last_at = self._frame - wo,
        );
        if let Some(k) = self.ratio() {
            v.push_str(&self.banked_verilog(k, cb));
            return Verilog::Custom(v);
        }
        for i in 0..cap {
            v.push_str(&format!("reg [7:0] b{i};\n"));
        }
        for l in 0..wo {
            v.push_str(&format!("always @(*) {} = b{l};\n", m.tdata(l)));
        }
        v.push_str("always @(posedge clock) begin\n    if (reset) begin\n        count <= 0; done <= 0;\n    end else begin\n");
        v.push_str(&format!(
            "        count <= keep + (push ? {cb}'d{wi} : {cb}'d0);\n        if (pop) done <= (done == {last_at}) ? 0 : done + {wo};\n",
            last_at = self._frame - wo
        ));
        for i in 0..cap {
            let shifted = if i + wo < cap {
                format!("b{}", i + wo)
            } else {
                "8'd0".to_string()
            };
            // Byte i comes from input lane (i - keep) when pushing and i >= keep.
            let mut chain = format!("(pop ? {shifted} : b{i})");
            for l in (0..wi).rev() {
                chain = format!(
                    "(push && ({cb}'d{i} == keep + {cb}'d{l})) ? {} : {chain}",
                    s.tdata(l)
                );
            }
            v.push_str(&format!("        b{i} <= {chain};\n"));
        }
        v.push_str("    end\nend\n");
        Verilog::Custom(v)
    }
}

impl Gearbox {
    /// The banked buffer's Verilog (after the common flow control of `hdl`): `2k` slots of
    /// `g = min(w_in, w_out)` bytes, `b<slot>_<byte>`. Going down (`w_in = k g`), a push writes
    /// bank `tail` (slots `k tail ..`) and a pop reads slot `head`; going up (`w_out = k g`), a
    /// push writes slot `tail` and a pop reads bank `head`.
    fn banked_verilog(&self, k: usize, cb: usize) -> String {
        use std::fmt::Write;
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let (s, m) = (AxisNames::new("s_axis"), AxisNames::new("m_axis"));
        let g = wi.min(wo);
        let n = 2 * k;
        let sb = abits(n).max(1);
        let down = wi > wo;
        let mut v = String::new();
        let _ = writeln!(
            v,
            "// banked: {n} slots of {g} bytes ({})",
            if down {
                "a bank in, a slot out"
            } else {
                "a slot in, a bank out"
            }
        );
        for j in 0..n {
            for b in 0..g {
                let _ = writeln!(v, "reg [7:0] b{j}_{b};");
            }
        }
        // Pointers: the slot side counts slots (0 .. 2k-1), the bank side one bit.
        let (head_w, tail_w) = if down { (sb, 1) } else { (1, sb) };
        let _ = writeln!(
            v,
            "reg [{}:0] head;\nreg [{}:0] tail;",
            head_w - 1,
            tail_w - 1
        );
        for l in 0..wo {
            // Output lane l: byte l of slot `head` (down), or byte l % g of slot
            // head * k + l / g (up).
            let _ = writeln!(v, "reg [7:0] o{l};\nalways @(*) begin\n    case (head)");
            if down {
                for j in 0..n {
                    let _ = writeln!(v, "        {sb}'d{j}: o{l} = b{j}_{l};");
                }
            } else {
                for h in 0..2 {
                    let _ = writeln!(v, "        1'd{h}: o{l} = b{}_{};", h * k + l / g, l % g);
                }
            }
            let _ = writeln!(
                v,
                "        default: o{l} = 8'd0;\n    endcase\nend\nalways @(*) {} = o{l};",
                m.tdata(l)
            );
        }
        let cnt = |ptr: &str, wrap: usize, w: usize| {
            if wrap.is_power_of_two() && (1 << w) == wrap {
                format!("{ptr} <= {ptr} + 1'b1;")
            } else {
                format!(
                    "{ptr} <= ({ptr} == {w}'d{}) ? {w}'d0 : {ptr} + 1'b1;",
                    wrap - 1
                )
            }
        };
        let _ = writeln!(
            v,
            "always @(posedge clock) begin\n    if (reset) begin\n        count <= 0; done <= 0; head <= 0; tail <= 0;\n    end else begin\n        count <= keep + (push ? {cb}'d{wi} : {cb}'d0);\n        if (pop) begin\n            done <= (done == {last_at}) ? 0 : done + {wo};\n            {}\n        end\n        if (push) begin\n            {}",
            if down { cnt("head", n, sb) } else { cnt("head", 2, 1) },
            if down { cnt("tail", 2, 1) } else { cnt("tail", n, sb) },
            last_at = self._frame - wo,
        );
        if down {
            for h in 0..2 {
                let _ = writeln!(v, "            if (tail == 1'd{h}) begin");
                for j in 0..k {
                    for b in 0..g {
                        let _ = writeln!(
                            v,
                            "                b{}_{b} <= {};",
                            h * k + j,
                            s.tdata(j * g + b)
                        );
                    }
                }
                let _ = writeln!(v, "            end");
            }
        } else {
            let _ = writeln!(v, "            case (tail)");
            for j in 0..n {
                let _ = write!(v, "                {sb}'d{j}: begin");
                for b in 0..g {
                    let _ = write!(v, " b{j}_{b} <= {};", s.tdata(b));
                }
                let _ = writeln!(v, " end");
            }
            let _ = writeln!(v, "                default: ;\n            endcase");
        }
        let _ = writeln!(v, "        end\n    end\nend");
        v
    }
}

// ------------------------------------------------------------------------------------------
/// A stream FIFO of `depth` beats (the bypass buffer of a Fire module).
#[derive(LogicBlock)]
pub struct StreamFifo {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _st: Box<OutFifo>,
}

impl StreamFifo {
    pub fn new(lanes: usize, depth: usize) -> Self {
        let depth = depth.max(2).next_power_of_two();
        StreamFifo {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            _st: Box::new(OutFifo::new(depth)),
        }
    }
    pub fn depth(&self) -> usize {
        self._st.depth
    }
    fn ready(&self) -> bool {
        !is(&self.reset) && self._st.len() < self._st.depth
    }
}

impl Logic for StreamFifo {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if is(&self.reset) {
                self._st.clear();
            } else {
                let fire = self.ready() && is(&self.s_axis.tvalid);
                let beat = fire.then(|| {
                    (
                        self.s_axis.data().collect::<Vec<u8>>(),
                        is(&self.s_axis.tlast),
                    )
                });
                let pop = self._st.pops(&self.m_axis);
                self._st.edge(beat, pop);
            }
        }
        self.s_axis.tready.next = self.ready();
        self._st.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let lanes = self.s_axis.lanes();
        let s = AxisNames::new("s_axis");
        let d = self._st.depth;
        let mut v = format!(
            "// stream FIFO, {d} beats of {lanes} lanes\nalways @(*) {tr} = !reset && (f_count < {d});\nwire fire = {tr} && {tv};\n",
            tr = s.tready(),
            tv = s.tvalid()
        );
        let data: Vec<String> = (0..lanes).map(|l| s.tdata(l)).collect();
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            lanes,
            d,
            "fire",
            &data,
            &s.tlast(),
        ));
        Verilog::Custom(v)
    }
}
