//! The streaming blocks around the convolution engines: max pool, global average pool, bypass
//! add, concatenation, broadcast, width converter and FIFO. Each has a Rust model (`update()`)
//! and Verilog (`hdl()`) that are the same machine register for register, and ends in an
//! [`crate::fifo`] output FIFO unless noted.
//!
//! One file a block; this module holds what they share (FIFO depths, small helpers).

mod avg_pool;
mod broadcast;
mod bypass_add;
mod concat;
mod gearbox;
mod max_pool;
mod stream_fifo;

use rust_hdl::prelude::*;

use crate::axis::AxisIn;

pub use avg_pool::{AvgPool, GapGeom};
pub use broadcast::Broadcast;
pub use bypass_add::BypassAdd;
pub use concat::Concat;
pub use gearbox::Gearbox;
pub use max_pool::{MaxPool, PoolGeom};
pub use stream_fifo::StreamFifo;

/// Depth of the small output FIFOs.
pub const FIFO_DEPTH: usize = 4;
/// Output FIFO depth of the blocks with a requantizer (average pool, bypass add): above their
/// four cycles from taking a beat to the FIFO, so they take one every cycle.
pub const RQ_FIFO_DEPTH: usize = 8;

fn lanes_in(p: &AxisIn) -> Vec<u8> {
    p.data().collect()
}
fn is(s: &Signal<In, Bit>) -> bool {
    s.val()
}

const UNUSED_TLAST: &str = "/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast = s_axis$tlast;\n/* verilator lint_on UNUSEDSIGNAL */\n";
