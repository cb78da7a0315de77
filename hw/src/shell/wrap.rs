//! The wiring-only parents: [`CoreWrap`] (puts [`ShellCore`] at the depth of the graph's
//! nodes) and [`Shell`] (the core wrapper beside the network graph, with only clock, reset and
//! the UART pins outside).

use rust_hdl::prelude::*;

use super::config::ShellConfig;
use super::core_model::ShellCore;
use crate::axis::{join_stream, AxisIn, AxisNames, AxisOut};
use crate::bundle::MemFiles;
use crate::graph::Graph;
use crate::HwError;

/// A wiring-only wrapper that puts [`ShellCore`] at the depth of the graph's nodes.
#[derive(LogicBlock)]
pub struct CoreWrap {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    pub m_axis: AxisOut,
    pub s_axis: AxisIn,
    pub wl_valid: Signal<Out, Bit>,
    pub wl_sel: Signal<Out, Bits<16>>,
    pub wl_addr: Signal<Out, Bits<16>>,
    pub wl_data: Signal<Out, Bits<64>>,
    pub core: ShellCore,
}

fn wire_stream(v: &mut String, dst: &str, src: &str, lanes: usize, forward_ready: bool) {
    let d = AxisNames::new(dst);
    let s = AxisNames::new(src);
    for l in 0..lanes {
        v.push_str(&format!("always @(*) {} = {};\n", d.tdata(l), s.tdata(l)));
    }
    v.push_str(&format!("always @(*) {} = {};\n", d.tvalid(), s.tvalid()));
    v.push_str(&format!("always @(*) {} = {};\n", d.tlast(), s.tlast()));
    if forward_ready {
        v.push_str(&format!("always @(*) {} = {};\n", s.tready(), d.tready()));
    }
}

impl Logic for CoreWrap {
    fn update(&mut self) {
        let c = &mut self.core;
        c.clock.next = self.clock.val();
        c.reset.next = self.reset.val();
        c.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = c.uart_tx.val();
        join_stream!(c.m_axis => self.m_axis);
        join_stream!(self.s_axis => c.s_axis);
        self.wl_valid.next = c.wl_valid.val();
        self.wl_sel.next = c.wl_sel.val();
        self.wl_addr.next = c.wl_addr.val();
        self.wl_data.next = c.wl_data.val();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        self.m_axis.connect_outputs();
        self.s_axis.tready.connect();
        self.wl_valid.connect();
        self.wl_sel.connect();
        self.wl_addr.connect();
        self.wl_data.connect();
        let c = &mut self.core;
        c.clock.connect();
        c.reset.connect();
        c.uart_rx.connect();
        c.m_axis.tready.connect();
        for s in &mut c.s_axis.tdata {
            s.connect();
        }
        c.s_axis.tvalid.connect();
        c.s_axis.tlast.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from(
            "always @(*) core$clock = clock;\nalways @(*) core$reset = reset;\n\
always @(*) core$uart_rx = uart_rx;\nalways @(*) uart_tx = core$uart_tx;\n",
        );
        wire_stream(&mut v, "m_axis", "core$m_axis", 3, true);
        wire_stream(&mut v, "core$s_axis", "s_axis", 2, true);
        for x in ["valid", "sel", "addr", "data"] {
            v.push_str(&format!("always @(*) wl_{x} = core$wl_{x};\n"));
        }
        Verilog::Custom(v)
    }
}

/// The board shell: `clock`, `reset` (synchronous, active high), `uart_rx` (from the host),
/// `uart_tx` (to the host), and nothing else.
#[derive(LogicBlock)]
pub struct Shell {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    pub ctl: CoreWrap,
    pub net: Graph,
}

