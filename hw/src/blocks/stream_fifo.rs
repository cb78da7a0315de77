//! The stream FIFO of a Fire module's bypass ([`StreamFifo`]).

use rust_hdl::prelude::*;

use super::is;
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::library::Instance;

/// A stream FIFO of `depth` beats (the bypass buffer of a Fire module).
#[derive(LogicBlock)]
pub struct StreamFifo {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _st: Box<OutFifo>,
    /// From 64 beats deep, the memory read at a register address (`RADDR_REG`); Verilog only.
    _raddr_reg: bool,
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
            _raddr_reg: false,
        }
    }
    /// From 64 beats deep, the memory is read at a register address and the pop chooses
    /// after the read (`sqf_out_fifo`'s `RADDR_REG`): for LUT RAM (Xilinx); with an ECP5
    /// block RAM the read would meet two multiplexers instead of one. Changes only the
    /// Verilog.
    pub fn with_raddr_reg(mut self, on: bool) -> Self {
        self._raddr_reg = on;
        self
    }
    pub fn depth(&self) -> usize {
        self._st.depth
    }
    fn ready(&self) -> bool {
        self._st.len() < self._st.depth
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
    /// Instantiates `sqf_stream_fifo` (hw/verilog/sqf_stream_fifo.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let lanes = self.s_axis.lanes();
        let i = Instance::new("sqf_stream_fifo", "u")
            .param("LANES", lanes)
            .param("DEPTH", self._st.depth)
            .param("RADDR_REG", usize::from(self._raddr_reg))
            .axis_in("s_axis", "s_", lanes)
            .axis_out("m_axis", "m_", lanes);
        Verilog::Custom(i.verilog())
    }
}
