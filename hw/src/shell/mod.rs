//! The board shell: the accelerator graph behind a UART and a framed protocol engine
//! (`docs/protocol.md` is the protocol's one description).
//!
//! [`Shell`] is a wiring-only parent with two children: the network [`Graph`] (whose stateful
//! nodes sit one level down) and [`CoreWrap`], a wiring-only wrapper around [`ShellCore`], the one
//! stateful leaf of the shell. The wrapper puts the core at the same depth as the graph's nodes,
//! so every register of the design sees the clock edge in the same rust-hdl settle pass.
//!
//! `ShellCore` holds the UART receiver and transmitter (`divisor` clocks per bit, 8N1), the
//! request parser with its running CRC-16/CCITT-FALSE and inter-byte timeout, the frame buffer
//! (`sqf_ram`, one 24-bit RGB word per pixel, written only by CRC-checked LOAD messages: a frame
//! runs only when every pixel was loaded by a message whose CRC was good), the streamer into the
//! graph, the logit buffer (`sqf_ram`, 16-bit) and the reply sequencer. Its `update()` is the
//! cycle-exact model of its Verilog.
//!
//! [`Graph`]: crate::graph::Graph

mod config;
mod core_model;
mod core_verilog;
pub mod protocol;
mod wrap;
mod writer;

pub use config::ShellConfig;
pub use core_model::ShellCore;
pub use protocol::{
    cmd, crc16, crc16_byte, err, flag, ERROR_REPLY_LEN, IDENTIFY_LEN, LOAD_REPLY_LEN,
    PROTOCOL_VERSION, REPLY_ERROR, REPLY_OK, STATUS_LEN, SYNC_REPLY, SYNC_REQUEST,
    WEIGHTS_REPLY_LEN,
};
pub use wrap::{CoreWrap, Shell};
pub use writer::{parse_hash, write_shell};
