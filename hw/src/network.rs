//! The whole network as one dataflow engine: every layer its own engine, all weights in on-chip
//! ROMs, and a top level with plain AXI4-Stream ports:
//!
//! | port | width | meaning |
//! |---|---|---|
//! | `clock`, `reset` | 1 | rising edge; synchronous active-high reset |
//! | `s_axis_tdata` | 24 | one RGB pixel a beat: R in bits 7:0, G 15:8, B 23:16; raster order |
//! | `s_axis_tvalid`, `s_axis_tready`, `s_axis_tlast` | 1 | `tlast` on a frame's last pixel (not required) |
//! | `m_axis_tdata` | 16 | one logit a beat (`u16`, class order; scale in the manifest) |
//! | `m_axis_tvalid`, `m_axis_tready`, `m_axis_tlast` | 1 | `tlast` on a frame's last logit |

use rust_hdl::prelude::*;
use serde::Serialize;
use squeezeflow_model::QuantModel;

use crate::folding::Plan;
use crate::graph::{End, Graph, GraphBuilder};
use crate::HwError;

/// Builds the network's graph: 3 lanes (R, G, B) in, 2 lanes (a `u16` logit) out.
pub fn network_graph(model: &QuantModel, plan: &Plan) -> Result<Graph, HwError> {
    let net = &model.network;
    let mut b = GraphBuilder::default();
    b.dsp_pairs = plan.dsp_pairs;
    b.rom_logic = plan.rom_logic.clone();
    b.load_weights = plan.load_weights.clone();
    let mut src = End::Outside;
    let in_lanes = 3;
    for stage in &net.stages {
        src = crate::layers::of(stage).build(&mut b, model, plan, src, in_lanes)?;
    }
    b.connect(src, End::Outside);
    Ok(b.build(in_lanes, 2))
}

/// The top level: the network graph behind plain AXI4-Stream ports (see the module docs).
#[derive(LogicBlock)]
pub struct Top {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis_tdata: Signal<In, Bits<24>>,
    pub s_axis_tvalid: Signal<In, Bit>,
    pub s_axis_tlast: Signal<In, Bit>,
    pub s_axis_tready: Signal<Out, Bit>,
    pub m_axis_tdata: Signal<Out, Bits<16>>,
    pub m_axis_tvalid: Signal<Out, Bit>,
    pub m_axis_tlast: Signal<Out, Bit>,
    pub m_axis_tready: Signal<In, Bit>,
    /// The weight-load port ([`crate::load`]): `wl_valid`, `wl_sel`, `wl_addr`, `wl_data`.
    pub wl_valid: Signal<In, Bit>,
    pub wl_sel: Signal<In, Bits<16>>,
    pub wl_addr: Signal<In, Bits<16>>,
    pub wl_data: Signal<In, Bits<64>>,
    pub net: Graph,
}

impl Top {
    pub fn new(net: Graph) -> Self {
        Top {
            clock: Default::default(),
            reset: Default::default(),
            s_axis_tdata: Default::default(),
            s_axis_tvalid: Default::default(),
            s_axis_tlast: Default::default(),
            s_axis_tready: Default::default(),
            m_axis_tdata: Default::default(),
            m_axis_tvalid: Default::default(),
            m_axis_tlast: Default::default(),
            m_axis_tready: Default::default(),
            wl_valid: Default::default(),
            wl_sel: Default::default(),
            wl_addr: Default::default(),
            wl_data: Default::default(),
            net,
        }
    }
}

