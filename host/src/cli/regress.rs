//! `squeezeflow regress` and `regress merge` on the command line (the work is in
//! `squeezeflow_host::regress`), and the exit status that is not an error.

use squeezeflow_host::{out, outln};
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use squeezeflow_host::frames;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct RegressArgs {
    #[command(subcommand)]
    pub(crate) action: Option<RegressAction>,
    /// The regression spec (TOML); with --rerun-failed, the one in that folder is used.
    #[arg(required_unless_present = "rerun_failed")]
    pub(crate) spec: Option<PathBuf>,
    /// Worker processes at once (default: the available cores).
    #[arg(short = 'j', long)]
    pub(crate) jobs: Option<usize>,
    /// The results folder (default: out/regress/<spec name>). Running again into the same
    /// folder resumes: frames that passed are not run again.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Run a deterministic 1/N of the units: K/N, K from 1.
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Where bundles are generated and shared (default: <output>/bundles).
    #[arg(long)]
    pub(crate) bundles: Option<PathBuf>,
    /// Re-run only the units with a mismatched or failed frame in this results folder.
    #[arg(long, conflicts_with_all = ["output", "shard"])]
    pub(crate) rerun_failed: Option<PathBuf>,
    /// Re-run each mismatching frame alone with a VCD waveform (into <output>/vcd).
    #[arg(long)]
    pub(crate) vcd_on_fail: bool,
    /// Discard earlier results in the output folder instead of resuming.
    #[arg(long)]
    pub(crate) fresh: bool,
    /// No progress line and no summary table.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Submit to SLURM as a job array (one task a shard), wait, and merge.
    #[arg(long, conflicts_with_all = ["shard", "rerun_failed"])]
    pub(crate) slurm: bool,
    /// SLURM partition.
    #[arg(long, requires = "slurm")]
    pub(crate) partition: Option<String>,
    /// SLURM time limit per task (e.g. 01:00:00).
    #[arg(long, requires = "slurm")]
    pub(crate) time: Option<String>,
    /// CPUs per SLURM task (its workers).
    #[arg(long, requires = "slurm", default_value_t = 1)]
    pub(crate) cpus_per_task: usize,
    /// Shards (array tasks) for SLURM.
    #[arg(long, requires = "slurm", default_value_t = 2)]
    pub(crate) shards: usize,
    /// Submit and return; merge later with `regress merge`.
    #[arg(long, requires = "slurm")]
    pub(crate) no_wait: bool,
    /// Verilator threads per worker's model (see `sim --threads`).
    #[arg(long, default_value_t = 1, conflicts_with = "slurm")]
    pub(crate) threads: usize,
    /// Only generate the bundles, build the Verilator models and write plan.json (e.g. before
    /// timing a run, or on a login node before submitting shards by hand).
    #[arg(long, conflicts_with = "slurm")]
    pub(crate) prepare: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum RegressAction {
    /// Combine the results folders of shards of one regression into one report.
    Merge {
        /// The shards' results folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged results folder.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// An exit status other than 1 for an error (3: a logit mismatch).
#[derive(Debug)]
pub(crate) struct ExitWith(pub(crate) u8, pub(crate) String);

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for ExitWith {}

pub(crate) fn finish_regress(
    out: &std::path::Path,
    t: squeezeflow_host::regress::Totals,
    quiet: bool,
) -> Result<()> {
    if !quiet {
        if let Ok(s) = std::fs::read_to_string(out.join("summary.txt")) {
            out!("{s}")?;
        }
        outln!("results: {}", out.display())?;
    }
    match t.exit_code() {
        0 => Ok(()),
        code => Err(ExitWith(
            code,
            format!(
                "{} of {} frames mismatched, {} errors, {} not run (see {})",
                t.failed,
                t.frames,
                t.errors,
                t.not_run,
                out.join("summary.txt").display()
            ),
        )
        .into()),
    }
}

pub(crate) fn regress(a: RegressArgs) -> Result<()> {
    use squeezeflow_host::regress::{self, report, run, slurm};
    if let Some(RegressAction::Merge { dirs, output }) = a.action {
        let t = report::merge(&dirs, &output)?;
        return finish_regress(&output, t, a.quiet);
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        bail!("-j must be at least 1");
    }
    let (plan, out, rerun) = match (&a.rerun_failed, &a.spec) {
        (Some(dir), _) => (run::read_run_file(dir)?.plan, dir.clone(), true),
        (None, Some(spec)) => {
            let plan = regress::plan_file(spec)?;
            let out = a.output.clone().unwrap_or_else(|| {
                PathBuf::from("out")
                    .join("regress")
                    .join(frames::label_file_name(&plan.spec.name))
            });
            (plan, out, false)
        }
        (None, None) => bail!("name a spec or --rerun-failed DIR"),
    };
    if a.slurm {
        let spec = a.spec.as_ref().expect("clap: spec without --rerun-failed");
        let o = slurm::SlurmOptions {
            shards: a.shards,
            partition: a.partition.clone(),
            time: a.time.clone(),
            cpus_per_task: a.cpus_per_task,
            no_wait: a.no_wait,
            program: None,
            quiet: a.quiet,
        };
        return match slurm::submit(spec, &plan, &out, &o)? {
            slurm::SlurmOutcome::Submitted { job, script } => {
                outln!(
                    "submitted SLURM job {job} ({}); when it is done: squeezeflow regress merge {}/shards/* -o {}",
                    script.display(),
                    out.display(),
                    out.display()
                )?;
                Ok(())
            }
            slurm::SlurmOutcome::Merged { job, totals } => {
                if !a.quiet {
                    eprintln!("SLURM job {job} done");
                }
                finish_regress(&out, totals, a.quiet)
            }
        };
    }
    let shard = a
        .shard
        .as_deref()
        .map(regress::spec::parse_shard)
        .transpose()?;
    let opt = regress::RunOptions {
        jobs,
        out: out.clone(),
        bundles: a.bundles.clone(),
        shard,
        rerun_failed: rerun,
        vcd_on_fail: a.vcd_on_fail,
        fresh: a.fresh,
        quiet: a.quiet,
        worker: None,
        threads: a.threads,
        prepare_only: a.prepare,
    };
    if a.prepare {
        run::run(plan, &opt)?;
        outln!(
            "prepared {} (bundles and Verilator models built)",
            out.display()
        )?;
        return Ok(());
    }
    let o = run::run(plan, &opt)?;
    if !a.quiet && o.skipped_units > 0 {
        eprintln!(
            "regress: {} units run, {} passed earlier and not run again",
            o.ran_units, o.skipped_units
        );
    }
    finish_regress(&out, o.summary, a.quiet)
}
