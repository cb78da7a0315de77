//! squeezeflow-sim: simulation of generated bundles. Depends on `squeezeflow-hw`.
//!
//! The Verilator bridge arrives with the whole-network issue.

pub use squeezeflow_hw as hw;
