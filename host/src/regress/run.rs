//! Running a plan: bundles generated and Verilator models built once per network and folding,
//! then units handed to `-j` worker processes; every frame's record appended to `results.jsonl`
//! as it arrives, so an interrupted run resumes where it stopped.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use squeezeflow_sim::network::Bundle;
use squeezeflow_sim::verilator::BuildOptions;

use super::report::{self, RunInfo};
use super::spec::{Case, NetworkSource, Plan, Unit};
use super::worker::{Job, Record, Verdict};
use crate::accel::{GenOptions, ModelChoice};

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker processes at once.
    pub jobs: usize,
    /// The results folder.
    pub out: PathBuf,
    /// Where bundles live (default `<out>/bundles`): shards of one regression share it.
    pub bundles: Option<PathBuf>,
    /// Run only units with `ordinal % N == K - 1`.
    pub shard: Option<(usize, usize)>,
    /// Run only the units holding a failed or errored frame of an earlier run in `out`.
    pub rerun_failed: bool,
    /// Re-run each mismatching frame alone with a waveform.
    pub vcd_on_fail: bool,
    /// Throw away earlier results in `out` instead of resuming.
    pub fresh: bool,
    /// No progress line.
    pub quiet: bool,
    /// The worker program (default: this executable).
    pub worker: Option<PathBuf>,
    /// Verilator threads per worker's model (0 or 1: one).
    pub threads: usize,
    /// Generate the bundles, build the models and write the plan; run nothing.
    pub prepare_only: bool,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub summary: report::Totals,
    pub ran_units: usize,
    pub skipped_units: usize,
}

/// The model choice of a case.
fn choice(case: &Case) -> ModelChoice {
    let mut c = ModelChoice::default();
    c.input_size = case.input_size;
    c.weights_seed = 1;
    match &case.network {
        NetworkSource::Builtin => {}
        NetworkSource::Model(p) => c.model = Some(p.clone()),
        NetworkSource::Preset { name, weights_seed } => {
            c.preset = Some(name.clone());
            c.weights_seed = *weights_seed;
        }
        NetworkSource::Config { path, weights_seed } => {
            c.config = Some(path.clone());
            c.weights_seed = *weights_seed;
        }
    }
    c
}

/// The network input size of a case (without generating anything).
pub fn input_size(case: &Case) -> Result<usize> {
    let c = choice(case);
    if c.model.is_some() {
        return Ok(c.model()?.config().input_size);
    }
    Ok(c.network()?.input_size)
}

/// Generates (or reuses) the bundle of a case in `root/<key>`: written beside, then renamed, so
/// shards sharing `root` never see half a bundle.
pub fn ensure_bundle(case: &Case, root: &Path) -> Result<PathBuf> {
    let key = case.bundle_key();
    let dir = root.join(&key);
    let stamp = dir.join("regress-key");
    if std::fs::read_to_string(&stamp).is_ok_and(|k| k.trim() == key) {
        return Ok(dir);
    }
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let tmp = root.join(format!(".tmp-{key}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let c = choice(case);
    let model = c.model()?;
    let opt = GenOptions {
        hardware: c.hardware()?,
        mac_budget: case.mac_budget,
        clock_mhz: case.clock_mhz,
        device: case.device.clone(),
        board: None,
        ..Default::default()
    };
    crate::accel::generate(&model, &opt, &tmp)?;
    std::fs::write(tmp.join("regress-key"), &key)?;
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process put the same bundle there first.
        let _ = std::fs::remove_dir_all(&tmp);
        if !stamp.is_file() {
            bail!("could not move the bundle into {}", dir.display());
        }
    }
    Ok(dir)
}

/// The run's `plan.json`: the plan, the shard it ran and where its bundles are.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunFile {
    pub plan: Plan,
    pub digest: String,
    pub shard: Option<(usize, usize)>,
    pub bundles: Vec<PathBuf>,
}

