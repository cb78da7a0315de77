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
    /// A file that could not be read or written (the cause is the source, and in the message).
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A frame source that failed (a video or image that cannot be read).
    #[error("{0}")]
    Frames(String),
    /// An argument the simulator cannot use (a trace path with a NUL byte).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Hw(#[from] squeezeflow_hw::HwError),
}

impl SimError {
    /// An I/O error with what was being done (usually a path).
    pub fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> SimError {
        let context = context.to_string();
        move |source| SimError::Io { context, source }
    }
}
