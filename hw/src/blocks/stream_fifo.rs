//! The stream FIFO of a Fire module's bypass ([`StreamFifo`]).

use rust_hdl::prelude::*;

use super::is;
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};

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
