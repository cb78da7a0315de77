//! squeezeflow-host: the command line's library: frame sources and preprocessing, and the
//! accuracy comparison of an int8 model with its float model.

pub mod accel;
pub mod accuracy;
pub mod board;
pub mod constraints;
pub mod dse;
pub mod frames;
pub mod regress;
pub mod synth_cmd;
