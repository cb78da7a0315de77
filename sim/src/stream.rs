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

/// A bundle's top module (`aclk`, `aresetn`; `s_axis_tdata` RGB pixels in 24- or 32-bit beats,
/// `m_axis_tdata` 16-bit logits with `m_axis_tuser`; the weight stream and the status) as a
/// [`StreamDut`] with 3 input lanes and 2 output lanes.
pub struct VerilatedTop<'a> {
    inst: Instance<'a>,
    clock: usize,
    resetn: usize,
    s_tdata: usize,
    s_tvalid: usize,
    s_tlast: usize,
    s_tready: usize,
    m_tdata: usize,
    m_tvalid: usize,
    m_tlast: usize,
    m_tuser: usize,
    m_tready: usize,
    w_tdata: usize,
    w_tvalid: usize,
    w_tlast: usize,
    w_tready: usize,
    frame_error: usize,
    frame_errors: usize,
    weights_complete: usize,
    weights_error: usize,
    /// What the unused top byte of a 32-bit pixel beat carries (it must change nothing).
    pub pad_byte: u8,
    px_bits: u32,
}

/// The top module's status outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub frame_error: bool,
    pub frame_errors: u16,
    pub weights_complete: bool,
    pub weights_error: bool,
}

impl<'a> VerilatedTop<'a> {
    pub fn new(model: &'a Model) -> Result<Self, SimError> {
        let p = |n: &str| model.port(n);
        Ok(VerilatedTop {
            clock: p("aclk")?,
            resetn: p("aresetn")?,
            s_tdata: p("s_axis_tdata")?,
            s_tvalid: p("s_axis_tvalid")?,
            s_tlast: p("s_axis_tlast")?,
            s_tready: p("s_axis_tready")?,
            m_tdata: p("m_axis_tdata")?,
            m_tvalid: p("m_axis_tvalid")?,
            m_tlast: p("m_axis_tlast")?,
            m_tuser: p("m_axis_tuser")?,
            m_tready: p("m_axis_tready")?,
            w_tdata: p("s_axis_weights_tdata")?,
            w_tvalid: p("s_axis_weights_tvalid")?,
            w_tlast: p("s_axis_weights_tlast")?,
            w_tready: p("s_axis_weights_tready")?,
            frame_error: p("frame_error")?,
            frame_errors: p("frame_errors")?,
            weights_complete: p("weights_complete")?,
            weights_error: p("weights_error")?,
            pad_byte: 0xa5,
            px_bits: model.ports[p("s_axis_tdata")?].width,
            inst: model.instance(),
        })
    }
    pub fn instance(&mut self) -> &mut Instance<'a> {
        &mut self.inst
    }
    pub fn status(&self) -> Status {
        Status {
            frame_error: self.inst.get(self.frame_error) != 0,
            frame_errors: self.inst.get(self.frame_errors) as u16,
            weights_complete: self.inst.get(self.weights_complete) != 0,
            weights_error: self.inst.get(self.weights_error) != 0,
        }
    }
    /// `m_axis_tuser` of the beat on offer.
    pub fn output_bad(&self) -> bool {
        self.inst.get(self.m_tuser) != 0
    }
    /// Sends one weight packet (`words` in the manifest's order, `tlast` on the last) through
    /// `s_axis_weights`, pausing the stream with probability `stall` a cycle; returns the cycles
    /// taken. Fails if the port stops taking words for `max_idle` cycles.
    pub fn load_stream(
        &mut self,
        words: &[u64],
        stall: f64,
        seed: u64,
        max_idle: u64,
    ) -> Result<u64, HwError> {
        let mut rng = squeezeflow_model::float::SplitMix64::new(seed ^ 0x5eed);
        let (mut i, mut cycles, mut idle) = (0usize, 0u64, 0u64);
        while i < words.len() {
            let present = stall == 0.0 || rng.uniform() >= stall;
            self.inst.set(self.w_tvalid, present as u64);
            self.inst.set(self.w_tdata, words[i]);
            self.inst.set(self.w_tlast, (i + 1 == words.len()) as u64);
            self.inst.eval();
            let fire = present && self.inst.get(self.w_tready) != 0;
            self.inst.tick(self.clock);
            cycles += 1;
            if fire {
                i += 1;
                idle = 0;
            } else {
                idle += 1;
                if idle > max_idle {
                    return Err(HwError::Sim(format!(
                        "the weight stream took no word for {max_idle} cycles (word {i} of {})",
                        words.len()
                    )));
                }
            }
        }
        self.inst.set(self.w_tvalid, 0);
        self.inst.set(self.w_tlast, 0);
        self.inst.eval();
        // The last word reaches its memory a cycle after it is taken.
        self.inst.tick(self.clock);
        Ok(cycles + 1)
    }
}

impl StreamDut for VerilatedTop<'_> {
    fn input_lanes(&self) -> Vec<usize> {
        vec![3]
    }
    fn reset(&mut self, cycles: usize) {
        self.inst.set(self.resetn, 0);
        self.inst.eval();
        for _ in 0..cycles {
            self.inst.tick(self.clock);
        }
        self.inst.set(self.resetn, 1);
        self.inst.eval();
    }
    fn drive_input(&mut self, _i: usize, beat: Option<(&[u8], bool)>) {
        match beat {
            Some((d, last)) => {
                let px = d[0] as u64
                    | (d[1] as u64) << 8
                    | (d[2] as u64) << 16
                    | if self.px_bits > 24 {
                        (self.pad_byte as u64) << 24
                    } else {
                        0
                    };
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
        match w {
            None => Ok(()),
            Some(_) => Err(HwError::Sim(
                "a bundle's top module loads weights through s_axis_weights \
                 (VerilatedTop::load_stream), not word by word"
                    .into(),
            )),
        }
    }
}
