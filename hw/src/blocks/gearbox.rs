//! The stream width converter ([`Gearbox`]): banked or shift-register buffer.

use rust_hdl::prelude::*;

use super::{is, UNUSED_TLAST};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::leaf::abits;
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
        !is(&self.reset) && self._st.0.len() + self.s_axis.lanes() <= self.cap()
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
    fn hdl(&self) -> Verilog {
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let cap = self.cap();
        let (s, m) = (AxisNames::new("s_axis"), AxisNames::new("m_axis"));
        let cb = abits(cap + 1);
        let mut v = format!(
            "// gearbox {wi} -> {wo} bytes a beat, frames of {fr} bytes\n{UNUSED_TLAST}\
reg [{cbm}:0] count;\nreg [31:0] done;\n\
always @(*) {tr} = !reset && ({{1'b0, count}} + {wi} <= {cap});\n\
wire push = {tr} && {tv};\n\
wire valid = (count >= {wo});\nwire pop = valid && {mr};\n\
always @(*) {mv} = valid;\nalways @(*) {ml} = valid && (done == {last_at});\n\
wire [{cbm}:0] keep = count - (pop ? {cb}'d{wo} : {cb}'d0);\n",
            fr = self._frame,
            cbm = cb - 1,
            tr = s.tready(),
            tv = s.tvalid(),
            mr = m.tready(),
            mv = m.tvalid(),
            ml = m.tlast(),
            last_at = self._frame - wo,
        );
        if let Some(k) = self.ratio() {
            v.push_str(&self.banked_verilog(k, cb));
            return Verilog::Custom(v);
        }
        for i in 0..cap {
            v.push_str(&format!("reg [7:0] b{i};\n"));
        }
        for l in 0..wo {
            v.push_str(&format!("always @(*) {} = b{l};\n", m.tdata(l)));
        }
        v.push_str("always @(posedge clock) begin\n    if (reset) begin\n        count <= 0; done <= 0;\n    end else begin\n");
        v.push_str(&format!(
            "        count <= keep + (push ? {cb}'d{wi} : {cb}'d0);\n        if (pop) done <= (done == {last_at}) ? 0 : done + {wo};\n",
            last_at = self._frame - wo
        ));
        for i in 0..cap {
            let shifted = if i + wo < cap {
                format!("b{}", i + wo)
            } else {
                "8'd0".to_string()
            };
            // Byte i comes from input lane (i - keep) when pushing and i >= keep.
            let mut chain = format!("(pop ? {shifted} : b{i})");
            for l in (0..wi).rev() {
                chain = format!(
                    "(push && ({cb}'d{i} == keep + {cb}'d{l})) ? {} : {chain}",
                    s.tdata(l)
                );
            }
            v.push_str(&format!("        b{i} <= {chain};\n"));
        }
        v.push_str("    end\nend\n");
        Verilog::Custom(v)
    }
}

impl Gearbox {
    /// The banked buffer's Verilog (after the common flow control of `hdl`): `2k` slots of
    /// `g = min(w_in, w_out)` bytes, `b<slot>_<byte>`. Going down (`w_in = k g`), a push writes
    /// bank `tail` (slots `k tail ..`) and a pop reads slot `head`; going up (`w_out = k g`), a
    /// push writes slot `tail` and a pop reads bank `head`.
    fn banked_verilog(&self, k: usize, cb: usize) -> String {
        use std::fmt::Write;
        let (wi, wo) = (self.s_axis.lanes(), self.m_axis.lanes());
        let (s, m) = (AxisNames::new("s_axis"), AxisNames::new("m_axis"));
        let g = wi.min(wo);
        let n = 2 * k;
        let sb = abits(n).max(1);
        let down = wi > wo;
        let mut v = String::new();
        let _ = writeln!(
            v,
            "// banked: {n} slots of {g} bytes ({})",
            if down {
                "a bank in, a slot out"
            } else {
                "a slot in, a bank out"
            }
        );
        for j in 0..n {
            for b in 0..g {
                let _ = writeln!(v, "reg [7:0] b{j}_{b};");
            }
        }
        // Pointers: the slot side counts slots (0 .. 2k-1), the bank side one bit.
        let (head_w, tail_w) = if down { (sb, 1) } else { (1, sb) };
        let _ = writeln!(
            v,
            "reg [{}:0] head;\nreg [{}:0] tail;",
            head_w - 1,
            tail_w - 1
        );
        for l in 0..wo {
            // Output lane l: byte l of slot `head` (down), or byte l % g of slot
            // head * k + l / g (up).
            let _ = writeln!(v, "reg [7:0] o{l};\nalways @(*) begin\n    case (head)");
            if down {
                for j in 0..n {
                    let _ = writeln!(v, "        {sb}'d{j}: o{l} = b{j}_{l};");
                }
            } else {
                for h in 0..2 {
                    let _ = writeln!(v, "        1'd{h}: o{l} = b{}_{};", h * k + l / g, l % g);
                }
            }
            let _ = writeln!(
                v,
                "        default: o{l} = 8'd0;\n    endcase\nend\nalways @(*) {} = o{l};",
                m.tdata(l)
            );
        }
        let cnt = |ptr: &str, wrap: usize, w: usize| {
            if wrap.is_power_of_two() && (1 << w) == wrap {
                format!("{ptr} <= {ptr} + 1'b1;")
            } else {
                format!(
                    "{ptr} <= ({ptr} == {w}'d{}) ? {w}'d0 : {ptr} + 1'b1;",
                    wrap - 1
                )
            }
        };
        let _ = writeln!(
            v,
            "always @(posedge clock) begin\n    if (reset) begin\n        count <= 0; done <= 0; head <= 0; tail <= 0;\n    end else begin\n        count <= keep + (push ? {cb}'d{wi} : {cb}'d0);\n        if (pop) begin\n            done <= (done == {last_at}) ? 0 : done + {wo};\n            {}\n        end\n        if (push) begin\n            {}",
            if down { cnt("head", n, sb) } else { cnt("head", 2, 1) },
            if down { cnt("tail", 2, 1) } else { cnt("tail", n, sb) },
            last_at = self._frame - wo,
        );
        if down {
            for h in 0..2 {
                let _ = writeln!(v, "            if (tail == 1'd{h}) begin");
                for j in 0..k {
                    for b in 0..g {
                        let _ = writeln!(
                            v,
                            "                b{}_{b} <= {};",
                            h * k + j,
                            s.tdata(j * g + b)
                        );
                    }
                }
                let _ = writeln!(v, "            end");
            }
        } else {
            let _ = writeln!(v, "            case (tail)");
            for j in 0..n {
                let _ = write!(v, "                {sb}'d{j}: begin");
                for b in 0..g {
                    let _ = write!(v, " b{j}_{b} <= {};", s.tdata(b));
                }
                let _ = writeln!(v, " end");
            }
            let _ = writeln!(v, "                default: ;\n            endcase");
        }
        let _ = writeln!(v, "        end\n    end\nend");
        v
    }
}
