//! Spreading a regression over a SLURM cluster: one job-array task per shard, each running
//! `squeezeflow regress SPEC --shard K/N` into its own folder, then one merge. Bundles and
//! Verilator models are made once, before submission, where every task finds them (the output
//! folder and the model cache must be on a file system the nodes share).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::report::{self, Totals};
use super::run::{prepare_bundles, RunFile};
use super::spec::Plan;

/// Options of `regress --slurm`.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    pub shards: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub cpus_per_task: usize,
    /// Submit and return (merge later with `regress merge`).
    pub no_wait: bool,
    /// The program the tasks run (default: this executable).
    pub program: Option<PathBuf>,
    pub quiet: bool,
}

/// What a SLURM submission did.
pub enum SlurmOutcome {
    /// Submitted; the merge is left to the user.
    Submitted { job: String, script: PathBuf },
    /// Waited for and merged.
    Merged { job: String, totals: Totals },
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The sbatch script of a sharded run (written to `<out>/slurm/regress.sbatch`).
pub fn script(spec: &Path, out: &Path, bundles: &Path, program: &Path, o: &SlurmOptions) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str("#SBATCH --job-name=squeezeflow-regress\n");
    s.push_str(&format!("#SBATCH --array=1-{}\n", o.shards));
    s.push_str(&format!("#SBATCH --cpus-per-task={}\n", o.cpus_per_task));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str(&format!(
        "#SBATCH --output={}\n",
        out.join("slurm").join("shard-%a.log").display()
    ));
    if let Some(p) = &o.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &o.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    s.push_str(&format!(
        "# squeezeflow regress, {n} shards: each array task runs 1/{n} of the units of\n\
         # {spec} into {out}/shards/<task>; `squeezeflow regress merge {out}/shards/* -o {out}`\n\
         # combines them (done by `regress --slurm` unless --no-wait).\n\
         set -euo pipefail\n",
        n = o.shards,
        spec = spec.display(),
        out = out.display()
    ));
    s.push_str(&format!(
        "exec {} regress {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" -j \"${{SLURM_CPUS_PER_TASK:-{}}}\" \\\n    -o {}\"/${{SLURM_ARRAY_TASK_ID}}\" --bundles {} --quiet\n",
        quote(&program.display().to_string()),
        quote(&spec.display().to_string()),
        o.shards,
        o.cpus_per_task,
        quote(&out.join("shards").display().to_string()),
        quote(&bundles.display().to_string()),
    ));
    s
}

/// Prepares bundles, writes the job-array script, submits it with `sbatch`, and (unless
/// `no_wait`) waits for it and merges the shards into `out`.
pub fn submit(spec_path: &Path, plan: &Plan, out: &Path, o: &SlurmOptions) -> Result<SlurmOutcome> {
    if o.shards == 0 || o.cpus_per_task == 0 {
        bail!("--shards and --cpus-per-task must be at least 1");
    }
    let sbatch = squeezeflow_hw::which("sbatch").ok_or_else(|| {
        anyhow::anyhow!(
            "`sbatch` is not on PATH: --slurm needs a SLURM client (scripts/slurm-local.sh \
             starts a single-node cluster for trying it)"
        )
    })?;
    let out = std::path::absolute(out).context("the output folder")?;
    let spec = spec_path
        .canonicalize()
        .with_context(|| spec_path.display().to_string())?;
    std::fs::create_dir_all(out.join("slurm"))?;
    std::fs::create_dir_all(out.join("shards"))?;
    let bundles = out.join("bundles");
    let (_, built) = prepare_bundles(plan, &plan.units, &bundles, o.quiet, 0)?;
    // The merged run's plan, written now so `regress merge` and `--rerun-failed` find it.
    let run_file = RunFile {
        plan: plan.clone(),
        digest: plan.digest(),
        shard: None,
        bundles: built.into_iter().collect(),
    };
    std::fs::write(
        out.join("plan.json"),
        serde_json::to_string_pretty(&run_file)?,
    )?;
    let program = match &o.program {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("finding this program for the tasks")?,
    };
    let text = script(&spec, &out, &bundles, &program, o);
    let path = out.join("slurm").join("regress.sbatch");
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let mut cmd = Command::new(&sbatch);
    cmd.arg("--parsable");
    if !o.no_wait {
        cmd.arg("--wait");
    }
    cmd.arg(&path);
    let res = cmd.output().context("running sbatch")?;
    let stdout = String::from_utf8_lossy(&res.stdout);
    let job = stdout
        .lines()
        .next()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if job.is_empty() {
        bail!(
            "sbatch submitted nothing ({}): {}",
            res.status,
            String::from_utf8_lossy(&res.stderr).trim()
        );
    }
    if o.no_wait {
        return Ok(SlurmOutcome::Submitted { job, script: path });
    }
    // `sbatch --wait` fails when any task failed (a mismatch exits 3): merge what there is.
    let mut dirs = Vec::new();
    for k in 1..=o.shards {
        let d = out.join("shards").join(k.to_string());
        if d.join("plan.json").is_file() {
            dirs.push(d);
        } else if !o.quiet {
            eprintln!(
                "regress: shard {k} left no results (see {})",
                out.join("slurm").join(format!("shard-{k}.log")).display()
            );
        }
    }
    if dirs.is_empty() {
        bail!(
            "job {job}: no shard left results ({}); see {}",
            res.status,
            out.join("slurm").display()
        );
    }
    let totals = report::merge(&dirs, &out)?;
    Ok(SlurmOutcome::Merged { job, totals })
}
