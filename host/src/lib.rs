//! squeezeflow-host: the library behind the `squeezeflow` command line.
//!
//! - [`accel`]: the model choice, `gen` (bundles) and `sim` (a bundle in Verilator against the
//!   integer reference), frame reports;
//! - [`accuracy`]: an int8 model against its float model (top-1, top-5 overlap, cosine);
//! - [`board`]: the board link (docs/protocol.md): codec, transports, client;
//! - [`constraints`]: the board constraint files built into the binary;
//! - [`dse`]: the SqueezeNet paper's design-space sweep with a hardware cost;
//! - [`frames`]: frame sources (images, Y4M, synthetic) and their preprocessing;
//! - [`regress`]: simulation regressions on worker processes, shards and SLURM (docs/regress.md);
//! - [`synth_cmd`]: device and board targets, Yosys and nextpnr runs on a bundle.

pub mod accel;
pub mod accuracy;
pub mod board;
pub mod build_cmd;
pub mod constraints;
pub mod dse;
pub mod frames;
pub mod regress;
pub mod synth_cmd;

/// A failed write to standard output (a closed pipe, a full disk), named as such. `main` ends
/// quietly on a closed pipe and reports anything else.
pub fn stdout_failed(e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("writing to standard output")
}

/// `println!` that returns the write's error (as [`stdout_failed`]) instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::stdout_failed)
    }};
}

/// `print!` that returns the write's error (as [`stdout_failed`]) instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::stdout_failed)
    }};
}
