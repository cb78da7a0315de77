//! Running a generated bundle (the whole network) in Verilator: frames stream in one RGB pixel a
//! beat, logits stream out one `u16` a beat, with optional random stalls on both streams, a
//! deadlock watchdog, and a VCD on request.

use std::path::{Path, PathBuf};

use squeezeflow_hw::bundle::{read_manifest, Manifest};
use squeezeflow_hw::harness::{Stalls, StreamDut};
use squeezeflow_hw::load::LoadWord;
use squeezeflow_model::QuantModel;

use crate::stream::VerilatedTop;
use crate::verilator::{BuildOptions, Model};
use crate::SimError;

/// A bundle on disk: its manifest, its quantized model and its directory.
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub model: QuantModel,
}

impl Bundle {
    /// Opens a bundle directory (written by `squeezeflow gen`), verifying its files
    /// ([`squeezeflow_hw::verify`]).
    pub fn open(dir: &Path) -> Result<Self, SimError> {
        Self::open_with(dir, false)
    }

    /// As [`Bundle::open`]; with `allow_edited`, files that differ from what `gen` wrote are
    /// accepted as long as their memories are well formed (a regression that is meant to catch
    /// corrupted weights, a user editing a weight on purpose).
    pub fn open_with(dir: &Path, allow_edited: bool) -> Result<Self, SimError> {
        let manifest = read_manifest(dir)?;
        squeezeflow_hw::verify::verify(dir, &manifest, allow_edited)?;
        let mp = dir.join(&manifest.model_file);
        let model =
            squeezeflow_model::file::load(&mp).map_err(|e| SimError::Design(e.to_string()))?;
        let bytes = std::fs::read(&mp).map_err(SimError::io(mp.display()))?;
        let hash = format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(&bytes));
        if hash != manifest.model_hash {
            return Err(SimError::Design(format!(
                "{}: the model file's hash {hash} differs from the manifest's {}",
                mp.display(),
                manifest.model_hash
            )));
        }
        // What the model determines, the manifest may only repeat.
        let c = model.config();
        if (manifest.num_classes, manifest.input_size) != (c.num_classes, c.input_size)
            || manifest.logit_scale != model.logit_scale
        {
            return Err(SimError::Design(format!(
                "{}: the manifest's classes, input size and logit scale ({}, {}, {}) are not the \
                 model's ({}, {}, {})",
                dir.display(),
                manifest.num_classes,
                manifest.input_size,
                manifest.logit_scale,
                c.num_classes,
                c.input_size,
                model.logit_scale
            )));
        }
        Ok(Bundle {
            dir: dir.to_path_buf(),
            manifest,
            model,
        })
    }

    /// Verilates the bundle (cached by content).
    pub fn build(&self, opt: &BuildOptions) -> Result<Model, SimError> {
        let sources: Vec<PathBuf> = self.manifest.rtl.iter().map(|f| self.dir.join(f)).collect();
        let top = sources.last().ok_or_else(|| {
            SimError::Design(format!(
                "{}: the manifest lists no Verilog sources",
                self.dir.display()
            ))
        })?;
        Model::build(&sources, top, &self.dir, opt)
    }
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub stalls: Stalls,
    /// Cycles without any beat moving before the run stops as deadlocked.
    pub max_idle: u64,
    /// Write a VCD here (the model must be built with `trace`).
    pub vcd: Option<PathBuf>,
    /// Show the cycle count on standard error as the simulation runs.
    pub progress: bool,
    /// Words to write through the weight-load port after reset, before the first frame
    /// ([`Manifest::load_words`]); their cycles are not counted in the frames'.
    pub load: Vec<LoadWord>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            stalls: Stalls::NONE,
            max_idle: 2_000_000,
            vcd: None,
            progress: false,
            load: Vec::new(),
        }
    }
}

/// One frame's result.
#[derive(Clone, Debug)]
pub struct FrameOut {
    pub index: usize,
    pub logits: Vec<u16>,
    /// Cycle (after reset) at which the frame's last logit left.
    pub done_cycle: u64,
    /// Cycles since the previous frame's last logit (for the first frame: since reset).
    pub cycles: u64,
}

/// Loads `words` (none: nothing to load) through the top module's weight stream, with the
/// input stall probability, and checks the load completed.
pub fn load_stream(
    dut: &mut VerilatedTop,
    words: &[LoadWord],
    stalls: Stalls,
    max_idle: u64,
) -> Result<(), SimError> {
    if words.is_empty() {
        return Ok(());
    }
    let data: Vec<u64> = words.iter().map(|w| w.data).collect();
    let sent = dut.load_stream(&data, stalls.input, stalls.seed, max_idle);
    dut.instance().check()?;
    sent.map_err(|e| SimError::Design(e.to_string()))?;
    let st = dut.status();
    if !st.weights_complete || st.weights_error {
        return Err(SimError::Design(format!(
            "after {} weight words the top module reports {st:?}",
            data.len()
        )));
    }
    Ok(())
}

