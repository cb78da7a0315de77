//! AXI4-Stream ports: `tdata` as byte lanes (one `u8` channel each, pixel-major channel-minor
//! order), `tvalid`, `tready`, `tlast` (the last beat of a frame).
//!
//! Lanes are separate 8-bit signals, not one packed bus: Verilator simulates narrow signals far
//! faster than wide ones. In Verilog a port group `s_axis` becomes `s_axis$tdata$0`,
//! `s_axis$tvalid`, and so on.

use rust_hdl::prelude::*;

/// Joins stream end `$from` (a group the parent receives, or a child's output) to `$to` for
/// one `update()` of a wiring-only parent: data, valid and last forward, ready back.
macro_rules! join_stream {
    ($from:expr => $to:expr) => {{
        for (d, s) in $to.tdata.iter_mut().zip(&$from.tdata) {
            d.next = s.val();
        }
        $to.tvalid.next = $from.tvalid.val();
        $to.tlast.next = $from.tlast.val();
        $from.tready.next = $to.tready.val();
    }};
}
pub(crate) use join_stream;

/// A stream input (`s_axis_*`): `tready` is driven by the block.
#[derive(Clone, Debug)]
pub struct AxisIn {
    pub tdata: Vec<Signal<In, Bits<8>>>,
    pub tvalid: Signal<In, Bit>,
    pub tlast: Signal<In, Bit>,
    pub tready: Signal<Out, Bit>,
}

/// A stream output (`m_axis_*`): `tready` comes from the consumer.
#[derive(Clone, Debug)]
pub struct AxisOut {
    pub tdata: Vec<Signal<Out, Bits<8>>>,
    pub tvalid: Signal<Out, Bit>,
    pub tlast: Signal<Out, Bit>,
    pub tready: Signal<In, Bit>,
}

impl AxisIn {
    pub fn new(lanes: usize) -> Self {
        AxisIn {
            tdata: (0..lanes).map(|_| Signal::default()).collect(),
            tvalid: Signal::default(),
            tlast: Signal::default(),
            tready: Signal::default(),
        }
    }
    pub fn lanes(&self) -> usize {
        self.tdata.len()
    }
    /// The data lanes' values.
    pub fn data(&self) -> impl Iterator<Item = u8> + '_ {
        self.tdata.iter().map(|s| s.val().index() as u8)
    }
}

impl AxisOut {
    pub fn new(lanes: usize) -> Self {
        AxisOut {
            tdata: (0..lanes).map(|_| Signal::default()).collect(),
            tvalid: Signal::default(),
            tlast: Signal::default(),
            tready: Signal::default(),
        }
    }
    pub fn lanes(&self) -> usize {
        self.tdata.len()
    }
    /// Marks the outputs as driven by the block (rust-hdl's connection check).
    pub fn connect_outputs(&mut self) {
        for s in &mut self.tdata {
            s.connect();
        }
        self.tvalid.connect();
        self.tlast.connect();
    }
    /// Sets the output lanes (`next`) from bytes.
    pub fn set_data(&mut self, bytes: impl IntoIterator<Item = u8>) {
        for (s, b) in self.tdata.iter_mut().zip(bytes) {
            s.next = (b as u64).into();
        }
    }
}

macro_rules! port_group_block {
    ($t:ty) => {
        impl Logic for $t {
            fn update(&mut self) {}
        }
        impl Block for $t {
            fn connect_all(&mut self) {
                self.tdata.connect_all();
                self.tvalid.connect_all();
                self.tlast.connect_all();
                self.tready.connect_all();
            }
            fn update_all(&mut self) {
                self.tdata.update_all();
                self.tvalid.update_all();
                self.tlast.update_all();
                self.tready.update_all();
            }
            fn has_changed(&self) -> bool {
                self.tdata.has_changed()
                    || self.tvalid.has_changed()
                    || self.tlast.has_changed()
                    || self.tready.has_changed()
            }
            fn accept(&self, name: &str, probe: &mut dyn Probe) {
                probe.visit_start_namespace(name, self);
                self.tdata.accept("tdata", probe);
                self.tvalid.accept("tvalid", probe);
                self.tlast.accept("tlast", probe);
                self.tready.accept("tready", probe);
                probe.visit_end_namespace(name, self);
            }
        }
    };
}
port_group_block!(AxisIn);
port_group_block!(AxisOut);

/// Verilog names of a port group's signals.
pub(crate) struct AxisNames {
    pub prefix: String,
}

impl AxisNames {
    pub fn new(prefix: &str) -> Self {
        AxisNames {
            prefix: prefix.to_string(),
        }
    }
    pub fn tdata(&self, lane: usize) -> String {
        format!("{}$tdata${lane}", self.prefix)
    }
    pub fn tvalid(&self) -> String {
        format!("{}$tvalid", self.prefix)
    }
    pub fn tready(&self) -> String {
        format!("{}$tready", self.prefix)
    }
    pub fn tlast(&self) -> String {
        format!("{}$tlast", self.prefix)
    }
    /// `{lane n-1, ..., lane 0}`: the lanes as one packed word, lane 0 in the low byte.
    pub fn packed(&self, lanes: usize) -> String {
        let parts: Vec<String> = (0..lanes).rev().map(|l| self.tdata(l)).collect();
        format!("{{{}}}", parts.join(", "))
    }
}