/// Reads `dir/plan.json`.
pub fn read_run_file(dir: &Path) -> Result<RunFile> {
    let p = dir.join("plan.json");
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a regression plan", p.display()))
}

fn seed_of(case: &Case, unit: &Unit) -> u64 {
    case.seed
        .wrapping_add((unit.first as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn job(plan: &Plan, unit: &Unit, bundle: &Path, vcd: Option<PathBuf>, threads: usize) -> Job {
    let case = &plan.spec.cases[unit.case];
    Job {
        case: case.name.clone(),
        bundle: bundle.to_path_buf(),
        frames: case.frames.clone(),
        skip: case.first_frame + unit.first,
        count: unit.count,
        first_index: unit.first,
        stall: case.stall,
        seed: seed_of(case, unit),
        max_idle: case.max_idle,
        vcd,
        threads,
    }
}

/// Runs one job in a worker process; every frame it does not report becomes an error record.
fn run_worker(exe: &Path, plan: &Plan, unit: &Unit, job: &Job) -> Vec<Record> {
    let labels = &plan.frames[unit.case][unit.first..unit.first + unit.count];
    let fail_all = |msg: String| -> Vec<Record> {
        labels
            .iter()
            .map(|f| Record::error(&job.case, f.index, &f.label, msg.clone()))
            .collect()
    };
    let arg = match serde_json::to_string(job) {
        Ok(a) => a,
        Err(e) => return fail_all(format!("encoding the job: {e}")),
    };
    let child = Command::new(exe)
        .arg("regress-worker")
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return fail_all(format!("starting the worker {}: {e}", exe.display())),
    };
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut got: BTreeMap<usize, Record> = BTreeMap::new();
    let mut bad_line = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => {
                    got.insert(r.frame, r);
                }
                Err(e) => bad_line = Some(format!("unreadable worker output `{line}`: {e}")),
            }
        }
    }
    let status = child.wait();
    let stderr = err_thread.join().unwrap_or_default();
    let tail: String = {
        let t = stderr.trim();
        let start = t.len().saturating_sub(1500);
        let start = (start..=t.len())
            .find(|i| t.is_char_boundary(*i))
            .unwrap_or(t.len());
        t[start..].replace('\n', " | ")
    };
    let why = match &status {
        Ok(s) if s.success() => bad_line.unwrap_or_else(|| "the worker reported no result".into()),
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            match s.signal() {
                Some(sig) => format!("worker killed by signal {sig}; {tail}"),
                None => format!("worker exited with {s}: {tail}"),
            }
        }
        Err(e) => format!("waiting for the worker: {e}"),
    };
    labels
        .iter()
        .map(|f| {
            got.remove(&f.index)
                .unwrap_or_else(|| Record::error(&job.case, f.index, &f.label, why.clone()))
        })
        .collect()
}

/// Earlier records of the run in `out` (the latest per frame), if its plan is this plan.
fn earlier(out: &Path, digest: &str, fresh: bool) -> Result<BTreeMap<(String, usize), Record>> {
    let results = out.join("results.jsonl");
    if fresh {
        let _ = std::fs::remove_file(&results);
        return Ok(BTreeMap::new());
    }
    if !results.exists() {
        return Ok(BTreeMap::new());
    }
    let old = read_run_file(out)?;
    if old.digest != digest {
        bail!(
            "{} holds the results of another regression (plan {} vs {digest}): use another -o, \
             or --fresh to replace them",
            out.display(),
            old.digest
        );
    }
    Ok(report::latest(&report::read_records(&results)?))
}

