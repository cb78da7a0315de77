//! The convolution engine: any k x k convolution with stride and zero padding, followed by bias,
//! requantization and ReLU, folded over `pe` output channels and `simd` input channels.
//!
//! Dataflow, per frame:
//! - a **writer** stores incoming beats (`simd` channels of one pixel each) into a line buffer of
//!   `lb_rows` rows (a power of two, at least `k + stride`): row `g` of the stream lives in slot
//!   `g mod lb_rows`, so only the rows the window needs are on chip;
//! - an **issuer** walks output pixel, output group (`pe` channels), kernel row, kernel column and
//!   input group; every cycle it issues one line-buffer read (`simd` activations, zero for padding)
//!   and one read of each PE's weight ROM (`simd` weights; the ROM address is a plain counter).
//!   It waits at the start of an output group until the window's rows are in and the output FIFO
//!   has room for the result (credits), so the MAC pipeline itself never stalls;
//! - `pe` MAC lanes (`sqf_mac`, `simd` products a cycle; with [`ConvGeom::pairs`] two PEs share
//!   one `sqf_mac2`, two products per multiplier) accumulate; at the end of a group their
//!   accumulators are copied into chains of [`ConvGeom::rq_share`] registers, each chain
//!   shifting one value a cycle into its requantizer (`sqf_requant`, a 32x17 multiply: `pe /
//!   rq_share` of them instead of one per PE), whose multipliers and shifts come from its own
//!   ROM in the order the chain delivers (so no PE carries them); the `u8` outputs are collected
//!   into one beat of `pe` channels for a 16-deep output FIFO that drives `m_axis`.
//!
//! Throughput: one output group every `k * k * cin / simd` cycles (a chain is never longer
//! than that, so the requantizers keep up); latency `12 + rq_share` cycles from the last MAC
//! cycle of a group to its beat at the FIFO head (13 with the ECP5 multipliers' MAC stage,
//! [`ConvGeom::latency`]).
//!
//! The Rust model in [`ConvEngine`]'s `update()` and the Verilog of [`ConvEngine::verilog_body`]
//! are the same machine register for register; tests run both against the integer reference.
//!
//! Files: `geom.rs` (geometry, folding, cycle and resource estimates), `memories.rs` (the
//! quantized parameters laid out for the memories), `engine.rs` (the block and its Rust model),
//! `verilog.rs` (its Verilog text and `.mem` files).

mod engine;
mod geom;
mod memories;
mod verilog;

pub use engine::ConvEngine;
pub use geom::{ConvGeom, MAX_SIMD, OUT_FIFO_DEPTH};
pub use memories::ConvMemories;
