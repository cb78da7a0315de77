//! A Fire module: its engines, the concatenation and the bypass (built in `crate::fire`).

use std::collections::BTreeMap;

use squeezeflow_model::network::FireLayer;
use squeezeflow_model::QuantModel;

use super::{block_row, choose_lanes, conv_row, lanes_of, HwLayer};
use crate::conv::ConvGeom;
use crate::fire::{add_fire, fire_geoms};
use crate::folding::{divisors, gcd, Plan};
use crate::graph::{End, GraphBuilder};
use crate::network::LayerEstimate;
use crate::HwError;

pub(super) struct Fire<'a>(pub &'a FireLayer);

impl Fire<'_> {
    fn concat(&self) -> String {
        format!("{}.concat", self.0.name)
    }
    /// Cycles a frame of the concatenation (one beat of `lanes` bytes a cycle).
    fn concat_cycles(&self, lanes: usize) -> u64 {
        (self.0.output.len() / lanes) as u64
    }
}

impl<'a> HwLayer<'a> for Fire<'a> {
    fn plan_lanes(
        &self,
        given: &BTreeMap<String, usize>,
        t: u64,
        lanes: &mut BTreeMap<String, usize>,
    ) {
        let f = self.0;
        let (c1, c3) = (f.expand1x1.out_channels(), f.expand3x3.out_channels());
        let allowed = divisors(gcd(c1, c3));
        let bytes = (f.output.len() as u64, 0);
        choose_lanes(given, &self.concat(), &allowed, bytes, t, lanes);
    }
    fn conv_geoms(&self, plan: &Plan) -> Result<Vec<ConvGeom>, HwError> {
        Ok(fire_geoms(self.0, &plan.fire_fold(self.0))?
            .into_iter()
            .map(|g| plan.stored(g))
            .collect())
    }
    fn estimates(&self, _: &QuantModel, plan: &Plan) -> Result<Vec<LayerEstimate>, HwError> {
        let mut rows: Vec<LayerEstimate> = self.conv_geoms(plan)?.iter().map(conv_row).collect();
        let cat = lanes_of(plan, &self.concat())?;
        rows.push(block_row(
            &self.concat(),
            "concat",
            cat,
            self.concat_cycles(cat),
            0,
        ));
        Ok(rows)
    }
    fn cycles(&self, plan: &Plan) -> Result<u64, HwError> {
        let convs = self
            .conv_geoms(plan)?
            .iter()
            .map(|g| g.cycles_per_frame())
            .max();
        let cat = self.concat_cycles(lanes_of(plan, &self.concat())?);
        Ok(convs.unwrap_or(0).max(cat))
    }
    /// The bypass add's requantizers: four DSPs a lane (measured with Yosys).
    fn extra_dsps(&self, plan: &Plan) -> Vec<(String, u64)> {
        if !self.0.has_add() {
            return Vec::new();
        }
        let lanes = plan.fire_fold(self.0).cat_lanes;
        vec![(self.0.add_name(), 4 * lanes as u64)]
    }
    fn resource_layers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.0.convs().iter().map(|l| l.name.clone()).collect();
        v.push(self.0.add_name());
        v
    }
    fn build(
        &self,
        b: &mut GraphBuilder,
        model: &QuantModel,
        plan: &Plan,
        src: End,
        in_lanes: usize,
    ) -> Result<End, HwError> {
        add_fire(b, self.0, model, &plan.fire_fold(self.0), src, in_lanes)
    }
}
