//! `squeezeflow regress`: simulation regressions over many networks, foldings, stall settings and
//! frames, on every core (worker processes), in shards, and on SLURM; results as JSON lines,
//! JUnit XML and a summary, with re-runs of what failed. `docs/regress.md` describes the spec and
//! the results folder.

pub mod report;
pub mod run;
pub mod slurm;
pub mod spec;
pub mod worker;

pub use report::Totals;
pub use run::{Outcome, RunOptions};
pub use spec::{Plan, Spec};

use std::path::Path;

use anyhow::{Context, Result};

/// Reads a spec and makes its plan (counting every case's frames).
pub fn plan_file(path: &Path) -> Result<Plan> {
    let spec = Spec::from_file(path)?;
    Plan::new(spec, run::input_size)
}

/// The worker process's entry (`squeezeflow regress-worker JOB`).
pub fn worker_main(job_json: &str) -> Result<()> {
    let job: worker::Job = serde_json::from_str(job_json).context("reading the job")?;
    worker::run_job(&job)
}
