//! A convolution stage (conv1, conv10, or any plain convolution with ReLU).

use super::LayerKind;
use crate::error::ModelError;
use crate::float::{FloatCx, QuantCx};
use crate::network::{ConvLayer, Shape};
use crate::reference::IntCx;
use crate::report::LayerRow;

impl<'a> LayerKind<'a> for &'a ConvLayer {
    fn name(&self) -> &'a str {
        let c: &'a ConvLayer = self;
        &c.name
    }
    fn input(&self) -> Shape {
        self.input
    }
    fn output(&self) -> Shape {
        self.output
    }
    fn convs(&self) -> Vec<&'a ConvLayer> {
        vec![*self]
    }
    fn report_rows(&self) -> Vec<LayerRow> {
        vec![LayerRow::conv(self)]
    }
    fn run_int(&self, x: Vec<u8>, cx: &mut IntCx) -> Vec<u8> {
        let y = cx.conv(&x, self);
        cx.push(&self.name, self.output, &y);
        y
    }
    fn run_float(&self, x: Vec<f32>, cx: &mut FloatCx) -> Vec<f32> {
        let y = cx.conv(&x, self);
        cx.push(&self.name, &y);
        y
    }
    fn quantize(&self, scale: f32, cx: &mut QuantCx) -> Result<f32, ModelError> {
        let out = cx.scale_of(&self.name)?;
        cx.conv(self, scale, out);
        // The last convolution's scale is the logits' (the average pool keeps it).
        cx.logit_input_scale = out;
        Ok(out)
    }
}
