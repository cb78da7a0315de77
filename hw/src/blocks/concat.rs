//! The per-pixel concatenation of a Fire module's two expands ([`Concat`]).

use rust_hdl::prelude::*;

use super::{is, FIFO_DEPTH};
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::library::Instance;
use crate::HwError;

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
        let ok = self._st.2.len() < FIFO_DEPTH;
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
    /// Instantiates `sqf_concat` (hw/verilog/sqf_concat.v); `update()` above is an independent
    /// Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let lanes = self.m_axis.lanes();
        let i = Instance::new("sqf_concat", "u")
            .param("LANES", lanes)
            .param("N_A", self._n_a)
            .param("N_B", self._n_b)
            .param("DEPTH", FIFO_DEPTH)
            .axis_in("s_axis", "s_", lanes)
            .axis_in("s_axis_b", "sb_", lanes)
            .axis_out("m_axis", "m_", lanes);
        Verilog::Custom(i.verilog())
    }
}
