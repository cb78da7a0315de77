//! The streaming blocks around the convolution engines: max pool, global average pool, bypass
//! add, concatenation, broadcast, width converter and FIFO. Each block's behaviour is a
//! parameterized Verilog module under `hw/verilog/` (`sqf_max_pool.v`, ...); `hdl()` computes
//! its parameters and instantiates it ([`crate::library::Instance`]). `update()` is an
//! independent Rust cycle model of the module, register for register, that the co-simulation
//! tests hold against it (and the rust-hdl simulations of whole graphs run on); the generated
//! Verilog never depends on it.
//!
//! One file a block; this module holds what they share (FIFO depths, small helpers).

mod avg_pool;
mod broadcast;
mod bypass_add;
mod concat;
mod frame_guard;
mod gearbox;
mod max_pool;
mod stream_fifo;
mod weight_stream;

use rust_hdl::prelude::*;

use crate::axis::AxisIn;

pub use avg_pool::{AvgPool, GapGeom};
pub use broadcast::Broadcast;
pub use bypass_add::BypassAdd;
pub use concat::Concat;
pub use frame_guard::{FrameGuard, GUARD_FLAGS};
pub use gearbox::Gearbox;
pub use max_pool::{MaxPool, PoolGeom};
pub use stream_fifo::StreamFifo;
pub use weight_stream::{WeightStream, LAYOUT_FILE};

/// Depth of the small output FIFOs.
pub(crate) const FIFO_DEPTH: usize = 4;
/// Output FIFO depth of the blocks with a requantizer (average pool, bypass add): above their
/// four cycles from taking a beat to the FIFO, so they take one every cycle.
pub(crate) const RQ_FIFO_DEPTH: usize = 8;

fn lanes_in(p: &AxisIn) -> Vec<u8> {
    p.data().collect()
}
fn is(s: &Signal<In, Bit>) -> bool {
    s.val()
}
