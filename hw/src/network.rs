//! The whole network as one dataflow engine: every layer its own engine ([`network_graph`]),
//! and the core around it ([`Core`]): the frame guard in front, the weight stream loader
//! beside, the status they report. The bundle's top module ([`crate::ip`]) gives the core its
//! AXI names (`aclk`, `aresetn`, `s_axis_*`, `m_axis_*`, `s_axis_weights_*`) and pixel format.
//! The analytic estimate of a folding is here too ([`estimate`]).

use rust_hdl::prelude::*;
use serde::Serialize;
use squeezeflow_model::QuantModel;

use crate::axis::{join_stream, AxisIn, AxisOut};
use crate::blocks::{FrameGuard, WeightStream};
use crate::folding::Plan;
use crate::graph::{End, Graph, GraphBuilder};
use crate::HwError;

/// Builds the network's graph: 3 lanes (R, G, B) in, 2 lanes (a `u16` logit) out.
pub fn network_graph(model: &QuantModel, plan: &Plan) -> Result<Graph, HwError> {
    let net = &model.network;
    let mut b = GraphBuilder::default();
    b.dsp_pairs = plan.dsp_pairs;
    b.mul_ecp5 = plan.mul_ecp5;
    b.dsp48e2 = plan.dsp48e2;
    b.rom_banks = plan.rom_banks;
    b.fifo_raddr_reg = plan.fifo_raddr_reg;
    b.lb_reg = plan.lb_reg;
    b.link_slices = plan.link_slices;
    b.rom_logic = plan.rom_logic.clone();
    b.load_weights = plan.load_weights.clone();
    b.decoded_weights = plan.decoded_weights.clone();
    let mut src = End::Outside;
    let in_lanes = 3;
    for stage in &net.stages {
        src = crate::layers::of(stage).build(&mut b, model, plan, src, in_lanes)?;
    }
    b.connect(src, End::Outside);
    Ok(b.build(in_lanes, 2))
}

/// The network core: the frame guard ([`crate::blocks::FrameGuard`]) in front of the graph, the
/// weight stream loader ([`crate::blocks::WeightStream`], when the network has loadable weight
/// memories) beside it, and the status they report. It holds no state of its own; the bundle's
/// top level ([`crate::ip`]) puts AXI port names, the reset polarity and the pixel format
/// around it.
#[derive(LogicBlock)]
pub struct Core {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    /// High on every logit of a bad frame.
    pub m_axis_tuser: Signal<Out, Bit>,
    pub s_axis_weights_tdata: Signal<In, Bits<64>>,
    pub s_axis_weights_tvalid: Signal<In, Bit>,
    pub s_axis_weights_tlast: Signal<In, Bit>,
    pub s_axis_weights_tready: Signal<Out, Bit>,
    pub frame_error: Signal<Out, Bit>,
    pub frame_errors: Signal<Out, Bits<16>>,
    pub weights_complete: Signal<Out, Bit>,
    pub weights_error: Signal<Out, Bit>,
    pub guard: FrameGuard,
    /// The loader, when the network has loadable weight memories (none or one).
    pub loader: Vec<WeightStream>,
    pub net: Graph,
}

impl Core {
    /// The core around `net`, whose frames are `pixels` pixels.
    pub fn new(net: Graph, pixels: usize) -> Self {
        let load = net.load_memories();
        Core {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(3),
            m_axis: AxisOut::new(2),
            m_axis_tuser: Default::default(),
            s_axis_weights_tdata: Default::default(),
            s_axis_weights_tvalid: Default::default(),
            s_axis_weights_tlast: Default::default(),
            s_axis_weights_tready: Default::default(),
            frame_error: Default::default(),
            frame_errors: Default::default(),
            weights_complete: Default::default(),
            weights_error: Default::default(),
            guard: FrameGuard::new(3, pixels),
            loader: if load.is_empty() {
                Vec::new()
            } else {
                vec![WeightStream::new(&load)]
            },
            net,
        }
    }
}

/// The core of a quantized model under a folding.
pub fn core(model: &QuantModel, plan: &Plan) -> Result<Core, HwError> {
    let pixels = model.network.input_shape().pixels();
    Ok(Core::new(network_graph(model, plan)?, pixels))
}

