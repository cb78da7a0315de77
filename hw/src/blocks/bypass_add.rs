//! The bypass add of a Fire module with a bypass ([`BypassAdd`]).

use rust_hdl::prelude::*;
use squeezeflow_model::quant::AddParams;

use super::{is, RQ_FIFO_DEPTH};
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::leaf;
use crate::library::Instance;

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
    /// `ECP5_MUL = 1`: the requantizers' products in MULT18X18Ds (the same stages).
    _mul_ecp5: bool,
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
            _mul_ecp5: false,
        }
    }
    /// The requantizers' products in ECP5 MULT18X18Ds' output registers (`sqf_requant`
    /// `ECP5_MUL`); changes only the Verilog.
    pub fn with_mul_ecp5(mut self, on: bool) -> Self {
        self._mul_ecp5 = on;
        self
    }
    fn ready(&self) -> bool {
        self._st.fifo.len() + self._st.inflight < RQ_FIFO_DEPTH
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
            st.p2[l] = st.m2[l];
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
    /// Instantiates `sqf_bypass_add` (hw/verilog/sqf_bypass_add.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let lanes = self.m_axis.lanes();
        let p = self._p;
        let i = Instance::new("sqf_bypass_add", "u")
            .param("LANES", lanes)
            .param("KA", p.ka)
            .param("KB", p.kb)
            .param("MULT", p.requant.mult)
            .param("SHIFT", p.requant.shift)
            .param("DEPTH", RQ_FIFO_DEPTH)
            .param_if(self._mul_ecp5, "ECP5_MUL", 1)
            .axis_in("s_axis", "s_", lanes)
            .axis_in("s_axis_b", "sb_", lanes)
            .axis_out("m_axis", "m_", lanes);
        Verilog::Custom(format!("// {}\n{}", self._name, i.verilog()))
    }
}
