//! Drives a block's streams in rust-hdl's simulator, cycle by cycle, with random stalls on every
//! input (`tvalid` low) and on the output (`tready` low), as the block tests need.
//!
//! The circuit is stepped directly (set inputs, settle, raise the clock, settle, lower it,
//! settle): far faster than rust-hdl's threaded testbench API, and the same semantics.

use rust_hdl::prelude::*;

use crate::axis::{AxisIn, AxisOut};
use crate::load::{LoadWord, WeightLoad};
use crate::HwError;

/// A block with one clock, a synchronous reset, stream inputs and one stream output.
pub trait StreamBlock: Block + StreamView {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock>;
    fn reset_mut(&mut self) -> &mut Signal<In, Bit>;
    fn inputs_mut(&mut self) -> Vec<&mut AxisIn>;
    fn output_mut(&mut self) -> &mut AxisOut;
    /// The weight-load port, for blocks that have one ([`crate::load`]).
    fn load_mut(&mut self) -> Option<&mut WeightLoad> {
        None
    }
}

/// Random stall pattern: the probability that an input holds back a beat it could send, and
/// that the output refuses a beat, in a given cycle.
#[derive(Clone, Copy, Debug)]
pub struct Stalls {
    pub input: f64,
    pub output: f64,
    pub seed: u64,
}

