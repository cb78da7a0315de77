//! A verilated design with AXI4-Stream port groups as a [`StreamDut`], so the same driver (and
//! the same stall pattern) that tests a rust-hdl block tests its Verilog.

use squeezeflow_hw::harness::StreamDut;
use squeezeflow_hw::load::LoadWord;
use squeezeflow_hw::HwError;

use crate::verilator::{Instance, Model};
use crate::SimError;

struct InPorts {
    tdata: Vec<usize>,
    tvalid: usize,
    tlast: usize,
    tready: usize,
}

struct OutPorts {
    tdata: Vec<usize>,
    tvalid: usize,
    tlast: usize,
    tready: usize,
}

fn lanes(model: &Model, prefix: &str) -> Vec<usize> {
    (0..)
        .map_while(|l| model.port(&format!("{prefix}$tdata${l}")).ok())
        .collect()
}

/// A verilated block whose inputs are port groups `s_axis`, `s_axis_b`, ... and whose output
/// is `m_axis` (rust-hdl names: `s_axis$tdata$0`, `s_axis$tvalid`, ...).
pub struct VerilatedStreams<'a> {
    inst: Instance<'a>,
    clock: usize,
    reset: usize,
    ins: Vec<InPorts>,
    out: OutPorts,
    /// `wl$valid`, `wl$sel`, `wl$addr`, `wl$data`, when the block has a weight-load port.
    wl: Option<[usize; 4]>,
}

/// The four weight-load ports named `{prefix}valid`, `{prefix}sel`, ... if the model has them.
fn load_ports(model: &Model, prefix: &str) -> Option<[usize; 4]> {
    let p = |s: &str| model.port(&format!("{prefix}{s}")).ok();
    Some([p("valid")?, p("sel")?, p("addr")?, p("data")?])
}

fn drive_load_ports(
    inst: &mut Instance<'_>,
    ports: Option<[usize; 4]>,
    w: Option<LoadWord>,
) -> Result<(), HwError> {
    match (ports, w) {
        (Some([v, s, a, d]), w) => {
            let (valid, w) = match w {
                Some(w) => (1, w),
                None => (
                    0,
                    LoadWord {
                        sel: 0,
                        addr: 0,
                        data: 0,
                    },
                ),
            };
            inst.set(v, valid);
            inst.set(s, w.sel as u64);
            inst.set(a, w.addr as u64);
            inst.set(d, w.data);
            Ok(())
        }
        (None, None) => Ok(()),
        (None, Some(_)) => Err(HwError::Sim(
            "the design has no weight-load port".to_string(),
        )),
    }
}

impl<'a> VerilatedStreams<'a> {
    pub fn new(model: &'a Model, inputs: &[&str], output: &str) -> Result<Self, SimError> {
        let mut ins = Vec::new();
        for p in inputs {
            let tdata = lanes(model, p);
            if tdata.is_empty() {
                return Err(SimError::Design(format!("no data lanes for stream `{p}`")));
            }
            ins.push(InPorts {
                tdata,
                tvalid: model.port(&format!("{p}$tvalid"))?,
                tlast: model.port(&format!("{p}$tlast"))?,
                tready: model.port(&format!("{p}$tready"))?,
            });
        }
        let out = OutPorts {
            tdata: lanes(model, output),
            tvalid: model.port(&format!("{output}$tvalid"))?,
            tlast: model.port(&format!("{output}$tlast"))?,
            tready: model.port(&format!("{output}$tready"))?,
        };
        Ok(VerilatedStreams {
            inst: model.instance(),
            clock: model.port("clock")?,
            reset: model.port("reset")?,
            ins,
            out,
            wl: load_ports(model, "wl$"),
        })
    }

    pub fn instance(&mut self) -> &mut Instance<'a> {
        &mut self.inst
    }
}