impl Logic for Top {
    fn update(&mut self) {
        let n = &mut self.net;
        n.clock.next = self.clock.val();
        n.reset.next = self.reset.val();
        let px = self.s_axis_tdata.val().to_u64();
        for (l, s) in n.s_axis.tdata.iter_mut().enumerate() {
            s.next = ((px >> (8 * l)) & 0xff).into();
        }
        n.s_axis.tvalid.next = self.s_axis_tvalid.val();
        n.s_axis.tlast.next = self.s_axis_tlast.val();
        self.s_axis_tready.next = n.s_axis.tready.val();
        let lo = n.m_axis.tdata[0].val().to_u64();
        let hi = n.m_axis.tdata[1].val().to_u64();
        self.m_axis_tdata.next = (lo | hi << 8).into();
        self.m_axis_tvalid.next = n.m_axis.tvalid.val();
        self.m_axis_tlast.next = n.m_axis.tlast.val();
        n.m_axis.tready.next = self.m_axis_tready.val();
        n.wl.valid.next = self.wl_valid.val();
        n.wl.sel.next = self.wl_sel.val();
        n.wl.addr.next = self.wl_addr.val();
        n.wl.data.next = self.wl_data.val();
    }
    fn connect(&mut self) {
        self.s_axis_tready.connect();
        self.m_axis_tdata.connect();
        self.m_axis_tvalid.connect();
        self.m_axis_tlast.connect();
        let n = &mut self.net;
        n.clock.connect();
        n.reset.connect();
        for s in &mut n.s_axis.tdata {
            s.connect();
        }
        n.s_axis.tvalid.connect();
        n.s_axis.tlast.connect();
        n.m_axis.tready.connect();
        n.wl.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            [
                "// squeezeflow accelerator top level: RGB pixels in, u16 logits out.\n\
always @(*) net$clock = clock;\n\
always @(*) net$reset = reset;\n\
always @(*) net$s_axis$tdata$0 = s_axis_tdata[7:0];\n\
always @(*) net$s_axis$tdata$1 = s_axis_tdata[15:8];\n\
always @(*) net$s_axis$tdata$2 = s_axis_tdata[23:16];\n\
always @(*) net$s_axis$tvalid = s_axis_tvalid;\n\
always @(*) net$s_axis$tlast = s_axis_tlast;\n\
always @(*) s_axis_tready = net$s_axis$tready;\n\
always @(*) m_axis_tdata = {net$m_axis$tdata$1, net$m_axis$tdata$0};\n\
always @(*) m_axis_tvalid = net$m_axis$tvalid;\n\
always @(*) m_axis_tlast = net$m_axis$tlast;\n\
always @(*) net$m_axis$tready = m_axis_tready;\n"
                    .to_string(),
                crate::load::WeightLoad::verilog_follow("net$wl", "wl_"),
            ]
            .concat(),
        )
    }
}

impl crate::bundle::MemFiles for Top {
    fn mem_files(&self) -> Vec<(String, String)> {
        self.net.mem_files()
    }
}

/// Estimates for one layer (a convolution, or a stream block).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LayerEstimate {
    pub name: String,
    pub kind: String,
    pub pe: Option<usize>,
    pub simd: Option<usize>,
    pub lanes: Option<usize>,
    pub mac_lanes: usize,
    pub macs: u64,
    pub cycles_per_frame: u64,
    pub memory_bits: u64,
}

/// Estimates for the whole engine.
#[derive(Clone, Debug, Serialize)]
pub struct Estimate {
    /// Steady-state cycles per frame (the slowest node).
    pub cycles_per_frame: u64,
    pub mac_lanes: usize,
    pub macs_per_frame: u64,
    /// Useful MACs / (MAC lanes x cycles per frame).
    pub mac_utilization: f64,
    pub memory_bits: u64,
    pub weight_bits: u64,
    pub layers: Vec<LayerEstimate>,
}

/// Analytic estimates of a folding (no hardware is built).
pub fn estimate(model: &QuantModel, plan: &Plan) -> Result<Estimate, HwError> {
    let net = &model.network;
    let mut layers = Vec::new();
    for s in &net.stages {
        layers.extend(crate::layers::of(s).estimates(model, plan)?);
    }
    // Every node of the engine (width converters, forks, FIFOs, adds included) bounds the rate.
    let graph_cycles = network_graph(model, plan)?.cycles_per_frame();
    let input_beats = net.input_shape().pixels() as u64;
    let cycles = layers
        .iter()
        .map(|l| l.cycles_per_frame)
        .max()
        .unwrap_or(0)
        .max(input_beats)
        .max(graph_cycles);
    let mac_lanes: usize = layers.iter().map(|l| l.mac_lanes).sum();
    let macs = net.macs();
    Ok(Estimate {
        cycles_per_frame: cycles,
        mac_lanes,
        macs_per_frame: macs,
        mac_utilization: macs as f64 / (mac_lanes as f64 * cycles as f64),
        memory_bits: layers.iter().map(|l| l.memory_bits).sum(),
        weight_bits: net.weight_bytes() * 8,
        layers,
    })
}