impl Stalls {
    pub const NONE: Stalls = Stalls {
        input: 0.0,
        output: 0.0,
        seed: 0,
    };
    pub fn random(seed: u64) -> Self {
        Stalls {
            input: 0.3,
            output: 0.3,
            seed,
        }
    }
    /// A consumer that mostly refuses (85 % of cycles) behind an eager producer: the output
    /// FIFO fills, so a block must count the beats still in its pipeline in its room.
    pub fn choked(seed: u64) -> Self {
        Stalls {
            input: 0.1,
            output: 0.85,
            seed,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct StreamRun {
    /// Output bytes, frame by frame (split at `tlast`).
    pub frames: Vec<Vec<u8>>,
    /// Cycle (after reset) at which each frame's last beat left.
    pub frame_done: Vec<u64>,
    pub cycles: u64,
}

impl StreamRun {
    /// Cycles between the last two frames' ends: the steady-state cycles per frame.
    pub fn steady_cycles_per_frame(&self) -> Option<u64> {
        let n = self.frame_done.len();
        (n >= 2).then(|| self.frame_done[n - 1] - self.frame_done[n - 2])
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Propagates changes until the circuit is stable.
pub fn settle<B: Block + ?Sized>(b: &mut B) {
    for _ in 0..10_000 {
        b.update_all();
        if !b.has_changed() {
            return;
        }
    }
    panic!("the circuit does not settle (a combinational loop)");
}

/// One rising edge: raise the clock, settle, lower it, settle.
pub fn tick<B: StreamBlock + ?Sized>(b: &mut B) {
    b.clock_mut().next = true.into();
    settle(b);
    b.clock_mut().next = false.into();
    settle(b);
}

/// A device under test with stream ports, as the stream driver sees it: rust-hdl blocks
/// ([`HdlDut`]) and Verilator models (`squeezeflow-sim`) both implement it, so one driver and one
/// stall pattern exercise both.
pub trait StreamDut {
    fn input_lanes(&self) -> Vec<usize>;
    /// Holds reset for `cycles` clock cycles, then releases it.
    fn reset(&mut self, cycles: usize);
    /// Presents a beat (data, tlast) on input `i`, or nothing.
    fn drive_input(&mut self, i: usize, beat: Option<(&[u8], bool)>);
    fn drive_output_ready(&mut self, ready: bool);
    /// Propagates the inputs just driven.
    fn settle(&mut self);
    fn input_ready(&self, i: usize) -> bool;
    /// The output beat on offer, if `tvalid`.
    fn output(&self) -> Option<(Vec<u8>, bool)>;
    /// One rising clock edge.
    fn tick(&mut self);
    /// Presents a word on the weight-load port ([`crate::load`]), or nothing; an error if the
    /// device has no such port and a word is given.
    fn drive_load(&mut self, w: Option<LoadWord>) -> Result<(), HwError>;
}

/// Writes `words` through the device's weight-load port, one a clock cycle, then leaves the
/// port idle.
pub fn load_weights<D: StreamDut + ?Sized>(dut: &mut D, words: &[LoadWord]) -> Result<(), HwError> {
    for &w in words {
        dut.drive_load(Some(w))?;
        dut.settle();
        dut.tick();
    }
    dut.drive_load(None)?;
    dut.settle();
    Ok(())
}

/// A rust-hdl block as a [`StreamDut`].
pub struct HdlDut<'a, B: StreamBlock>(pub &'a mut B);

impl<B: StreamBlock> StreamDut for HdlDut<'_, B> {
    fn input_lanes(&self) -> Vec<usize> {
        let mut lanes = Vec::new();
        input_lanes_of(&*self.0, &mut lanes);
        lanes
    }
    fn reset(&mut self, cycles: usize) {
        let b = &mut *self.0;
        b.connect_all();
        b.reset_mut().next = true;
        settle(b);
        for _ in 0..cycles {
            tick(b);
        }
        b.reset_mut().next = false;
        settle(b);
    }
    fn drive_input(&mut self, i: usize, beat: Option<(&[u8], bool)>) {
        let mut ports = self.0.inputs_mut();
        let port = &mut ports[i];
        match beat {
            Some((data, last)) => {
                for (s, &d) in port.tdata.iter_mut().zip(data) {
                    s.next = (d as u64).into();
                }
                port.tvalid.next = true;
                port.tlast.next = last;
            }
            None => {
                port.tvalid.next = false;
                port.tlast.next = false;
            }
        }
    }
    fn drive_output_ready(&mut self, ready: bool) {
        self.0.output_mut().tready.next = ready;
    }
    fn settle(&mut self) {
        settle(self.0);
    }
    fn input_ready(&self, i: usize) -> bool {
        input_ready_of(&*self.0, i)
    }
    fn output(&self) -> Option<(Vec<u8>, bool)> {
        output_of(&*self.0)
    }
    fn tick(&mut self) {
        tick(self.0);
    }
    fn drive_load(&mut self, w: Option<LoadWord>) -> Result<(), HwError> {
        match (self.0.load_mut(), w) {
            (Some(p), w) => {
                p.drive(w);
                Ok(())
            }
            (None, None) => Ok(()),
            (None, Some(_)) => Err(HwError::Sim(
                "the block has no weight-load port".to_string(),
            )),
        }
    }
}

/// Read-only views of a block's ports (the trait hands out `&mut` only).
pub trait StreamView {
    fn in_ports(&self) -> Vec<&AxisIn>;
    fn out_port(&self) -> &AxisOut;
}

fn input_lanes_of<B: StreamBlock>(b: &B, lanes: &mut Vec<usize>) {
    lanes.extend(b.in_ports().iter().map(|p| p.lanes()));
}
fn input_ready_of<B: StreamBlock>(b: &B, i: usize) -> bool {
    b.in_ports()[i].tready.val()
}
fn output_of<B: StreamBlock>(b: &B) -> Option<(Vec<u8>, bool)> {
    let o = b.out_port();
    if o.tvalid.val() {
        Some((
            o.tdata.iter().map(|s| s.val().index() as u8).collect(),
            o.tlast.val(),
        ))
    } else {
        None
    }
}

/// Streams `inputs[i]` (all frames of input i, `frame_bytes[i]` bytes a frame) into the device
/// and collects `frames` output frames of `out_frame_bytes`. Errors on a deadlock (no beat moves
/// for `max_idle` cycles) or a misplaced `tlast`.
pub fn drive<D: StreamDut>(
    dut: &mut D,
    inputs: &[&[u8]],
    frame_bytes: &[usize],
    frames: usize,
    out_frame_bytes: usize,
    stalls: Stalls,
    max_idle: u64,
) -> Result<StreamRun, HwError> {
    drive_loaded(
        dut,
        &[],
        inputs,
        frame_bytes,
        frames,
        out_frame_bytes,
        stalls,
        max_idle,
    )
}

/// [`drive`] after writing `load` through the weight-load port ([`load_weights`], right after
/// reset; the cycles it takes are not counted).
#[allow(clippy::too_many_arguments)]
pub fn drive_loaded<D: StreamDut>(
    dut: &mut D,
    load: &[LoadWord],
    inputs: &[&[u8]],
    frame_bytes: &[usize],
    frames: usize,
    out_frame_bytes: usize,
    stalls: Stalls,
    max_idle: u64,
) -> Result<StreamRun, HwError> {
    let mut rng = Rng(stalls.seed);
    let lanes = dut.input_lanes();
    let n_in = inputs.len();
    assert_eq!(lanes.len(), n_in, "one byte stream per input");
    let mut pos = vec![0usize; n_in];
    let mut presenting = vec![false; n_in];
    dut.reset(3);
    load_weights(dut, load)?;
    let mut run = StreamRun::default();
    let mut current = Vec::new();
    let mut idle = 0u64;
    let mut cycle = 0u64;
    while run.frames.len() < frames {
        for i in 0..n_in {
            let data = inputs[i];
            if !presenting[i] && pos[i] < data.len() {
                presenting[i] = rng.next() >= stalls.input;
            }
            if presenting[i] {
                let l = lanes[i];
                let end = (pos[i] + l).is_multiple_of(frame_bytes[i]);
                dut.drive_input(i, Some((&data[pos[i]..pos[i] + l], end)));
            } else {
                dut.drive_input(i, None);
            }
        }
        let ready = rng.next() >= stalls.output;
        dut.drive_output_ready(ready);
        dut.settle();
        // Sample the handshakes; the edge sees the same values.
        let fired: Vec<bool> = (0..n_in)
            .map(|i| presenting[i] && dut.input_ready(i))
            .collect();
        let out = if ready { dut.output() } else { None };
        dut.tick();
        cycle += 1;
        let mut moved = false;
        for i in 0..n_in {
            if fired[i] {
                pos[i] += lanes[i];
                presenting[i] = false;
                moved = true;
            }
        }
        if let Some((beat, last)) = out {
            moved = true;
            current.extend_from_slice(&beat);
            let done = current.len() >= out_frame_bytes;
            if last != done {
                return Err(HwError::Sim(format!(
                    "frame {}: tlast is {last} after {} of {out_frame_bytes} bytes",
                    run.frames.len(),
                    current.len()
                )));
            }
            if done {
                run.frames.push(std::mem::take(&mut current));
                run.frame_done.push(cycle);
            }
        }
        idle = if moved { 0 } else { idle + 1 };
        if idle > max_idle {
            return Err(HwError::Sim(format!(
                "deadlock: no beat moved for {max_idle} cycles at cycle {cycle} \
                 (inputs at byte {pos:?}, {} output frames done)",
                run.frames.len()
            )));
        }
    }
    run.cycles = cycle;
    Ok(run)
}

/// [`drive`] on a rust-hdl block.
pub fn run_stream<B: StreamBlock>(
    b: &mut B,
    inputs: &[&[u8]],
    frame_bytes: &[usize],
    frames: usize,
    out_frame_bytes: usize,
    stalls: Stalls,
    max_idle: u64,
) -> Result<StreamRun, HwError> {
    drive(
        &mut HdlDut(b),
        inputs,
        frame_bytes,
        frames,
        out_frame_bytes,
        stalls,
        max_idle,
    )
}
