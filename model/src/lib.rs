//! squeezeflow-model: SqueezeNet-family network descriptions, the int8 arithmetic contract,
//! the quantized model file, and the integer (bit-exact) and float references.
//!
//! This crate knows no hardware. Everything the hardware computes is defined here first.
//!
//! - [`config`]: network descriptions (presets, the paper's meta-parameters, TOML);
//! - [`network`]: the layer graph with shapes, parameters and MACs; [`layer`]: what each kind
//!   of stage computes (the reference, float and quantization steps); [`report`]: `info`'s table;
//! - [`quant`]: the int8 arithmetic contract; [`codebook`]: k-bit weight sharing on top of it; [`qmodel`]: a quantized network;
//!   [`file`]: its safetensors file; [`builtin`]: the built-in SqueezeNet v1.1;
//! - [`reference`]: the bit-exact integer reference; [`float`]: the float model, quantization
//!   and synthetic weights; [`calibration`]: activation ranges from frames;
//! - [`onnx`]: ONNX import; [`error`]: the crate's errors.

pub mod builtin;
pub mod calibration;
pub mod codebook;
pub mod config;
pub mod error;
pub mod file;
pub mod float;
pub mod layer;
pub mod limits;
pub mod network;
pub mod onnx;
pub mod qmodel;
pub mod quant;
pub mod reference;
pub mod report;

pub use config::{Bypass, NetworkConfig, NetworkFile};
pub use error::ModelError;
pub use float::FloatModel;
pub use network::{Network, Shape, Stage};
pub use qmodel::QuantModel;
