//! squeezeflow-model: SqueezeNet-family network descriptions, the int8 arithmetic contract,
//! the quantized model file, and the integer (bit-exact) and float references.
//!
//! This crate knows no hardware. Everything the hardware computes is defined here first.

pub mod builtin;
pub mod calibration;
pub mod config;
pub mod error;
pub mod file;
pub mod float;
pub mod network;
pub mod onnx;
pub mod qmodel;
pub mod quant;
pub mod reference;
pub mod report;

pub use config::{Bypass, NetworkConfig};
pub use error::ModelError;
pub use float::FloatModel;
pub use network::{Network, Shape, Stage};
pub use qmodel::QuantModel;
