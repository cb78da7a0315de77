//! squeezeflow-sim: cycle-accurate simulation of generated Verilog through our own Verilator
//! bridge. Depends on `squeezeflow-hw`.
//!
//! - [`verilator`]: builds a design into a loadable model (cached by content), clocks it;
//! - [`stream`]: the stream drivers of `squeezeflow-hw`'s harness over a Verilated design;
//! - [`network`]: a whole bundle: frames in, logits out, stalls, watchdog, VCD.

pub mod network;
pub mod stream;
pub mod verilator;

pub use squeezeflow_hw as hw;

/// Errors of the simulator crate.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A missing or failing tool (verilator, g++), with its own words.
    #[error("{0}")]
    Tool(String),
    /// A design the bridge cannot use (no such port, a missing memory file).
    #[error("design: {0}")]
    Design(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Hw(#[from] squeezeflow_hw::HwError),
}
