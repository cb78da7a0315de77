//! The pools: the max pool and the global average pool, each one stream block behind a width
//! converter from the previous layer's lanes.

use std::collections::BTreeMap;

use squeezeflow_model::network::PoolLayer;
use squeezeflow_model::QuantModel;

use super::{block_row, choose_lanes, lanes_of, HwLayer};
use crate::blocks::{AvgPool, GapGeom, MaxPool, StreamFifo};
use crate::fire::adapt;
use crate::folding::{divisors, Plan};
use crate::graph::{End, GraphBuilder, Node};
use crate::network::LayerEstimate;
use crate::HwError;

/// Adds a pool's node behind a width converter from `src` (`in_lanes` wide) to its `lanes`.
/// Behind a converter sits a two-beat FIFO: the pool's comparisons (or sums) then start at a
/// register-addressed LUT RAM, not at the converter's multiplexers, whose path into the max
/// pool was the deepest of the XC7A200T folding (docs/timing.md). It takes a beat a cycle, so
/// the frame's cycles do not change.
fn add_block(
    b: &mut GraphBuilder,
    p: &PoolLayer,
    (src, in_lanes): (End, usize),
    lanes: usize,
    node: Node,
    cycles: u64,
) -> Result<End, HwError> {
    let mut s = adapt(b, &p.name, src, in_lanes, lanes, p.input.len())?;
    if in_lanes != lanes {
        let f = b.add(
            &format!("{}.fifo", p.name),
            Node::Fifo(StreamFifo::new(lanes, 2)),
            (p.input.len() / lanes) as u64,
        );
        b.connect(s, End::Node { node: f, port: 0 });
        s = End::Node { node: f, port: 0 };
    }
    let n = b.add(&p.name, node, cycles);
    b.connect(s, End::Node { node: n, port: 0 });
    Ok(End::Node { node: n, port: 0 })
}

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
        let bytes = (p.input.len() as u64, 0);
        choose_lanes(given, &p.name, &divisors(p.input.c), bytes, t, lanes);
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
        let pool = MaxPool::new(p, lanes)?;
        let cycles = pool.geom().cycles_per_frame();
        add_block(b, p, (src, in_lanes), lanes, Node::MaxPool(pool), cycles)
    }
}

impl<'a> HwLayer<'a> for AvgPoolHw<'a> {
    fn plan_lanes(
        &self,
        given: &BTreeMap<String, usize>,
        t: u64,
        lanes: &mut BTreeMap<String, usize>,
    ) {
        // The drain of the sums and the requantizer's pipeline come after the input beats.
        let p = self.0;
        let bytes = (p.input.len() as u64, p.input.c as u64 + 4);
        choose_lanes(given, &p.name, &divisors(p.input.c), bytes, t, lanes);
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
        let gap = AvgPool::new(&p.name, p.input.pixels(), p.input.c, lanes, model.gap)?
            .with_mul_ecp5(b.mul_ecp5);
        let cycles = gap.geom().cycles_per_frame();
        add_block(b, p, (src, in_lanes), lanes, Node::AvgPool(gap), cycles)
    }
}
