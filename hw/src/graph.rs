//! Composition: a [`Graph`] is a rust-hdl block whose children ([`Node`]s) are connected by
//! stream edges. It holds no state of its own: its `update()` copies signals along the edges and
//! its Verilog is the same wiring as `always @(*)` assignments. All clocked state lives one level
//! down, in the nodes, so every register in a graph sees the clock edge in the same simulator
//! pass. Fire modules and the whole network are graphs.

use rust_hdl::prelude::*;

use crate::axis::{AxisIn, AxisOut};
use crate::blocks::{AvgPool, Broadcast, BypassAdd, Concat, Gearbox, MaxPool, StreamFifo};
use crate::bundle::MemFiles;
use crate::conv::ConvEngine;
use crate::load::{LoadMemory, WeightLoad};

/// One block of a graph. (Nodes are built once and kept in a `Vec`: the size difference
/// between an engine and a pool costs nothing worth a box.)
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Conv(ConvEngine),
    MaxPool(MaxPool),
    AvgPool(AvgPool),
    Add(BypassAdd),
    Concat(Concat),
    Broadcast(Broadcast),
    Gearbox(Gearbox),
    Fifo(StreamFifo),
}

macro_rules! each {
    ($self:expr, $b:ident => $e:expr) => {
        match $self {
            Node::Conv($b) => $e,
            Node::MaxPool($b) => $e,
            Node::AvgPool($b) => $e,
            Node::Add($b) => $e,
            Node::Concat($b) => $e,
            Node::Broadcast($b) => $e,
            Node::Gearbox($b) => $e,
            Node::Fifo($b) => $e,
        }
    };
}

impl Node {
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Conv(_) => "conv",
            Node::MaxPool(_) => "maxpool",
            Node::AvgPool(_) => "avgpool",
            Node::Add(_) => "add",
            Node::Concat(_) => "concat",
            Node::Broadcast(_) => "broadcast",
            Node::Gearbox(_) => "gearbox",
            Node::Fifo(_) => "fifo",
        }
    }
    pub fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        each!(self, b => &mut b.clock)
    }
    pub fn reset_mut(&mut self) -> &mut Signal<In, Bit> {
        each!(self, b => &mut b.reset)
    }
    pub fn inputs(&self) -> Vec<&AxisIn> {
        match self {
            Node::Add(b) => vec![&b.s_axis, &b.s_axis_b],
            Node::Concat(b) => vec![&b.s_axis, &b.s_axis_b],
            other => vec![each!(other, b => &b.s_axis)],
        }
    }
    pub fn inputs_mut(&mut self) -> Vec<&mut AxisIn> {
        match self {
            Node::Add(b) => vec![&mut b.s_axis, &mut b.s_axis_b],
            Node::Concat(b) => vec![&mut b.s_axis, &mut b.s_axis_b],
            other => vec![each!(other, b => &mut b.s_axis)],
        }
    }
    pub fn outputs(&self) -> Vec<&AxisOut> {
        match self {
            Node::Broadcast(b) => vec![&b.m_axis, &b.m_axis_b],
            other => vec![each!(other, b => &b.m_axis)],
        }
    }
    pub fn outputs_mut(&mut self) -> Vec<&mut AxisOut> {
        match self {
            Node::Broadcast(b) => vec![&mut b.m_axis, &mut b.m_axis_b],
            other => vec![each!(other, b => &mut b.m_axis)],
        }
    }
    fn in_names(&self) -> &'static [&'static str] {
        match self {
            Node::Add(_) | Node::Concat(_) => &["s_axis", "s_axis_b"],
            _ => &["s_axis"],
        }
    }
    fn out_names(&self) -> &'static [&'static str] {
        match self {
            Node::Broadcast(_) => &["m_axis", "m_axis_b"],
            _ => &["m_axis"],
        }
    }
    pub fn mem_files(&self) -> Vec<(String, String)> {
        each!(self, b => MemFiles::mem_files(b))
    }
}

impl Logic for Node {
    fn update(&mut self) {}
}

impl Block for Node {
    fn connect_all(&mut self) {
        each!(self, b => b.connect_all())
    }
    fn update_all(&mut self) {
        each!(self, b => b.update_all())
    }
    fn has_changed(&self) -> bool {
        each!(self, b => b.has_changed())
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        each!(self, b => b.accept(name, probe))
    }
}