impl StreamDut for VerilatedStreams<'_> {
    fn input_lanes(&self) -> Vec<usize> {
        self.ins.iter().map(|p| p.tdata.len()).collect()
    }
    fn reset(&mut self, cycles: usize) {
        self.inst.set(self.reset, 1);
        self.inst.eval();
        for _ in 0..cycles {
            self.inst.tick(self.clock);
        }
        self.inst.set(self.reset, 0);
        self.inst.eval();
    }
    fn drive_input(&mut self, i: usize, beat: Option<(&[u8], bool)>) {
        let p = &self.ins[i];
        match beat {
            Some((data, last)) => {
                for (&port, &d) in p.tdata.iter().zip(data) {
                    self.inst.set(port, d as u64);
                }
                self.inst.set(p.tvalid, 1);
                self.inst.set(p.tlast, last as u64);
            }
            None => {
                self.inst.set(p.tvalid, 0);
                self.inst.set(p.tlast, 0);
            }
        }
    }
    fn drive_output_ready(&mut self, ready: bool) {
        self.inst.set(self.out.tready, ready as u64);
    }
    fn settle(&mut self) {
        self.inst.eval();
    }
    fn input_ready(&self, i: usize) -> bool {
        self.inst.get(self.ins[i].tready) != 0
    }
    fn output(&self) -> Option<(Vec<u8>, bool)> {
        if self.inst.get(self.out.tvalid) == 0 {
            return None;
        }
        let data = self
            .out
            .tdata
            .iter()
            .map(|&p| self.inst.get(p) as u8)
            .collect();
        Some((data, self.inst.get(self.out.tlast) != 0))
    }
    fn tick(&mut self) {
        self.inst.tick(self.clock);
    }
    fn drive_load(&mut self, w: Option<LoadWord>) -> Result<(), HwError> {
        drive_load_ports(&mut self.inst, self.wl, w)
    }
}

/// The network top level (`s_axis_tdata` 24-bit RGB pixels, `m_axis_tdata` 16-bit logits) as a
/// [`StreamDut`] with 3 input lanes and 2 output lanes.
pub struct VerilatedTop<'a> {
    inst: Instance<'a>,
    clock: usize,
    reset: usize,
    s_tdata: usize,
    s_tvalid: usize,
    s_tlast: usize,
    s_tready: usize,
    m_tdata: usize,
    m_tvalid: usize,
    m_tlast: usize,
    m_tready: usize,
    wl: Option<[usize; 4]>,
}

impl<'a> VerilatedTop<'a> {
    pub fn new(model: &'a Model) -> Result<Self, SimError> {
        let p = |n: &str| model.port(n);
        Ok(VerilatedTop {
            clock: p("clock")?,
            reset: p("reset")?,
            s_tdata: p("s_axis_tdata")?,
            s_tvalid: p("s_axis_tvalid")?,
            s_tlast: p("s_axis_tlast")?,
            s_tready: p("s_axis_tready")?,
            m_tdata: p("m_axis_tdata")?,
            m_tvalid: p("m_axis_tvalid")?,
            m_tlast: p("m_axis_tlast")?,
            m_tready: p("m_axis_tready")?,
            wl: load_ports(model, "wl_"),
            inst: model.instance(),
        })
    }
    pub fn instance(&mut self) -> &mut Instance<'a> {
        &mut self.inst
    }
}

impl StreamDut for VerilatedTop<'_> {
    fn input_lanes(&self) -> Vec<usize> {
        vec![3]
    }
    fn reset(&mut self, cycles: usize) {
        self.inst.set(self.reset, 1);
        self.inst.eval();
        for _ in 0..cycles {
            self.inst.tick(self.clock);
        }
        self.inst.set(self.reset, 0);
        self.inst.eval();
    }
    fn drive_input(&mut self, _i: usize, beat: Option<(&[u8], bool)>) {
        match beat {
            Some((d, last)) => {
                let px = d[0] as u64 | (d[1] as u64) << 8 | (d[2] as u64) << 16;
                self.inst.set(self.s_tdata, px);
                self.inst.set(self.s_tvalid, 1);
                self.inst.set(self.s_tlast, last as u64);
            }
            None => {
                self.inst.set(self.s_tvalid, 0);
                self.inst.set(self.s_tlast, 0);
            }
        }
    }
    fn drive_output_ready(&mut self, ready: bool) {
        self.inst.set(self.m_tready, ready as u64);
    }
    fn settle(&mut self) {
        self.inst.eval();
    }
    fn input_ready(&self, _i: usize) -> bool {
        self.inst.get(self.s_tready) != 0
    }
    fn output(&self) -> Option<(Vec<u8>, bool)> {
        if self.inst.get(self.m_tvalid) == 0 {
            return None;
        }
        let v = self.inst.get(self.m_tdata);
        Some((
            vec![v as u8, (v >> 8) as u8],
            self.inst.get(self.m_tlast) != 0,
        ))
    }
    fn tick(&mut self) {
        self.inst.tick(self.clock);
    }
    fn drive_load(&mut self, w: Option<LoadWord>) -> Result<(), HwError> {
        drive_load_ports(&mut self.inst, self.wl, w)
    }
}