/// Streams frames (raw RGB, HWC, `bytes_per_frame` each) through the model, calling `on_frame`
/// as each frame's logits complete. Frames are fetched from the iterator only as the input
/// needs them, so a long video never sits in memory.
pub fn stream_frames<I, F>(
    model: &Model,
    manifest: &Manifest,
    frames: I,
    opt: &RunOptions,
    mut on_frame: F,
) -> Result<u64, SimError>
where
    I: IntoIterator<Item = Result<Vec<u8>, SimError>>,
    F: FnMut(FrameOut) -> Result<(), SimError>,
{
    let bytes_per_frame = manifest.input.beats_per_frame * 3;
    let n_logits = manifest.num_classes;
    let mut dut = VerilatedTop::new(model)?;
    if let Some(p) = &opt.vcd {
        dut.instance().trace(p)?;
    }
    let mut rng = squeezeflow_model::float::SplitMix64::new(opt.stalls.seed);
    let mut frames = frames.into_iter();
    let mut current: Option<Vec<u8>> = None;
    let mut pos = 0usize;
    let mut sent = 0usize;
    let mut presenting = false;
    let mut logits = Vec::with_capacity(n_logits);
    let mut done = 0usize;
    let mut last_done = 0u64;
    let mut cycle = 0u64;
    let mut idle = 0u64;
    let mut exhausted = false;
    dut.reset(3);
    load_stream(&mut dut, &opt.load, opt.stalls, opt.max_idle)?;
    loop {
        if current.is_none() && !exhausted {
            match frames.next() {
                Some(f) => {
                    let f = f?;
                    if f.len() != bytes_per_frame {
                        return Err(SimError::Design(format!(
                            "frame {sent} has {} bytes, the bundle takes {bytes_per_frame} ({n}x{n} RGB)",
                            f.len(),
                            n = manifest.input_size
                        )));
                    }
                    current = Some(f);
                    pos = 0;
                }
                None => exhausted = true,
            }
        }
        if exhausted && current.is_none() && done == sent {
            break;
        }
        if let Some(f) = &current {
            if !presenting {
                presenting = opt.stalls.input == 0.0 || rng.uniform() >= opt.stalls.input;
            }
            if presenting {
                let end = pos + 3 == f.len();
                dut.drive_input(0, Some((&f[pos..pos + 3], end)));
            } else {
                dut.drive_input(0, None);
            }
        } else {
            dut.drive_input(0, None);
        }
        let ready = opt.stalls.output == 0.0 || rng.uniform() >= opt.stalls.output;
        dut.drive_output_ready(ready);
        dut.settle();
        let fired = current.is_some() && presenting && dut.input_ready(0);
        let out = if ready { dut.output() } else { None };
        dut.tick();
        cycle += 1;
        let mut moved = false;
        if fired {
            moved = true;
            presenting = false;
            pos += 3;
            if pos == bytes_per_frame {
                current = None;
                sent += 1;
                // Every frame sent is whole: one flagged means refused (weights not loaded).
                let st = dut.status();
                if st.frame_errors != 0 {
                    return Err(SimError::Design(format!(
                        "the accelerator refused or flagged {} of {sent} frames ({}): {st:?}",
                        st.frame_errors,
                        if st.weights_complete {
                            "the weights are loaded"
                        } else {
                            "its weights were never loaded: the manifest lists `load` memories"
                        }
                    )));
                }
            }
        }
        if let Some((beat, last)) = out {
            moved = true;
            if dut.output_bad() {
                return Err(SimError::Design(format!(
                    "frame {done} came out marked bad (m_axis_tuser) though it was sent whole; \
                     status {:?}",
                    dut.status()
                )));
            }
            logits.push(beat[0] as u16 | (beat[1] as u16) << 8);
            let complete = logits.len() == n_logits;
            if last != complete {
                return Err(SimError::Design(format!(
                    "frame {done}: tlast is {last} at logit {} of {n_logits}",
                    logits.len()
                )));
            }
            if complete {
                on_frame(FrameOut {
                    index: done,
                    logits: std::mem::take(&mut logits),
                    done_cycle: cycle,
                    cycles: cycle - last_done,
                })?;
                last_done = cycle;
                done += 1;
            }
        }
        if opt.progress && cycle.is_multiple_of(1 << 20) {
            eprint!("\r\x1b[K  cycle {cycle}: {sent} frames in, {done} out");
        }
        idle = if moved { 0 } else { idle + 1 };
        // A Verilator fatal error stops the model: say so rather than wait for the watchdog.
        if (cycle & 0xfff == 0 || idle > opt.max_idle) && dut.instance().error().is_some() {
            dut.instance().check()?;
        }
        if idle > opt.max_idle {
            return Err(SimError::Design(format!(
                "deadlock: no beat moved for {} cycles at cycle {cycle} ({sent} frames in, {done} out, \
                 pixel {} of the current frame)",
                opt.max_idle,
                pos / 3
            )));
        }
    }
    dut.instance().finish_trace()?;
    Ok(cycle)
}