impl Logic for Core {
    fn update(&mut self) {
        let (clk, rst) = (self.clock.val(), self.reset.val());
        let g = &mut self.guard;
        g.clock.next = clk;
        g.reset.next = rst;
        join_stream!(self.s_axis => g.s_axis);
        let n = &mut self.net;
        n.clock.next = clk;
        n.reset.next = rst;
        join_stream!(g.m_axis => n.s_axis);
        join_stream!(n.m_axis => self.m_axis);
        g.done.next = n.m_axis.tvalid.val() && n.m_axis.tlast.val() && self.m_axis.tready.val();
        self.m_axis_tuser.next = g.bad.val();
        self.frame_error.next = g.error.val();
        self.frame_errors.next = g.errors.val();
        match self.loader.first_mut() {
            Some(l) => {
                l.clock.next = clk;
                l.reset.next = rst;
                l.s_tdata.next = self.s_axis_weights_tdata.val();
                l.s_tvalid.next = self.s_axis_weights_tvalid.val();
                l.s_tlast.next = self.s_axis_weights_tlast.val();
                self.s_axis_weights_tready.next = l.s_tready.val();
                n.wl.valid.next = l.wl_valid.val();
                n.wl.sel.next = l.wl_sel.val();
                n.wl.addr.next = l.wl_addr.val();
                n.wl.data.next = l.wl_data.val();
                g.enable.next = l.complete.val();
                self.weights_complete.next = l.complete.val();
                self.weights_error.next = l.error.val();
            }
            None => {
                n.wl.drive(None);
                self.s_axis_weights_tready.next = !rst;
                // Always enabled: the guard's own input ready still waits out the reset, and the
                // reset kept out of its output valid (a path into the first block's FIFO count).
                g.enable.next = true;
                self.weights_complete.next = !rst;
                self.weights_error.next = false;
            }
        }
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
        self.m_axis_tuser.connect();
        self.s_axis_weights_tready.connect();
        self.frame_error.connect();
        self.frame_errors.connect();
        self.weights_complete.connect();
        self.weights_error.connect();
        let g = &mut self.guard;
        g.clock.connect();
        g.reset.connect();
        g.enable.connect();
        g.done.connect();
        for s in &mut g.s_axis.tdata {
            s.connect();
        }
        g.s_axis.tvalid.connect();
        g.s_axis.tlast.connect();
        g.m_axis.tready.connect();
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
        for l in &mut self.loader {
            l.clock.connect();
            l.reset.connect();
            l.s_tdata.connect();
            l.s_tvalid.connect();
            l.s_tlast.connect();
        }
    }
    fn hdl(&self) -> Verilog {
        use std::fmt::Write;
        let mut v = String::from(
            "// The network core: frame guard, graph, weight stream loader.\n\
always @(*) guard$clock = clock;\nalways @(*) guard$reset = reset;\n\
always @(*) net$clock = clock;\nalways @(*) net$reset = reset;\n",
        );
        for l in 0..3 {
            let _ = writeln!(v, "always @(*) guard$s_axis$tdata${l} = s_axis$tdata${l};");
            let _ = writeln!(
                v,
                "always @(*) net$s_axis$tdata${l} = guard$m_axis$tdata${l};"
            );
        }
        v.push_str(
            "always @(*) guard$s_axis$tvalid = s_axis$tvalid;\n\
always @(*) guard$s_axis$tlast = s_axis$tlast;\n\
always @(*) s_axis$tready = guard$s_axis$tready;\n\
always @(*) net$s_axis$tvalid = guard$m_axis$tvalid;\n\
always @(*) net$s_axis$tlast = guard$m_axis$tlast;\n\
always @(*) guard$m_axis$tready = net$s_axis$tready;\n\
always @(*) m_axis$tdata$0 = net$m_axis$tdata$0;\n\
always @(*) m_axis$tdata$1 = net$m_axis$tdata$1;\n\
always @(*) m_axis$tvalid = net$m_axis$tvalid;\n\
always @(*) m_axis$tlast = net$m_axis$tlast;\n\
always @(*) net$m_axis$tready = m_axis$tready;\n\
always @(*) guard$done = net$m_axis$tvalid & net$m_axis$tlast & m_axis$tready;\n\
always @(*) m_axis_tuser = guard$bad;\n\
always @(*) frame_error = guard$error;\n\
always @(*) frame_errors = guard$errors;\n",
        );
        if self.loader.is_empty() {
            v.push_str(
                "// No loadable weight memories: weight beats are taken and dropped. (Constants are\n\
// written against `reset`: Icarus never runs an `always @(*)` that reads nothing.)\n\
/* verilator lint_off UNUSEDSIGNAL */\n\
wire [65:0] unused_weights = {s_axis_weights_tdata, s_axis_weights_tvalid, s_axis_weights_tlast};\n\
/* verilator lint_on UNUSEDSIGNAL */\n\
always @(*) s_axis_weights_tready = !reset;\n\
always @(*) guard$enable = reset || !reset;  // always enabled (the model says why)\n\
always @(*) weights_complete = !reset;\n\
always @(*) weights_error = reset && !reset;\n\
always @(*) net$wl$valid = reset && !reset;\n\
always @(*) net$wl$sel = {16{reset && !reset}};\n\
always @(*) net$wl$addr = {16{reset && !reset}};\n\
always @(*) net$wl$data = {64{reset && !reset}};\n",
            );
        } else {
            v.push_str(
                "always @(*) loader$0$clock = clock;\nalways @(*) loader$0$reset = reset;\n\
always @(*) loader$0$s_tdata = s_axis_weights_tdata;\n\
always @(*) loader$0$s_tvalid = s_axis_weights_tvalid;\n\
always @(*) loader$0$s_tlast = s_axis_weights_tlast;\n\
always @(*) s_axis_weights_tready = loader$0$s_tready;\n\
always @(*) net$wl$valid = loader$0$wl_valid;\n\
always @(*) net$wl$sel = loader$0$wl_sel;\n\
always @(*) net$wl$addr = loader$0$wl_addr;\n\
always @(*) net$wl$data = loader$0$wl_data;\n\
always @(*) guard$enable = loader$0$complete;\n\
always @(*) weights_complete = loader$0$complete;\n\
always @(*) weights_error = loader$0$error;\n",
            );
        }
        Verilog::Custom(v)
    }
}

impl crate::bundle::MemFiles for Core {
    fn mem_files(&self) -> Vec<(String, String)> {
        let mut v = self.net.mem_files();
        for l in &self.loader {
            v.extend(l.mem_files());
        }
        v
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
        weight_bits: net.weight_storage_bits(),
        layers,
    })
}
