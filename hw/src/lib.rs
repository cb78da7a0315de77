//! squeezeflow-hw: the hardware side. Depends on `squeezeflow-model` only (never on Verilator).
//!
//! The rust-hdl blocks arrive with the hardware-blocks issue; for now this crate re-exports the
//! network description it will be generated from, so the dependency direction holds.

pub use squeezeflow_model as model;
