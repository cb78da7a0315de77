//! The pools: the max pool and the global average pool, each one stream block behind a width
//! converter from the previous layer's lanes.

use std::collections::BTreeMap;

use squeezeflow_model::network::PoolLayer;
use squeezeflow_model::QuantModel;

use super::{block_row, lanes_of, HwLayer};
use crate::blocks::{AvgPool, GapGeom, MaxPool};
use crate::fire::adapt;
use crate::folding::{cheapest_lanes, divisors, Plan};
use crate::graph::{End, GraphBuilder, Node};
use crate::network::LayerEstimate;
use crate::HwError;

pub(super) struct MaxPoolHw<'a>(pub &'a PoolLayer);
pub(super) struct AvgPoolHw<'a>(pub &'a PoolLayer);

impl<'a> HwLayer<'a> for MaxPoolHw<'a> {
    fn plan_lanes(
        &self,
        given: &BTreeMap<String, usize>,
        t: u64,
        lanes: &mut BTreeMap<String, usize>,
    ) {
        let p = self.0;
        let allowed = divisors(p.input.c);
        let n = given
            .get(&p.name)
            .copied()
            .unwrap_or_else(|| cheapest_lanes(&allowed, p.input.len() as u64, 0, t));
        lanes.insert(p.name.clone(), n);
    }
    fn estimates(&self, _: &QuantModel, plan: &Plan) -> Result<Vec<LayerEstimate>, HwError> {
        let lanes = lanes_of(plan, &self.0.name)?;
        let g = MaxPool::new(self.0, lanes)?.geom().clone();
        Ok(vec![block_row(
            &g.name,
            "maxpool",
            lanes,
            g.cycles_per_frame(),
            g.memory_bits(),
        )])
    }
    fn cycles(&self, plan: &Plan) -> Result<u64, HwError> {
        let lanes = lanes_of(plan, &self.0.name)?;
        Ok(MaxPool::new(self.0, lanes)?.geom().cycles_per_frame())
    }
    fn resource_layers(&self) -> Vec<String> {
        vec![self.0.name.clone()]
    }
    fn build(
        &self,
        b: &mut GraphBuilder,
        _: &QuantModel,
        plan: &Plan,
        src: End,
        in_lanes: usize,
    ) -> Result<End, HwError> {
        let p = self.0;
        let lanes = lanes_of(plan, &p.name)?;
        let s = adapt(b, &p.name, src, in_lanes, lanes, p.input.len())?;
        let pool = MaxPool::new(p, lanes)?;
        let cycles = pool.geom().cycles_per_frame();
        let n = b.add(&p.name, Node::MaxPool(pool), cycles);
        b.connect(s, End::Node { node: n, port: 0 });
        Ok(End::Node { node: n, port: 0 })
    }
}

impl<'a> HwLayer<'a> for AvgPoolHw<'a> {
    fn plan_lanes(
        &self,
        given: &BTreeMap<String, usize>,
        t: u64,
        lanes: &mut BTreeMap<String, usize>,
    ) {
        let p = self.0;
        let allowed = divisors(p.input.c);
        let c = p.input.c as u64;
        let n = given
            .get(&p.name)
            .copied()
            .unwrap_or_else(|| cheapest_lanes(&allowed, p.input.len() as u64, c + 4, t));
        lanes.insert(p.name.clone(), n);
    }
    fn estimates(&self, _: &QuantModel, plan: &Plan) -> Result<Vec<LayerEstimate>, HwError> {
        let p = self.0;
        let lanes = lanes_of(plan, &p.name)?;
        Ok(vec![block_row(
            &p.name,
            "avgpool",
            lanes,
            self.cycles(plan)?,
            GapGeom::bits(p.input.c),
        )])
    }
    fn cycles(&self, plan: &Plan) -> Result<u64, HwError> {
        let p = self.0;
        let lanes = lanes_of(plan, &p.name)?;
        Ok(GapGeom::frame_cycles(p.input.pixels(), p.input.c, lanes))
    }
    /// The logit requantizer: two DSPs.
    fn extra_dsps(&self, _: &Plan) -> Vec<(String, u64)> {
        vec![(self.0.name.clone(), 2)]
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
        let p = self.0;
        let lanes = lanes_of(plan, &p.name)?;
        let s = adapt(b, &p.name, src, in_lanes, lanes, p.input.len())?;
        let gap = AvgPool::new(&p.name, p.input.pixels(), p.input.c, lanes, model.gap)?;
        let cycles = gap.geom().cycles_per_frame();
        let n = b.add(&p.name, Node::AvgPool(gap), cycles);
        b.connect(s, End::Node { node: n, port: 0 });
        Ok(End::Node { node: n, port: 0 })
    }
}