/// Generates the bundles of the units' cases and builds their Verilator models, once per
/// network and folding, before any worker starts: case index -> bundle, and the bundles.
pub fn prepare_bundles(
    plan: &Plan,
    units: &[Unit],
    root: &Path,
    quiet: bool,
    threads: usize,
) -> Result<(BTreeMap<usize, PathBuf>, BTreeSet<PathBuf>)> {
    let mut bundles: BTreeMap<usize, PathBuf> = BTreeMap::new();
    let mut built = BTreeSet::new();
    for u in units {
        if bundles.contains_key(&u.case) {
            continue;
        }
        let case = &plan.spec.cases[u.case];
        let dir = ensure_bundle(case, root).with_context(|| format!("case {}", case.name))?;
        if built.insert(dir.clone()) {
            if !quiet {
                eprintln!("regress: building the Verilator model of {}", dir.display());
            }
            let b =
                Bundle::open_with(&dir, true).map_err(|e| anyhow!("case {}: {e}", case.name))?;
            b.build(&BuildOptions {
                threads,
                ..Default::default()
            })
            .map_err(|e| anyhow!("case {}: {e}", case.name))?;
        }
        bundles.insert(u.case, dir);
    }
    Ok((bundles, built))
}

/// Runs a plan (or the part of it this shard and these options select).
pub fn run(plan: Plan, opt: &RunOptions) -> Result<Outcome> {
    let digest = plan.digest();
    std::fs::create_dir_all(&opt.out).with_context(|| format!("creating {}", opt.out.display()))?;
    let prev = earlier(&opt.out, &digest, opt.fresh)?;
    if opt.rerun_failed && prev.is_empty() {
        bail!("{}: no earlier results to re-run", opt.out.display());
    }
    let in_shard = |u: &Unit| opt.shard.is_none_or(|(k, n)| u.ordinal % n == k - 1);
    let frame_verdict = |u: &Unit, f: usize| {
        let name = &plan.spec.cases[u.case].name;
        prev.get(&(name.clone(), f)).map(|r| r.verdict)
    };
    let selected: Vec<Unit> = plan
        .units
        .iter()
        .filter(|u| in_shard(u))
        .filter(|u| {
            let frames = u.first..u.first + u.count;
            if opt.rerun_failed {
                frames
                    .clone()
                    .any(|f| matches!(frame_verdict(u, f), Some(Verdict::Fail | Verdict::Error)))
            } else {
                frames
                    .clone()
                    .any(|f| frame_verdict(u, f) != Some(Verdict::Pass))
            }
        })
        .cloned()
        .collect();
    let shard_units = plan.units.iter().filter(|u| in_shard(u)).count();
    let root = opt
        .bundles
        .clone()
        .unwrap_or_else(|| opt.out.join("bundles"));
    let (bundles, built) = prepare_bundles(&plan, &selected, &root, opt.quiet, opt.threads)?;
    // The bundles of earlier runs into this folder stay listed.
    let mut all_bundles = built.clone();
    if let Ok(old) = read_run_file(&opt.out) {
        if old.digest == digest {
            all_bundles.extend(old.bundles);
        }
    }
    let run_file = RunFile {
        plan: plan.clone(),
        digest: digest.clone(),
        shard: opt.shard,
        bundles: all_bundles.into_iter().collect(),
    };
    std::fs::write(
        opt.out.join("plan.json"),
        serde_json::to_string_pretty(&run_file)?,
    )?;
    if opt.prepare_only {
        return Ok(Outcome {
            summary: report::Totals::default(),
            ran_units: 0,
            skipped_units: shard_units,
        });
    }
    let exe = match &opt.worker {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("finding this program for the workers")?,
    };
    let results = opt.out.join("results.jsonl");
    drop_partial_line(&results)?;
    let mut sink = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&results)
        .with_context(|| format!("opening {}", results.display()))?;
    let total_frames: usize = selected.iter().map(|u| u.count).sum();
    let progress = !opt.quiet && std::io::stderr().is_terminal();
    let queue = Arc::new(Mutex::new(VecDeque::from(selected.clone())));
    let (tx, rx) = mpsc::channel::<Vec<Record>>();
    let plan_arc = Arc::new(plan.clone());
    let bundles = Arc::new(bundles);
    let mut pool = Vec::new();
    for _ in 0..opt.jobs.max(1).min(selected.len().max(1)) {
        let vthreads = opt.threads;
        let (queue, tx, plan, bundles, exe) = (
            queue.clone(),
            tx.clone(),
            plan_arc.clone(),
            bundles.clone(),
            exe.clone(),
        );
        pool.push(std::thread::spawn(move || {
            let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
            while let Some(u) = next() {
                let j = job(&plan, &u, &bundles[&u.case], None, vthreads);
                if tx.send(run_worker(&exe, &plan, &u, &j)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let t0 = Instant::now();
    let (mut done, mut fail, mut err) = (0usize, 0usize, 0usize);
    let mut failed: Vec<Record> = Vec::new();
    for batch in rx {
        for r in batch {
            writeln!(sink, "{}", serde_json::to_string(&r)?)?;
            done += 1;
            match r.verdict {
                Verdict::Pass => {}
                Verdict::Fail => {
                    fail += 1;
                    failed.push(r);
                }
                Verdict::Error => err += 1,
            }
        }
        sink.flush()?;
        if progress {
            let el = t0.elapsed().as_secs_f64();
            let eta = el / done as f64 * (total_frames - done) as f64;
            eprint!(
                "\r\x1b[K  regress: {done}/{total_frames} frames, {fail} mismatched, {err} errors; \
                 {} elapsed, ETA {}",
                hms(el),
                hms(eta)
            );
        }
    }
    if progress {
        eprintln!();
    }
    for t in pool {
        let _ = t.join();
    }
    if opt.vcd_on_fail {
        for r in &failed {
            let Some(u) = plan.units.iter().find(|u| {
                plan.spec.cases[u.case].name == r.case
                    && u.first <= r.frame
                    && r.frame < u.first + u.count
            }) else {
                continue;
            };
            let one = Unit {
                ordinal: u.ordinal,
                case: u.case,
                first: r.frame,
                count: 1,
            };
            let vcd = std::path::absolute(opt.out.join("vcd"))?
                .join(format!("{}-frame{}.vcd", r.case, r.frame));
            std::fs::create_dir_all(opt.out.join("vcd"))?;
            let mut j = job(
                &plan,
                &one,
                &bundles[&u.case],
                Some(vcd.clone()),
                opt.threads,
            );
            // The same stall pattern as the frame's unit had at its start.
            j.seed = seed_of(&plan.spec.cases[u.case], u);
            if !opt.quiet {
                eprintln!(
                    "regress: waveform of {} frame {} -> {}",
                    r.case,
                    r.frame,
                    vcd.display()
                );
            }
            for mut rec in run_worker(&exe, &plan, &one, &j) {
                // The record stays the unit's; the waveform is added to it.
                let mut orig = r.clone();
                orig.vcd = rec.vcd.take();
                if orig.vcd.is_none() {
                    orig.error = Some(format!(
                        "no waveform: {}",
                        rec.error.unwrap_or_else(|| "the worker wrote none".into())
                    ));
                }
                writeln!(sink, "{}", serde_json::to_string(&orig)?)?;
            }
        }
    }
    let info = RunInfo {
        shard: opt.shard,
        wall_seconds: t0.elapsed().as_secs_f64(),
        jobs: opt.jobs,
    };
    let all = report::latest(&report::read_records(&results)?);
    let summary = report::write_reports(&opt.out, &plan, &all, &info)?;
    Ok(Outcome {
        summary,
        ran_units: selected.len(),
        skipped_units: shard_units - selected.len(),
    })
}

/// Cuts a last line left unfinished by an interrupted run, so appended records start on a line
/// of their own.
fn drop_partial_line(path: &Path) -> Result<()> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    std::fs::write(path, &bytes[..keep]).with_context(|| format!("repairing {}", path.display()))
}

/// `1h02m03s`, `4m05s`, `12s`.
pub fn hms(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, sec) => format!("{h}h{m:02}m{sec:02}s"),
    }
}
