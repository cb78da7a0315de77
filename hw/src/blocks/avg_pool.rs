//! The global average pool ([`AvgPool`]) and its geometry ([`GapGeom`]).

use rust_hdl::prelude::*;
use squeezeflow_model::quant::Requant;

use super::{is, RQ_FIFO_DEPTH, UNUSED_TLAST};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};
use crate::leaf::{self, abits};
use crate::HwError;

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
