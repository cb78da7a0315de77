//! The global average pool ([`AvgPool`]) and its geometry ([`GapGeom`]).

use rust_hdl::prelude::*;
use squeezeflow_model::quant::Requant;

use super::{is, RQ_FIFO_DEPTH};
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::leaf;
use crate::library::Instance;
use crate::HwError;

/// Global average pool: sums each channel over the map in `i32`, then drains the sums through
/// the logit requantizer (`sqf_requant`, 16-bit output). Output: one logit a beat, two lanes
/// (low byte, high byte). Cycles per frame: input beats + channels + 4. The drain's pipeline
/// (the sum read, a register after the block RAM, the requantizer's four stages, five with
/// ECP5 multipliers) adds latency, not cycles per frame: the next frame's input waits only
/// for the last sum's read.
#[derive(LogicBlock)]
pub struct AvgPool {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _g: GapGeom,
    _st: Box<GapState>,
    /// `ECP5_MUL = 1`: the requantizer's products in MULT18X18Ds (the same stages).
    _mul_ecp5: bool,
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
        Self::frame_cycles(self.pixels, self.c, self.lanes)
    }
    pub fn memory_bits(&self) -> u64 {
        Self::bits(self.c)
    }
    /// Cycles a frame of a pool of `pixels` x `c` on `lanes` lanes: the input beats, then the
    /// drain of the sums and the requantizer's pipeline.
    pub fn frame_cycles(pixels: usize, c: usize, lanes: usize) -> u64 {
        (pixels * (c / lanes) + c + 4) as u64
    }
    /// Memory bits of a pool of `c` channels: the sums and the output FIFO.
    pub fn bits(c: usize) -> u64 {
        (c * 32 + RQ_FIFO_DEPTH * 17) as u64
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
    r2: i32,
    vr: bool,
    lastr: bool,
    /// With `ECP5_MUL` the sum in the multipliers' input registers (`MUL_IN_REG`), a cycle
    /// after r2.
    ri: i32,
    vi: bool,
    lasti: bool,
    m2: i64,
    vm: bool,
    lastm: bool,
    p2: i64,
    v2: bool,
    last2: bool,
    y3: i32,
    v3: bool,
    last3: bool,
    /// The requantizer's fourth stage (`ROUND_REG`): the logit a cycle after the shift.
    y4: i32,
    v4: bool,
    last4: bool,
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
            r2: 0,
            vr: false,
            lastr: false,
            ri: 0,
            vi: false,
            lasti: false,
            m2: 0,
            vm: false,
            lastm: false,
            p2: 0,
            v2: false,
            last2: false,
            y3: 0,
            v3: false,
            last3: false,
            y4: 0,
            v4: false,
            last4: false,
            fifo: OutFifo::new(RQ_FIFO_DEPTH),
        };
        Ok(AvgPool {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(2),
            _g: g,
            _st: Box::new(st),
            _mul_ecp5: false,
        })
    }
    /// The requantizer's products in ECP5 MULT18X18Ds' output registers and its operands in
    /// their input registers (`sqf_requant` `ECP5_MUL`, `MUL_IN_REG`): the same logits a
    /// cycle later (a stage more), the same cycles a frame.
    pub fn with_mul_ecp5(mut self, on: bool) -> Self {
        self._mul_ecp5 = on;
        self
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
            st.vr = false;
            st.vi = false;
            st.vm = false;
            st.v2 = false;
            st.v3 = false;
            st.v4 = false;
            st.fifo.clear();
            return;
        }
        let fire = !st.drain && is(&self.s_axis.tvalid);
        let issue = st.drain && st.fifo.len() + st.inflight < RQ_FIFO_DEPTH;
        let pop = st.fifo.pops(&self.m_axis);
        let pushed = st.v4;
        let push = pushed.then(|| (vec![st.y4 as u8, (st.y4 >> 8) as u8], st.last4));
        st.fifo.edge(push, pop);
        st.y4 = st.y3;
        st.v4 = st.v3;
        st.last4 = st.last3;
        st.y3 = leaf::requant_stage2(st.p2, g.requant.shift, 16);
        st.v3 = st.v2;
        st.last3 = st.last2;
        st.p2 = st.m2;
        st.v2 = st.vm;
        st.last2 = st.lastm;
        // The products' operands: r2, or with ECP5 multipliers their input registers.
        let (rq, vq, lastq) = if self._mul_ecp5 {
            (st.ri, st.vi, st.lasti)
        } else {
            (st.r2, st.vr, st.lastr)
        };
        st.m2 = leaf::requant_product(rq, g.requant.mult);
        st.vm = vq;
        st.lastm = lastq;
        st.ri = st.r2;
        st.vi = st.vr;
        st.lasti = st.lastr;
        st.r2 = st.r1;
        st.vr = st.v1;
        st.lastr = st.last1;
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
        let ready = !self._st.drain;
        self.s_axis.tready.next = ready;
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    /// Instantiates `sqf_avg_pool` (hw/verilog/sqf_avg_pool.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let g = &self._g;
        let i = Instance::new("sqf_avg_pool", "u")
            .param("LANES", g.lanes)
            .param("CG", g.cg())
            .param("PIXELS", g.pixels)
            .param("MULT", g.requant.mult)
            .param("SHIFT", g.requant.shift)
            .param("DEPTH", RQ_FIFO_DEPTH)
            .param_if(self._mul_ecp5, "ECP5_MUL", 1)
            .axis_in("s_axis", "s_", g.lanes)
            .axis_out("m_axis", "m_", 2);
        Verilog::Custom(format!("// {}\n{}", g.name, i.verilog()))
    }
}
