//! The hardware side of each layer kind ([`squeezeflow_model::layer`] is the model side): how
//! its stream blocks are folded, its cycle and resource figures, its rows in the estimate and
//! the nodes it adds to the network's graph. [`of`] is the one place that maps a stage to its
//! kind; the folding, the estimate, the device fit and the graph builder ask the kind.

mod conv;
mod fire;
mod pool;

use std::collections::BTreeMap;

use squeezeflow_model::network::Stage;
use squeezeflow_model::QuantModel;

use crate::conv::ConvGeom;
use crate::folding::Plan;
use crate::graph::{End, GraphBuilder};
use crate::network::LayerEstimate;
use crate::HwError;

/// The hardware of one kind of stage (`'a`: the network it belongs to).
pub trait HwLayer<'a> {
    /// Byte lanes of the stage's stream blocks for a frame period of `t` cycles (the
    /// convolutions' folds are searched for all of them at once, elsewhere): entries of
    /// `lanes`, unless `given` (the network file's `[hardware.lanes]`) names them.
    fn plan_lanes(
        &self,
        _given: &BTreeMap<String, usize>,
        _t: u64,
        _lanes: &mut BTreeMap<String, usize>,
    ) {
    }
    /// The geometries of its convolution engines under `plan`, in execution order.
    fn conv_geoms(&self, _plan: &Plan) -> Result<Vec<ConvGeom>, HwError> {
        Ok(Vec::new())
    }
    /// Its rows of the estimate (cycles a frame, memory bits, lanes).
    fn estimates(&self, model: &QuantModel, plan: &Plan) -> Result<Vec<LayerEstimate>, HwError>;
    /// Steady-state cycles a frame of its slowest block (no model needed).
    fn cycles(&self, plan: &Plan) -> Result<u64, HwError>;
    /// DSPs outside its convolution engines (the requantizers of adds and pools), by layer.
    fn extra_dsps(&self, _plan: &Plan) -> Vec<(String, u64)> {
        Vec::new()
    }
    /// The names its resources are reported under, in order.
    fn resource_layers(&self) -> Vec<String>;
    /// Adds its nodes to the graph after `src` (`in_lanes` bytes a beat); returns its output.
    fn build(
        &self,
        b: &mut GraphBuilder,
        model: &QuantModel,
        plan: &Plan,
        src: End,
        in_lanes: usize,
    ) -> Result<End, HwError>;
}

/// The hardware of a stage.
pub fn of(stage: &Stage) -> Box<dyn HwLayer<'_> + '_> {
    match stage {
        Stage::Conv(c) => Box::new(conv::Conv(c)),
        Stage::MaxPool(p) => Box::new(pool::MaxPoolHw(p)),
        Stage::Fire(f) => Box::new(fire::Fire(f)),
        Stage::AvgPool(p) => Box::new(pool::AvgPoolHw(p)),
    }
}

/// The plan's fold of convolution `name`, or an error naming it.
pub(crate) fn fold_of(plan: &Plan, name: &str) -> Result<crate::fire::Fold, HwError> {
    plan.fold
        .get(name)
        .copied()
        .ok_or_else(|| HwError::Folding(format!("the folding has no entry for {name}")))
}

/// The plan's lanes of stream block `name`, or an error naming it.
pub(crate) fn lanes_of(plan: &Plan, name: &str) -> Result<usize, HwError> {
    plan.lanes
        .get(name)
        .copied()
        .filter(|&l| l > 0)
        .ok_or_else(|| HwError::Folding(format!("the folding has no lanes for {name}")))
}

/// Lanes of stream block `key`: as `given` names them, else the fewest of `allowed` that move
/// `bytes` a frame within `t` cycles (`extra` cycles added).
pub(crate) fn choose_lanes(
    given: &BTreeMap<String, usize>,
    key: &str,
    allowed: &[usize],
    (bytes, extra): (u64, u64),
    t: u64,
    lanes: &mut BTreeMap<String, usize>,
) {
    let n = given
        .get(key)
        .copied()
        .unwrap_or_else(|| crate::folding::cheapest_lanes(allowed, bytes, extra, t));
    lanes.insert(key.to_string(), n);
}

/// An estimate row of a convolution engine.
pub(crate) fn conv_row(g: &ConvGeom) -> LayerEstimate {
    LayerEstimate {
        name: g.name.clone(),
        kind: "conv".into(),
        pe: Some(g.pe),
        simd: Some(g.simd),
        lanes: None,
        mac_lanes: g.mac_lanes(),
        macs: g.macs(),
        cycles_per_frame: g.cycles_per_frame(),
        memory_bits: g.memory_bits(),
    }
}

/// An estimate row of a stream block.
pub(crate) fn block_row(
    name: &str,
    kind: &str,
    lanes: usize,
    cycles: u64,
    bits: u64,
) -> LayerEstimate {
    LayerEstimate {
        name: name.into(),
        kind: kind.into(),
        pe: None,
        simd: None,
        lanes: Some(lanes),
        mac_lanes: 0,
        macs: 0,
        cycles_per_frame: cycles,
        memory_bits: bits,
    }
}
