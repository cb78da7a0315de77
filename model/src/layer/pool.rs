//! The pools: the 3x3 stride-2 max pool and the global average pool that ends the network.

use super::LayerKind;
use crate::error::ModelError;
use crate::float::{FloatCx, QuantCx};
use crate::network::{PoolLayer, Shape};
use crate::reference::{naive, IntCx};
use crate::report::LayerRow;

/// A max pool stage.
pub struct MaxPool<'a>(pub &'a PoolLayer);
/// The global average pool stage (the logits).
pub struct AvgPool<'a>(pub &'a PoolLayer);

impl<'a> LayerKind<'a> for MaxPool<'a> {
    fn name(&self) -> &'a str {
        &self.0.name
    }
    fn input(&self) -> Shape {
        self.0.input
    }
    fn output(&self) -> Shape {
        self.0.output
    }
    fn report_rows(&self) -> Vec<LayerRow> {
        let p = self.0;
        vec![LayerRow::other(
            &p.name,
            "maxpool",
            format!("{0}x{0}/{1} ceil", p.kernel, p.stride),
            p.input,
            p.output,
        )]
    }
    fn run_int(&self, x: Vec<u8>, cx: &mut IntCx) -> Vec<u8> {
        let y = cx.maxpool(&x, self.0);
        cx.push(&self.0.name, self.0.output, &y);
        y
    }
    fn run_float(&self, x: Vec<f32>, cx: &mut FloatCx) -> Vec<f32> {
        let y = crate::float::maxpool_f32(&x, self.0);
        cx.push(&self.0.name, &y);
        y
    }
    fn quantize(&self, scale: f32, _: &mut QuantCx) -> Result<f32, ModelError> {
        Ok(scale)
    }
}

impl<'a> LayerKind<'a> for AvgPool<'a> {
    fn name(&self) -> &'a str {
        &self.0.name
    }
    fn input(&self) -> Shape {
        self.0.input
    }
    fn output(&self) -> Shape {
        self.0.output
    }
    fn report_rows(&self) -> Vec<LayerRow> {
        let p = self.0;
        vec![LayerRow::other(
            &p.name,
            "avgpool",
            "global".into(),
            p.input,
            p.output,
        )]
    }
    fn run_int(&self, x: Vec<u8>, cx: &mut IntCx) -> Vec<u8> {
        cx.logits = naive::avgpool(&x, self.0.input, &cx.model.gap);
        Vec::new()
    }
    fn run_float(&self, x: Vec<f32>, cx: &mut FloatCx) -> Vec<f32> {
        let sh = self.0.input;
        cx.logits = (0..sh.c)
            .map(|c| {
                let s: f64 = (0..sh.pixels()).map(|q| x[q * sh.c + c] as f64).sum();
                (s / sh.pixels() as f64) as f32
            })
            .collect();
        Vec::new()
    }
    fn quantize(&self, scale: f32, _: &mut QuantCx) -> Result<f32, ModelError> {
        Ok(scale)
    }
}