impl Shell {
    /// A shell around a network graph (3 lanes in, 2 out, as [`crate::network::network_graph`]
    /// builds).
    /// The shell's weight memories are the graph's ([`Graph::load_memories`], numbered from
    /// 0 without gaps), whatever `cfg.load_depths` says.
    pub fn new(cfg: &ShellConfig, net: Graph) -> Result<Self, HwError> {
        let mems = net.load_memories();
        if mems.iter().enumerate().any(|(i, m)| m.sel as usize != i) {
            return Err(HwError::Shell(
                "the graph's weight memories are not numbered 0, 1, 2, ...".into(),
            ));
        }
        let mut cfg = cfg.clone();
        cfg.load_depths = mems.iter().map(|m| m.depth as u16).collect();
        let cfg = &cfg;
        cfg.check()?;
        if net.s_axis.lanes() != 3 || net.m_axis.lanes() != 2 {
            return Err(HwError::Shell(
                "the graph must take 3 lanes (RGB) and give 2 (a u16 logit)".into(),
            ));
        }
        Ok(Shell {
            clock: Default::default(),
            reset: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            ctl: CoreWrap {
                clock: Default::default(),
                reset: Default::default(),
                uart_rx: Default::default(),
                uart_tx: Default::default(),
                m_axis: AxisOut::new(3),
                s_axis: AxisIn::new(2),
                wl_valid: Default::default(),
                wl_sel: Default::default(),
                wl_addr: Default::default(),
                wl_data: Default::default(),
                core: ShellCore::new(cfg),
            },
            net,
        })
    }

    /// One clock cycle in rust-hdl's simulator with `rx` on `uart_rx`: returns `uart_tx` as it
    /// was before the edge (the value a receiver samples in this cycle).
    pub fn cycle(&mut self, rx: bool) -> bool {
        self.uart_rx.next = rx;
        crate::harness::settle(self);
        let tx = self.uart_tx.val();
        self.clock.next = true.into();
        crate::harness::settle(self);
        self.clock.next = false.into();
        crate::harness::settle(self);
        tx
    }

    /// Connects and holds reset for `cycles` cycles (rust-hdl's simulator).
    pub fn reset_sim(&mut self, cycles: usize) {
        self.connect_all();
        self.reset.next = true;
        for _ in 0..cycles {
            self.cycle(true);
        }
        self.reset.next = false;
        crate::harness::settle(self);
    }
}

impl Logic for Shell {
    fn update(&mut self) {
        let w = &mut self.ctl;
        let n = &mut self.net;
        w.clock.next = self.clock.val();
        w.reset.next = self.reset.val();
        n.clock.next = self.clock.val();
        n.reset.next = self.reset.val();
        w.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = w.uart_tx.val();
        join_stream!(w.m_axis => n.s_axis);
        join_stream!(n.m_axis => w.s_axis);
        n.wl.valid.next = w.wl_valid.val();
        n.wl.sel.next = w.wl_sel.val();
        n.wl.addr.next = w.wl_addr.val();
        n.wl.data.next = w.wl_data.val();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        let w = &mut self.ctl;
        w.clock.connect();
        w.reset.connect();
        w.uart_rx.connect();
        w.m_axis.tready.connect();
        for s in &mut w.s_axis.tdata {
            s.connect();
        }
        w.s_axis.tvalid.connect();
        w.s_axis.tlast.connect();
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
        let mut v = String::from(
            "// squeezeflow board shell: the accelerator behind a UART protocol engine.\n\
always @(*) ctl$clock = clock;\nalways @(*) ctl$reset = reset;\n\
always @(*) net$clock = clock;\nalways @(*) net$reset = reset;\n\
always @(*) ctl$uart_rx = uart_rx;\nalways @(*) uart_tx = ctl$uart_tx;\n",
        );
        wire_stream(&mut v, "net$s_axis", "ctl$m_axis", 3, true);
        wire_stream(&mut v, "ctl$s_axis", "net$m_axis", 2, true);
        v.push_str(&crate::load::WeightLoad::verilog_follow(
            "net$wl", "ctl$wl_",
        ));
        Verilog::Custom(v)
    }
}

impl MemFiles for Shell {
    fn mem_files(&self) -> Vec<(String, String)> {
        self.net.mem_files()
    }
}
