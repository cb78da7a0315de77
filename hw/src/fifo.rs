//! The output FIFO every streaming block ends in: its Rust model and its Verilog, written once.
//!
//! A block pushes a beat (its lanes and `tlast`) at a clock edge when a condition holds; the
//! FIFO head drives `m_axis`. `count` is a register, so `tready` logic that looks at it has no
//! combinational path from the consumer's `tready`.

use std::collections::VecDeque;

use crate::axis::{AxisNames, AxisOut};
use crate::leaf::abits;

/// Rust model of the output FIFO.
#[derive(Clone, Debug)]
pub struct OutFifo {
    pub q: VecDeque<(Vec<u8>, bool)>,
    pub depth: usize,
}

impl OutFifo {
    pub fn new(depth: usize) -> Self {
        assert!(depth.is_power_of_two() && depth >= 2);
        OutFifo {
            q: VecDeque::with_capacity(depth),
            depth,
        }
    }
    pub fn len(&self) -> usize {
        self.q.len()
    }
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
    /// Whether the consumer takes the head beat this cycle.
    pub fn pops(&self, port: &AxisOut) -> bool {
        !self.q.is_empty() && port.tready.val()
    }
    /// The clock edge: push (if any) and pop (if `pop`), both decided from old values.
    pub fn edge(&mut self, push: Option<(Vec<u8>, bool)>, pop: bool) {
        if let Some(b) = push {
            self.q.push_back(b);
        }
        if pop {
            self.q.pop_front();
        }
        debug_assert!(self.q.len() <= self.depth, "output FIFO overflow");
    }
    /// Drives `m_axis` from the head.
    pub fn drive(&self, port: &mut AxisOut) {
        match self.q.front() {
            Some((bytes, last)) => {
                port.tvalid.next = true;
                port.set_data(bytes.iter().copied());
                port.tlast.next = *last;
            }
            None => {
                port.tvalid.next = false;
                port.tlast.next = false;
            }
        }
    }
    pub fn clear(&mut self) {
        self.q.clear();
    }
}

/// Verilog of an output FIFO named `name` driving port group `port`.
/// `push` is the push condition, `data[l]` the byte expression of lane l, `last` the tlast
/// expression (all sampled at the clock edge). Declares `{name}_count` and `{name}_pop`.
pub fn verilog(
    name: &str,
    port: &str,
    lanes: usize,
    depth: usize,
    push: &str,
    data: &[String],
    last: &str,
) -> String {
    assert_eq!(data.len(), lanes);
    let m = AxisNames::new(port);
    let ab = abits(depth);
    let mut v = format!(
        "reg [{ab}:0] {name}_count;\nreg [{abm}:0] {name}_head, {name}_tail;\nwire {name}_push = {push};\nwire {name}_pop = ({name}_count != 0) && {tready};\n",
        abm = ab - 1,
        tready = m.tready()
    );
    for (l, d) in data.iter().enumerate() {
        v.push_str(&format!(
            "reg [7:0] {name}_q{l} [0:{dm}];\nalways @(posedge clock) if ({name}_push) {name}_q{l}[{name}_tail] <= {d};\nalways @(*) {td} = {name}_q{l}[{name}_head];\n",
            dm = depth - 1,
            td = m.tdata(l)
        ));
    }
    v.push_str(&format!(
        "reg {name}_ql [0:{dm}];\nalways @(posedge clock) if ({name}_push) {name}_ql[{name}_tail] <= {last};\nalways @(*) {tl} = {name}_ql[{name}_head];\nalways @(*) {tv} = ({name}_count != 0);\n\
always @(posedge clock) begin\n    if (reset) begin\n        {name}_count <= 0; {name}_head <= 0; {name}_tail <= 0;\n    end else begin\n        if ({name}_push) {name}_tail <= {name}_tail + 1'b1;\n        if ({name}_pop) {name}_head <= {name}_head + 1'b1;\n        {name}_count <= {name}_count + {{{ab}'d0, {name}_push}} - {{{ab}'d0, {name}_pop}};\n    end\nend\n",
        dm = depth - 1,
        tl = m.tlast(),
        tv = m.tvalid(),
    ));
    v
}
