//! A convolution stage: one engine.

use squeezeflow_model::network::ConvLayer;
use squeezeflow_model::QuantModel;

use super::{conv_row, fold_of, HwLayer};
use crate::conv::ConvGeom;
use crate::fire::add_conv;
use crate::folding::Plan;
use crate::graph::{End, GraphBuilder};
use crate::network::LayerEstimate;
use crate::HwError;

pub(super) struct Conv<'a>(pub &'a ConvLayer);

impl<'a> HwLayer<'a> for Conv<'a> {
    fn conv_geoms(&self, plan: &Plan) -> Result<Vec<ConvGeom>, HwError> {
        let f = fold_of(plan, &self.0.name)?;
        Ok(vec![plan.stored(ConvGeom::new(self.0, f.pe, f.simd, 0)?)])
    }
    fn estimates(&self, _: &QuantModel, plan: &Plan) -> Result<Vec<LayerEstimate>, HwError> {
        Ok(self.conv_geoms(plan)?.iter().map(conv_row).collect())
    }
    fn cycles(&self, plan: &Plan) -> Result<u64, HwError> {
        Ok(self.conv_geoms(plan)?[0].cycles_per_frame())
    }
    fn resource_layers(&self) -> Vec<String> {
        vec![self.0.name.clone()]
    }
    fn build(
        &self,
        b: &mut GraphBuilder,
        model: &QuantModel,
        plan: &Plan,
        src: End,
        in_lanes: usize,
    ) -> Result<End, HwError> {
        add_conv(
            b,
            self.0,
            model,
            fold_of(plan, &self.0.name)?,
            0,
            src,
            in_lanes,
        )
    }
}