/// One end of a stream edge: a node's port, or the graph's own input/output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The graph's `s_axis` (as a source) or `m_axis` (as a destination).
    Outside,
    /// Port `port` of node `node`.
    Node { node: usize, port: usize },
}

/// A stream edge.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub from: End,
    pub to: End,
}

/// A block made of stream-connected nodes (see the module documentation).
#[derive(LogicBlock)]
pub struct Graph {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    /// The weight-load port, fanned out to every convolution engine ([`crate::load`]).
    pub wl: WeightLoad,
    pub nodes: Vec<Node>,
    _edges: Vec<Edge>,
    /// A label per node (for reports and Verilog comments).
    _labels: Vec<String>,
    /// Estimated steady-state cycles per frame of each node.
    _cycles: Vec<u64>,
}

/// Incremental construction of a [`Graph`].
#[derive(Default)]
pub struct GraphBuilder {
    /// Convolution engines pair their PEs in `sqf_mac2` (two products per DSP).
    pub dsp_pairs: bool,
    /// The MAC lanes' and the requantizers' products are in ECP5 MULT18X18Ds' output
    /// registers.
    pub mul_ecp5: bool,
    /// The paired MAC lanes' product registers are UltraScale+ DSP48E2s' own.
    pub dsp48e2: bool,
    /// Block RAM weight ROMs split into banks of one ECP5 block RAM (`sqf_bank_pick`).
    pub rom_banks: bool,
    /// Convolution engines register their line buffer's word as it leaves the memory.
    pub lb_reg: bool,
    /// The stream FIFOs from 64 beats deep (a Fire module's pixel and bypass FIFOs) read at a
    /// register address (`RADDR_REG`).
    pub fifo_raddr_reg: bool,
    /// [`GraphBuilder::connect`] puts a two-beat FIFO on every stream between two nodes.
    pub link_slices: bool,
    /// Convolutions whose weight ROMs are LUTs (`sqf_rom_lut`).
    pub rom_logic: std::collections::BTreeSet<String>,
    /// Codebook layers stored as decoded int8 weights ([`crate::folding::Plan::decoded_weights`]).
    pub decoded_weights: std::collections::BTreeSet<String>,
    /// Convolutions whose weights are RAMs filled through the load port.
    pub load_weights: std::collections::BTreeSet<String>,
    /// The load-port number of the next loadable weight memory.
    next_load: usize,
    nodes: Vec<Node>,
    labels: Vec<String>,
    cycles: Vec<u64>,
    edges: Vec<Edge>,
}

impl GraphBuilder {
    /// The load-port number of the first of `pe` weight memories of convolution `name`, if its
    /// weights are loaded (numbers are handed out in the order the engines are added; all of
    /// them must fit the port's 16-bit select).
    pub fn load_base(&mut self, name: &str, pe: usize) -> Result<Option<u16>, crate::HwError> {
        if !self.load_weights.contains(name) {
            return Ok(None);
        }
        let b = self.next_load;
        if b + pe > 1 << 16 {
            return Err(crate::HwError::Folding(format!(
                "{name}: weight memories {b}..{} do not fit the load port's 16-bit select",
                b + pe
            )));
        }
        self.next_load += pe;
        Ok(Some(b as u16))
    }
    /// Adds a node; returns its index.
    pub fn add(&mut self, label: &str, node: Node, cycles_per_frame: u64) -> usize {
        self.nodes.push(node);
        self.labels.push(label.to_string());
        self.cycles.push(cycles_per_frame);
        self.nodes.len() - 1
    }
    /// Connects a source end to a destination end; with `link_slices`, through a two-beat
    /// FIFO when both are nodes and neither is a two-beat FIFO already. The slice's ready,
    /// valid and data come from its registers, so the paths from one block into the next
    /// end in it, and the placer can put it between the two. It passes a beat a cycle, so
    /// its cycles a frame are at most its source's.
    pub fn connect(&mut self, from: End, to: End) {
        if let (true, End::Node { node: src, port }, End::Node { node: dst, .. }) =
            (self.link_slices, from, to)
        {
            let slice = |n: &Node| matches!(n, Node::Fifo(f) if f.depth() <= 2);
            if !slice(&self.nodes[src]) && !slice(&self.nodes[dst]) {
                let lanes = self.lanes_of(from, 0);
                let label = format!("{}.slice{port}", self.labels[src]);
                let cycles = self.cycles[src];
                let n = self.add(&label, Node::Fifo(StreamFifo::new(lanes, 2)), cycles);
                self.edges.push(Edge {
                    from,
                    to: End::Node { node: n, port: 0 },
                });
                self.edges.push(Edge {
                    from: End::Node { node: n, port: 0 },
                    to,
                });
                return;
            }
        }
        self.edges.push(Edge { from, to });
    }
    /// Lanes of a source end (`in_lanes` for the outside input).
    pub fn lanes_of(&self, end: End, in_lanes: usize) -> usize {
        match end {
            End::Outside => in_lanes,
            End::Node { node, port } => self.nodes[node].outputs()[port].lanes(),
        }
    }
    pub fn build(self, in_lanes: usize, out_lanes: usize) -> Graph {
        let g = Graph {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(in_lanes),
            m_axis: AxisOut::new(out_lanes),
            wl: WeightLoad::default(),
            nodes: self.nodes,
            _edges: self.edges,
            _labels: self.labels,
            _cycles: self.cycles,
        };
        g.check();
        g
    }
}

