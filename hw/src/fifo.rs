//! An independent Rust model of `sqf_out_fifo` (hw/verilog/sqf_out_fifo.v), the output FIFO
//! every streaming block ends in; the blocks' models use it.
//!
//! A block pushes a beat (its lanes and `tlast`) at a clock edge when a condition holds; the
//! FIFO head drives `m_axis`. `count` is a register, so `tready` logic that looks at it has no
//! combinational path from the consumer's `tready`.

use std::collections::VecDeque;

use crate::axis::AxisOut;

/// Rust model of the output FIFO.
#[derive(Clone, Debug)]
pub(crate) struct OutFifo {
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
