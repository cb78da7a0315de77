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
pub mod constraints;
pub mod dse;
pub mod frames;
pub mod regress;
pub mod synth_cmd;
