//! Weights over AXI4-Stream ([`WeightStream`]): one packet fills every loadable weight memory
//! through the weight-load port.

use rust_hdl::prelude::*;

use super::is;
use crate::library::Instance;
use crate::load::LoadMemory;

/// The `$readmemh` file holding each loadable memory's last address.
pub const LAYOUT_FILE: &str = "weights_layout.mem";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Fetch,
    Run,
    Drop,
}

struct LoaderState {
    /// Each memory's last address (depth - 1).
    layout: Vec<u16>,
    phase: Phase,
    sel: usize,
    addr: u16,
    /// The layout ROM's output register.
    rom_q: u16,
    wl: (bool, u16, u16, u64),
    complete: bool,
    error: bool,
}

/// The weight stream loader (`sqf_axis_weights.v` has the rules): `s_*` in, the weight-load
/// port (`wl_*`) out a cycle later, `complete` and `error` status.
#[derive(LogicBlock)]
pub struct WeightStream {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_tdata: Signal<In, Bits<64>>,
    pub s_tvalid: Signal<In, Bit>,
    pub s_tlast: Signal<In, Bit>,
    pub s_tready: Signal<Out, Bit>,
    pub wl_valid: Signal<Out, Bit>,
    pub wl_sel: Signal<Out, Bits<16>>,
    pub wl_addr: Signal<Out, Bits<16>>,
    pub wl_data: Signal<Out, Bits<64>>,
    pub complete: Signal<Out, Bit>,
    pub error: Signal<Out, Bit>,
    _st: Box<LoaderState>,
}

impl WeightStream {
    /// A loader for `memories`, numbered 0, 1, ... in order (at least one).
    pub fn new(memories: &[LoadMemory]) -> Self {
        assert!(
            !memories.is_empty(),
            "a weight stream needs a memory to load"
        );
        WeightStream {
            clock: Default::default(),
            reset: Default::default(),
            s_tdata: Default::default(),
            s_tvalid: Default::default(),
            s_tlast: Default::default(),
            s_tready: Default::default(),
            wl_valid: Default::default(),
            wl_sel: Default::default(),
            wl_addr: Default::default(),
            wl_data: Default::default(),
            complete: Default::default(),
            error: Default::default(),
            _st: Box::new(LoaderState {
                layout: memories.iter().map(|m| (m.depth - 1) as u16).collect(),
                phase: Phase::Fetch,
                sel: 0,
                addr: 0,
                rom_q: 0,
                wl: (false, 0, 0, 0),
                complete: false,
                error: false,
            }),
        }
    }
    fn sb(&self) -> usize {
        let n = self._st.layout.len();
        (usize::BITS - (n - 1).leading_zeros()).max(1) as usize
    }
    /// The layout file: each memory's last address, one hexadecimal word a line.
    pub fn mem_files(&self) -> Vec<(String, String)> {
        let text = self
            ._st
            .layout
            .iter()
            .map(|a| format!("{a:04x}\n"))
            .collect();
        vec![(LAYOUT_FILE.to_string(), text)]
    }
}

impl Logic for WeightStream {
    fn update(&mut self) {
        let reset = is(&self.reset);
        let ready = |st: &LoaderState| !reset && st.phase != Phase::Fetch;
        if self.clock.pos_edge() {
            let st = &mut self._st;
            let fire = is(&self.s_tvalid) && ready(st);
            let last = is(&self.s_tlast);
            st.wl = (
                fire && st.phase == Phase::Run,
                st.sel as u16,
                st.addr,
                self.s_tdata.val().to_u64(),
            );
            let rom = st.layout[st.sel.min(st.layout.len() - 1)];
            if reset {
                st.phase = Phase::Fetch;
                st.sel = 0;
                st.addr = 0;
                st.complete = false;
                st.error = false;
            } else {
                match st.phase {
                    Phase::Fetch => st.phase = Phase::Run,
                    Phase::Run if fire => {
                        if st.sel == 0 && st.addr == 0 {
                            st.complete = false;
                        }
                        let mem_end = st.addr == st.rom_q;
                        if mem_end && st.sel == st.layout.len() - 1 {
                            st.sel = 0;
                            st.addr = 0;
                            if last {
                                st.complete = true;
                                st.phase = Phase::Fetch;
                            } else {
                                st.error = true;
                                st.phase = Phase::Drop;
                            }
                        } else if last {
                            st.error = true;
                            st.sel = 0;
                            st.addr = 0;
                            st.phase = Phase::Fetch;
                        } else if mem_end {
                            st.sel += 1;
                            st.addr = 0;
                            st.phase = Phase::Fetch;
                        } else {
                            st.addr = st.addr.wrapping_add(1);
                        }
                    }
                    Phase::Run => {}
                    Phase::Drop => {
                        if fire && last {
                            st.phase = Phase::Fetch;
                        }
                    }
                }
            }
            st.rom_q = rom;
        }
        let st = &self._st;
        self.s_tready.next = ready(st);
        self.wl_valid.next = st.wl.0;
        self.wl_sel.next = (st.wl.1 as u64).into();
        self.wl_addr.next = (st.wl.2 as u64).into();
        self.wl_data.next = st.wl.3.into();
        self.complete.next = st.complete;
        self.error.next = st.error;
    }
    fn connect(&mut self) {
        self.s_tready.connect();
        self.wl_valid.connect();
        self.wl_sel.connect();
        self.wl_addr.connect();
        self.wl_data.connect();
        self.complete.connect();
        self.error.connect();
    }
    /// Instantiates `sqf_axis_weights` (hw/verilog/sqf_axis_weights.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let i = Instance::new("sqf_axis_weights", "u")
            .param("NMEM", self._st.layout.len())
            .param("SB", self.sb())
            .param("FILE", format!("\"{LAYOUT_FILE}\""))
            .port("s_tdata", "s_tdata")
            .port("s_tvalid", "s_tvalid")
            .port("s_tlast", "s_tlast")
            .port("s_tready", "u_s_tready")
            .port("wl_valid", "u_wl_valid")
            .port("wl_sel", "u_wl_sel")
            .port("wl_addr", "u_wl_addr")
            .port("wl_data", "u_wl_data")
            .port("complete", "u_complete")
            .port("error", "u_error");
        Verilog::Custom(format!(
            "wire u_s_tready, u_wl_valid, u_complete, u_error;\nwire [15:0] u_wl_sel, u_wl_addr;\n\
             wire [63:0] u_wl_data;\n{}always @(*) s_tready = u_s_tready;\n\
             always @(*) wl_valid = u_wl_valid;\nalways @(*) wl_sel = u_wl_sel;\n\
             always @(*) wl_addr = u_wl_addr;\nalways @(*) wl_data = u_wl_data;\n\
             always @(*) complete = u_complete;\nalways @(*) error = u_error;\n",
            i.verilog()
        ))
    }
}
