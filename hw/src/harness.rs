//! Drives a block's streams in rust-hdl's simulator, cycle by cycle, with random stalls on every
//! input (`tvalid` low) and on the output (`tready` low), as the block tests need.
//!
//! The circuit is stepped directly (set inputs, settle, raise the clock, settle, lower it,
//! settle): far faster than rust-hdl's threaded testbench API, and the same semantics.

use rust_hdl::prelude::*;

use crate::axis::{AxisIn, AxisOut};
use crate::HwError;

/// A block with one clock, a synchronous reset, stream inputs and one stream output.
pub trait StreamBlock: Block {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock>;
    fn reset_mut(&mut self) -> &mut Signal<In, Bit>;
    fn inputs_mut(&mut self) -> Vec<&mut AxisIn>;
    fn output_mut(&mut self) -> &mut AxisOut;
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
pub fn settle<B: Block>(b: &mut B) {
    for _ in 0..10_000 {
        b.update_all();
        if !b.has_changed() {
            return;
        }
    }
    panic!("the circuit does not settle (a combinational loop)");
}

/// One rising edge: raise the clock, settle, lower it, settle.
pub fn tick<B: StreamBlock>(b: &mut B) {
    b.clock_mut().next = true.into();
    settle(b);
    b.clock_mut().next = false.into();
    settle(b);
}

/// Streams `inputs[i]` (all frames of input i, `frame_bytes[i]` bytes a frame) into the block
/// and collects `frames` output frames. Errors on a deadlock (no beat moves for `max_idle`
/// cycles), a misplaced `tlast`, or a frame of the wrong size.
pub fn run_stream<B: StreamBlock>(
    b: &mut B,
    inputs: &[&[u8]],
    frame_bytes: &[usize],
    frames: usize,
    out_frame_bytes: usize,
    stalls: Stalls,
    max_idle: u64,
) -> Result<StreamRun, HwError> {
    let mut rng = Rng(stalls.seed);
    b.connect_all();
    let n_in = inputs.len();
    let lanes: Vec<usize> = b.inputs_mut().iter().map(|p| p.lanes()).collect();
    assert_eq!(lanes.len(), n_in, "one byte stream per block input");
    let mut pos = vec![0usize; n_in];
    let mut presenting = vec![false; n_in];
    // Reset.
    *b.reset_mut() = Signal::default();
    b.reset_mut().next = true.into();
    settle(b);
    for _ in 0..3 {
        tick(b);
    }
    b.reset_mut().next = false.into();
    settle(b);

    let mut run = StreamRun::default();
    let mut current = Vec::new();
    let mut idle = 0u64;
    let mut cycle = 0u64;
    while run.frames.len() < frames {
        // Drive inputs.
        for (i, port) in b.inputs_mut().into_iter().enumerate() {
            let data = inputs[i];
            if !presenting[i] && pos[i] < data.len() {
                presenting[i] = rng.next() >= stalls.input;
            }
            let l = lanes[i];
            if presenting[i] {
                for (k, s) in port.tdata.iter_mut().enumerate() {
                    s.next = (data[pos[i] + k] as u64).into();
                }
                port.tvalid.next = true.into();
                let end = (pos[i] + l) % frame_bytes[i] == 0;
                port.tlast.next = end.into();
            } else {
                port.tvalid.next = false.into();
                port.tlast.next = false.into();
            }
        }
        let ready = rng.next() >= stalls.output;
        b.output_mut().tready.next = ready.into();
        settle(b);
        // Sample handshakes (the edge will see the same values).
        let mut moved = false;
        let fired: Vec<bool> = b
            .inputs_mut()
            .iter()
            .enumerate()
            .map(|(i, p)| presenting[i] && p.tready.val().into())
            .collect();
        let out = b.output_mut();
        let out_fire = out.tvalid.val().into() && ready;
        let beat: Vec<u8> = out.tdata.iter().map(|s| s.val().index() as u8).collect();
        let last: bool = out.tlast.val().into();
        tick(b);
        cycle += 1;
        for i in 0..n_in {
            if fired[i] {
                pos[i] += lanes[i];
                presenting[i] = false;
                moved = true;
            }
        }
        if out_fire {
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
