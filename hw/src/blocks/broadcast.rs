//! The one-to-two stream broadcast ([`Broadcast`]).

use rust_hdl::prelude::*;

use super::{is, FIFO_DEPTH};
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::library::Instance;

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
        self._st.0.len() < FIFO_DEPTH && self._st.1.len() < FIFO_DEPTH
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
    /// Instantiates `sqf_broadcast` (hw/verilog/sqf_broadcast.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let lanes = self.s_axis.lanes();
        let i = Instance::new("sqf_broadcast", "u")
            .param("LANES", lanes)
            .param("DEPTH", FIFO_DEPTH)
            .axis_in("s_axis", "s_", lanes)
            .axis_out("m_axis", "m_", lanes)
            .axis_out("m_axis_b", "mb_", lanes);
        Verilog::Custom(i.verilog())
    }
}
