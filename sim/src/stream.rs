//! A verilated design with AXI4-Stream port groups as a [`StreamDut`], so the same driver (and
//! the same stall pattern) that tests a rust-hdl block tests its Verilog.

use squeezeflow_hw::harness::StreamDut;

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
}
