//! The stream width converter ([`Gearbox`]): banked or shift-register buffer.

use rust_hdl::prelude::*;

use super::is;
use crate::axis::{AxisIn, AxisOut};
use crate::library::Instance;
use crate::HwError;

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
        self._st.0.len() + self.s_axis.lanes() <= self.cap()
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
    /// Instantiates `sqf_gearbox` (hw/verilog/sqf_gearbox.v), banked when one width is a
    /// multiple of the other; `update()` above is an independent Rust model of it, checked
    /// against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let i = Instance::new("sqf_gearbox", "u")
            .param("WI", wi)
            .param("WO", wo)
            .param("FRAME", self._frame)
            .param("BANKED", self.ratio().is_some() as u8)
            .axis_in("s_axis", "s_", wi)
            .axis_out("m_axis", "m_", wo);
        Verilog::Custom(i.verilog())
    }
}
