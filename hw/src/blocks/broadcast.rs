//! The one-to-two stream broadcast ([`Broadcast`]).

use rust_hdl::prelude::*;

use super::{is, FIFO_DEPTH};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};

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
