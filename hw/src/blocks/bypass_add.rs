//! The bypass add of a Fire module with a bypass ([`BypassAdd`]).

use rust_hdl::prelude::*;
use squeezeflow_model::quant::AddParams;

use super::{is, RQ_FIFO_DEPTH};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};
use crate::leaf::{self, abits};

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
