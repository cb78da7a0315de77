//! The worker: one process runs one unit (a few frames of one case, from reset) in Verilator and
//! through the integer reference, and prints one JSON [`Record`] a frame on standard output.
//!
//! Workers are processes, not threads, so a Verilator fatal error or a killed worker costs only
//! its unit: the scheduler reports that unit's frames as errors and the regression goes on.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use squeezeflow_sim::network::Bundle;

use crate::accel::{simulate, Mismatch, SimOptions};

/// What a worker runs: handed over as JSON on its command line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    pub case: String,
    pub bundle: PathBuf,
    /// Frame sources (absolute paths, `synthetic:N`; empty: the built-in clip).
    pub frames: Vec<String>,
    /// Frames of the sources to pass over before the first one run.
    pub skip: usize,
    pub count: usize,
    /// The case's index of the first frame run.
    pub first_index: usize,
    pub stall: f64,
    pub seed: u64,
    pub max_idle: u64,
    /// Write a waveform of the run here.
    pub vcd: Option<PathBuf>,
    /// Verilator threads of the model.
    #[serde(default)]
    pub threads: usize,
}

/// A frame's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every logit equals the reference.
    Pass,
    /// Some logit differs.
    Fail,
    /// The frame did not complete (a worker error, a deadlock, a killed worker).
    Error,
}

/// One frame's result: a line of `results.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub case: String,
    pub frame: usize,
    pub label: String,
    pub verdict: Verdict,
    /// Cycles since the previous frame of the unit left (the first: since reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cycles: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logits_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_digest: Option<String>,
    /// The first differing logit and the layer to look at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<Mismatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A waveform of this frame (`--vcd-on-fail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcd: Option<String>,
    /// Wall-clock seconds of the unit shared out over its frames.
    #[serde(default)]
    pub seconds: f64,
}

impl Record {
    /// A frame that did not complete.
    pub fn error(case: &str, frame: usize, label: &str, error: String) -> Record {
        Record {
            case: case.to_string(),
            frame,
            label: label.to_string(),
            verdict: Verdict::Error,
            cycles: None,
            estimated_cycles: None,
            logits_digest: None,
            reference_digest: None,
            mismatch: None,
            error: Some(error),
            vcd: None,
            seconds: 0.0,
        }
    }
}

/// Runs a job and prints its records (the worker process's whole work).
pub fn run_job(job: &Job) -> Result<()> {
    let t = std::time::Instant::now();
    let bundle = Bundle::open_with(&job.bundle, true).map_err(|e| anyhow!(e))?;
    let n = bundle.manifest.input_size;
    let frames = crate::accel::frames_or_builtin_clip_quiet(&job.frames, n)?
        .skip(job.skip)
        .take(job.count);
    let opt = SimOptions {
        max_frames: None,
        stall: job.stall,
        seed: job.seed,
        vcd: job.vcd.clone(),
        max_idle: job.max_idle,
        top: 1,
        quiet: true,
        threads: job.threads,
    };
    let r = simulate(&bundle, frames, &opt)?;
    if let Some(e) = &r.error {
        return Err(anyhow!("{e}"));
    }
    if r.frame_reports.len() != job.count {
        return Err(anyhow!(
            "{} of {} frames came out of the sources",
            r.frame_reports.len(),
            job.count
        ));
    }
    let seconds = t.elapsed().as_secs_f64() / job.count as f64;
    let mut out = std::io::stdout().lock();
    for f in r.frame_reports {
        let rec = Record {
            case: job.case.clone(),
            frame: job.first_index + f.index,
            label: f.label,
            verdict: if f.matches {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            cycles: Some(f.cycles),
            estimated_cycles: Some(r.estimated_cycles_per_frame),
            logits_digest: Some(f.logits_digest),
            reference_digest: Some(f.reference_digest),
            mismatch: f.mismatch,
            error: None,
            vcd: job.vcd.as_ref().map(|p| p.display().to_string()),
            seconds,
        };
        writeln!(out, "{}", serde_json::to_string(&rec)?)?;
    }
    out.flush()?;
    Ok(())
}