impl Graph {
    fn check(&self) {
        let mut used_in = std::collections::HashSet::new();
        let mut used_out = std::collections::HashSet::new();
        for e in &self._edges {
            let src_lanes = match e.from {
                End::Outside => self.s_axis.lanes(),
                End::Node { node, port } => self.nodes[node].outputs()[port].lanes(),
            };
            let dst_lanes = match e.to {
                End::Outside => self.m_axis.lanes(),
                End::Node { node, port } => self.nodes[node].inputs()[port].lanes(),
            };
            assert_eq!(
                src_lanes, dst_lanes,
                "edge {e:?} joins streams of different widths"
            );
            assert!(
                used_out.insert(format!("{:?}", e.from)),
                "{:?} drives two edges",
                e.from
            );
            assert!(
                used_in.insert(format!("{:?}", e.to)),
                "{:?} is driven twice",
                e.to
            );
        }
        for (i, n) in self.nodes.iter().enumerate() {
            for p in 0..n.inputs().len() {
                assert!(
                    used_in.contains(&format!("{:?}", End::Node { node: i, port: p })),
                    "node {i} input {p} is unconnected"
                );
            }
            for p in 0..n.outputs().len() {
                assert!(
                    used_out.contains(&format!("{:?}", End::Node { node: i, port: p })),
                    "node {i} output {p} is unconnected"
                );
            }
        }
    }

    pub fn labels(&self) -> &[String] {
        &self._labels
    }
    /// Estimated steady-state cycles per frame: the slowest node's.
    pub fn cycles_per_frame(&self) -> u64 {
        self._cycles.iter().copied().max().unwrap_or(0)
    }
    /// The streams between the nodes and the graph's ports.
    pub fn edges(&self) -> &[Edge] {
        &self._edges
    }
    pub fn node_cycles(&self) -> &[u64] {
        &self._cycles
    }

    fn copy_edges(&mut self) {
        for e in self._edges.clone() {
            // Forward: data, valid, last.
            let (data, valid, last): (Vec<u8>, bool, bool) = match e.from {
                End::Outside => (
                    self.s_axis.data().collect(),
                    self.s_axis.tvalid.val(),
                    self.s_axis.tlast.val(),
                ),
                End::Node { node, port } => {
                    let o = self.nodes[node].outputs()[port];
                    (
                        o.tdata.iter().map(|s| s.val().index() as u8).collect(),
                        o.tvalid.val(),
                        o.tlast.val(),
                    )
                }
            };
            let ready: bool = match e.to {
                End::Outside => {
                    self.m_axis.set_data(data);
                    self.m_axis.tvalid.next = valid;
                    self.m_axis.tlast.next = last;
                    self.m_axis.tready.val()
                }
                End::Node { node, port } => {
                    let mut ins = self.nodes[node].inputs_mut();
                    let p = &mut ins[port];
                    for (s, d) in p.tdata.iter_mut().zip(data) {
                        s.next = (d as u64).into();
                    }
                    p.tvalid.next = valid;
                    p.tlast.next = last;
                    p.tready.val()
                }
            };
            match e.from {
                End::Outside => self.s_axis.tready.next = ready,
                End::Node { node, port } => {
                    self.nodes[node].outputs_mut()[port].tready.next = ready
                }
            }
        }
    }

