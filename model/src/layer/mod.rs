//! Layer kinds: what one kind of stage is and computes, in one place. Each kind implements
//! [`LayerKind`]: its shapes, the convolutions it holds, its rows in `info`'s report, its step
//! of the integer reference, of the float model and of quantization. [`Stage::layer`] is the
//! one place that maps the network's stages to their kinds; the hardware crate adds its side
//! (folding, estimates, node construction) in `squeezeflow_hw::layers`.
//!
//! Adding a kind (say a depthwise convolution): a `Stage` variant and its description in
//! `network.rs`, a file here implementing [`LayerKind`], its arm in [`Stage::layer`], and the
//! hardware file; `config.rs` and the ONNX importer only if networks are to contain it.

mod conv;
mod fire;
mod pool;

pub use pool::{AvgPool, MaxPool};

use crate::error::ModelError;
use crate::float::{FloatCx, QuantCx};
use crate::network::{ConvLayer, Shape, Stage};
use crate::reference::IntCx;
use crate::report::LayerRow;

/// One kind of stage (`'a`: the network it describes).
pub trait LayerKind<'a> {
    fn name(&self) -> &'a str;
    fn input(&self) -> Shape;
    fn output(&self) -> Shape;
    /// The convolutions it holds, in execution order (their weights are the model's).
    fn convs(&self) -> Vec<&'a ConvLayer> {
        Vec::new()
    }
    /// Its rows in `info`'s report.
    fn report_rows(&self) -> Vec<LayerRow>;
    /// The integer reference: the stage's output map from its input (the last stage records
    /// the logits in `cx` instead and returns an empty map).
    fn run_int(&self, x: Vec<u8>, cx: &mut IntCx) -> Vec<u8>;
    /// The float model, likewise.
    fn run_float(&self, x: Vec<f32>, cx: &mut FloatCx) -> Vec<f32>;
    /// Quantization: the stage's convolutions and adds at the input scale `scale`; returns the
    /// output scale.
    fn quantize(&self, scale: f32, cx: &mut QuantCx) -> Result<f32, ModelError>;
}

impl Stage {
    /// The stage's kind.
    pub fn layer(&self) -> Box<dyn LayerKind<'_> + '_> {
        match self {
            Stage::Conv(c) => Box::new(c),
            Stage::MaxPool(p) => Box::new(MaxPool(p)),
            Stage::Fire(f) => Box::new(f),
            Stage::AvgPool(p) => Box::new(AvgPool(p)),
        }
    }
}
