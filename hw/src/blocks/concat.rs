//! The per-pixel concatenation of a Fire module's two expands ([`Concat`]).

use rust_hdl::prelude::*;

use super::{is, FIFO_DEPTH};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};
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
        let ok = !is(&self.reset) && self._st.2.len() < FIFO_DEPTH;
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
    fn hdl(&self) -> Verilog {
        let lanes = self.m_axis.lanes();
        let (a, b) = (AxisNames::new("s_axis"), AxisNames::new("s_axis_b"));
        let mut v = format!(
            "// concat: {na} beats from s_axis then {nb} from s_axis_b per pixel, {lanes} lanes\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast_a = {al};\n/* verilator lint_on UNUSEDSIGNAL */\n\
reg phase;\nreg [31:0] cnt;\n\
wire ok = !reset && (f_count < {fd});\n\
always @(*) {ar} = ok && !phase;\nalways @(*) {br} = ok && phase;\n\
wire fa = {ar} && {av};\nwire fb = {br} && {bv};\n",
            na = self._n_a, nb = self._n_b, al = a.tlast(), fd = FIFO_DEPTH,
            ar = a.tready(), br = b.tready(), av = a.tvalid(), bv = b.tvalid(),
        );
        let data: Vec<String> = (0..lanes)
            .map(|l| format!("(fa ? {} : {})", a.tdata(l), b.tdata(l)))
            .collect();
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            lanes,
            FIFO_DEPTH,
            "fa || fb",
            &data,
            &format!("!fa && {}", b.tlast()),
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        phase <= 0; cnt <= 0;\n    end else if (fa || fb) begin\n        if (cnt == (phase ? {nbm} : {nam})) begin cnt <= 0; phase <= !phase; end else cnt <= cnt + 1;\n    end\nend\n",
            nam = self._n_a - 1,
            nbm = self._n_b - 1
        ));
        Verilog::Custom(v)
    }
}
