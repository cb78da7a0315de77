//! A Fire module: squeeze, expand 1x1 and 3x3 concatenated, and the optional bypass add.

use super::LayerKind;
use crate::error::ModelError;
use crate::float::{concat_f32, FloatCx, QuantCx};
use crate::network::{ConvLayer, FireBypass, FireLayer, Shape};
use crate::qmodel::QAdd;
use crate::quant::AddParams;
use crate::reference::{naive, IntCx};
use crate::report::LayerRow;

impl<'a> LayerKind<'a> for &'a FireLayer {
    fn name(&self) -> &'a str {
        let f: &'a FireLayer = self;
        &f.name
    }
    fn input(&self) -> Shape {
        self.input
    }
    fn output(&self) -> Shape {
        self.output
    }
    fn convs(&self) -> Vec<&'a ConvLayer> {
        FireLayer::convs(self)
    }
    fn report_rows(&self) -> Vec<LayerRow> {
        let mut rows: Vec<LayerRow> = FireLayer::convs(self)
            .into_iter()
            .map(LayerRow::conv)
            .collect();
        if self.has_add() {
            rows.push(LayerRow::other(
                &self.add_name(),
                "add",
                "bypass".into(),
                self.output,
                self.output,
            ));
        }
        rows
    }
    fn run_int(&self, x: Vec<u8>, cx: &mut IntCx) -> Vec<u8> {
        let f = *self;
        let s = cx.conv(&x, &f.squeeze);
        cx.push(&f.squeeze.name, f.squeeze.output, &s);
        let e1 = cx.conv(&s, &f.expand1x1);
        let e3 = cx.conv(&s, &f.expand3x3);
        let cat = naive::concat(
            &e1,
            f.expand1x1.out_channels(),
            &e3,
            f.expand3x3.out_channels(),
        );
        cx.push(&format!("{}.expand", f.name), f.output, &cat);
        let out = match &f.bypass {
            FireBypass::None => cat,
            FireBypass::Identity => naive::add(&cat, &x, &cx.model.adds[&f.name].params),
            FireBypass::Conv(b) => {
                let bx = cx.conv(&x, b);
                cx.push(&b.name, b.output, &bx);
                naive::add(&cat, &bx, &cx.model.adds[&f.name].params)
            }
        };
        cx.push(&f.name, f.output, &out);
        out
    }
    fn run_float(&self, x: Vec<f32>, cx: &mut FloatCx) -> Vec<f32> {
        let f = *self;
        let s = cx.conv(&x, &f.squeeze);
        cx.push(&f.squeeze.name, &s);
        let e1 = cx.conv(&s, &f.expand1x1);
        let e3 = cx.conv(&s, &f.expand3x3);
        let cat = concat_f32(
            &e1,
            f.expand1x1.out_channels(),
            &e3,
            f.expand3x3.out_channels(),
        );
        cx.push(&format!("{}.expand", f.name), &cat);
        let out = match &f.bypass {
            FireBypass::None => cat,
            FireBypass::Identity => cat.iter().zip(&x).map(|(a, b)| a + b).collect(),
            FireBypass::Conv(b) => {
                let bx = cx.conv(&x, b);
                cx.push(&b.name, &bx);
                cat.iter().zip(&bx).map(|(a, b)| a + b).collect()
            }
        };
        cx.push(&f.name, &out);
        out
    }
    fn quantize(&self, scale: f32, cx: &mut QuantCx) -> Result<f32, ModelError> {
        let f = *self;
        let s_sq = cx.scale_of(&f.squeeze.name)?;
        cx.conv(&f.squeeze, scale, s_sq);
        let s_exp = cx.scale_of(&format!("{}.expand", f.name))?;
        for l in [&f.expand1x1, &f.expand3x3] {
            cx.conv(l, s_sq, s_exp);
        }
        let s_b = match &f.bypass {
            FireBypass::None => None,
            FireBypass::Identity => Some(scale),
            FireBypass::Conv(b) => {
                let s = cx.scale_of(&b.name)?;
                cx.conv(b, scale, s);
                Some(s)
            }
        };
        Ok(match s_b {
            None => s_exp,
            Some(s_b) => {
                let s_out = cx.scale_of(&f.name)?;
                cx.adds.insert(
                    f.name.clone(),
                    QAdd {
                        params: AddParams::from_scales(s_exp as f64, s_b as f64, s_out as f64),
                        scale_a: s_exp,
                        scale_b: s_b,
                        output_scale: s_out,
                    },
                );
                s_out
            }
        })
    }
}