    /// Every loadable weight memory of the graph's engines, by load-port number.
    pub fn load_memories(&self) -> Vec<LoadMemory> {
        let mut v: Vec<LoadMemory> = self
            .nodes
            .iter()
            .flat_map(|n| match n {
                Node::Conv(e) => e.load_memories(),
                _ => Vec::new(),
            })
            .collect();
        v.sort_by_key(|m| m.sel);
        v
    }

    /// Every `.mem` file of every node.
    pub fn mem_files(&self) -> Vec<(String, String)> {
        self.nodes.iter().flat_map(|n| n.mem_files()).collect()
    }
}

impl Logic for Graph {
    fn update(&mut self) {
        let clk = self.clock.val();
        let rst = self.reset.val();
        for n in &mut self.nodes {
            n.clock_mut().next = clk;
            n.reset_mut().next = rst;
            if let Node::Conv(e) = n {
                e.wl.follow(&self.wl);
            }
        }
        self.copy_edges();
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
        for n in &mut self.nodes {
            n.clock_mut().connect();
            n.reset_mut().connect();
            if let Node::Conv(e) = n {
                e.wl.connect();
            }
            for p in n.inputs_mut() {
                for s in &mut p.tdata {
                    s.connect();
                }
                p.tvalid.connect();
                p.tlast.connect();
            }
            for p in n.outputs_mut() {
                p.tready.connect();
            }
        }
    }
    fn hdl(&self) -> Verilog {
        use std::fmt::Write;
        let mut v = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(v, "// nodes${i}: {} ({})", self._labels[i], n.kind());
            let _ = writeln!(
                v,
                "always @(*) nodes${i}$clock = clock;\nalways @(*) nodes${i}$reset = reset;"
            );
            if let Node::Conv(_) = n {
                v.push_str(&WeightLoad::verilog_follow(&format!("nodes${i}$wl"), "wl$"));
            }
        }
        if !self.nodes.iter().any(|n| matches!(n, Node::Conv(_))) {
            v.push_str("/* verilator lint_off UNUSEDSIGNAL */\nwire [96:0] unused_wl = {wl$valid, wl$sel, wl$addr, wl$data};\n/* verilator lint_on UNUSEDSIGNAL */\n");
        }
        for e in &self._edges {
            let src = |sig: &str| match e.from {
                End::Outside => format!("s_axis${sig}"),
                End::Node { node, port } => {
                    format!("nodes${node}${}${sig}", self.nodes[node].out_names()[port])
                }
            };
            let dst = |sig: &str| match e.to {
                End::Outside => format!("m_axis${sig}"),
                End::Node { node, port } => {
                    format!("nodes${node}${}${sig}", self.nodes[node].in_names()[port])
                }
            };
            let lanes = match e.to {
                End::Outside => self.m_axis.lanes(),
                End::Node { node, port } => self.nodes[node].inputs()[port].lanes(),
            };
            for l in 0..lanes {
                let _ = writeln!(
                    v,
                    "always @(*) {} = {};",
                    dst(&format!("tdata${l}")),
                    src(&format!("tdata${l}"))
                );
            }
            let _ = writeln!(v, "always @(*) {} = {};", dst("tvalid"), src("tvalid"));
            let _ = writeln!(v, "always @(*) {} = {};", dst("tlast"), src("tlast"));
            let _ = writeln!(v, "always @(*) {} = {};", src("tready"), dst("tready"));
        }
        Verilog::Custom(v)
    }
}

impl MemFiles for Graph {
    fn mem_files(&self) -> Vec<(String, String)> {
        Graph::mem_files(self)
    }
}

impl crate::harness::StreamView for Graph {
    fn in_ports(&self) -> Vec<&AxisIn> {
        vec![&self.s_axis]
    }
    fn out_port(&self) -> &AxisOut {
        &self.m_axis
    }
}

impl crate::harness::StreamBlock for Graph {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
    fn reset_mut(&mut self) -> &mut Signal<In, Bit> {
        &mut self.reset
    }
    fn inputs_mut(&mut self) -> Vec<&mut AxisIn> {
        vec![&mut self.s_axis]
    }
    fn output_mut(&mut self) -> &mut AxisOut {
        &mut self.m_axis
    }
    fn load_mut(&mut self) -> Option<&mut WeightLoad> {
        Some(&mut self.wl)
    }
}
