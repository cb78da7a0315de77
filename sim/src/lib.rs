//! squeezeflow-sim: cycle-accurate simulation of generated Verilog through our own Verilator
//! bridge ([`verilator`]), and stream drivers over it ([`stream`]). Depends on `squeezeflow-hw`.

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
