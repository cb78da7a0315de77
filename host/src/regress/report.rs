//! Results of a regression: the records of `results.jsonl` (the latest per frame wins), and the
//! reports made from them: `report.json` (verdicts, cycles and logits digests, nothing that
//! depends on timing, so a merged sharded run equals a single run byte for byte), `junit.xml`
//! (a testsuite per case, a testcase per frame) and `summary.txt`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::run::{read_run_file, RunFile};
use super::spec::Plan;
use super::worker::{Record, Verdict};

/// Frame counts of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub frames: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub not_run: usize,
}

impl Totals {
    /// The process exit code: 0 all passed, 3 a logit mismatch (and nothing worse), 1 an error
    /// or a frame not run.
    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 || self.not_run > 0 {
            1
        } else if self.failed > 0 {
            3
        } else {
            0
        }
    }
}

/// How the run went (for the timing-dependent reports).
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub shard: Option<(usize, usize)>,
    pub wall_seconds: f64,
    pub jobs: usize,
}

/// Reads `results.jsonl`; a last line cut short by an interrupted run is passed over.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => bail!(
                "{} line {}: not a result record: {e}",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(out)
}

/// The latest record of each (case, frame).
pub fn latest(records: &[Record]) -> BTreeMap<(String, usize), Record> {
    let mut m = BTreeMap::new();
    for r in records {
        m.insert((r.case.clone(), r.frame), r.clone());
    }
    m
}

/// One frame in `report.json`.
#[derive(Serialize)]
struct FrameLine<'a> {
    frame: usize,
    label: &'a str,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cycles: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logits_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatch: Option<&'a crate::accel::Mismatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct CaseLine<'a> {
    name: &'a str,
    totals: Totals,
    estimated_cycles: Option<u64>,
    frames: Vec<FrameLine<'a>>,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    regression: &'a str,
    plan: String,
    totals: Totals,
    cases: Vec<CaseLine<'a>>,
}

fn verdict_name(r: Option<&Record>) -> &'static str {
    match r.map(|r| r.verdict) {
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Fail) => "fail",
        Some(Verdict::Error) => "error",
        None => "not run",
    }
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

fn mismatch_text(m: &crate::accel::Mismatch) -> String {
    format!(
        "class {} expected {} got {} ({} logits differ)",
        m.class, m.expected, m.got, m.differing
    )
}

/// Writes `report.json`, `junit.xml` and `summary.txt` for the frames of `plan` this run owns
/// (a shard's units only), and returns the totals.
pub fn write_reports(
    out: &Path,
    plan: &Plan,
    latest: &BTreeMap<(String, usize), Record>,
    info: &RunInfo,
) -> Result<Totals> {
    let owned = |ordinal: usize| info.shard.is_none_or(|(k, n)| ordinal % n == k - 1);
    let mut total = Totals::default();
    let mut cases = Vec::new();
    let mut junit = String::new();
    let mut suites = String::new();
    let mut summary = format!(
        "{:<40} {:>6} {:>6} {:>6} {:>6} {:>7} {:>12} {:>12} {:>9}\n",
        "case",
        "frames",
        "pass",
        "fail",
        "error",
        "not run",
        "cycles/frame",
        "estimated",
        "seconds"
    );
    for (ci, case) in plan.spec.cases.iter().enumerate() {
        let mut t = Totals::default();
        let mut frames = Vec::new();
        let mut cases_xml = String::new();
        let mut steady = Vec::new();
        let mut est = None;
        let mut seconds = 0.0;
        for u in plan
            .units
            .iter()
            .filter(|u| u.case == ci && owned(u.ordinal))
        {
            for f in &plan.frames[ci][u.first..u.first + u.count] {
                let r = latest.get(&(case.name.clone(), f.index));
                t.frames += 1;
                match r.map(|r| r.verdict) {
                    Some(Verdict::Pass) => t.passed += 1,
                    Some(Verdict::Fail) => t.failed += 1,
                    Some(Verdict::Error) => t.errors += 1,
                    None => t.not_run += 1,
                }
                if let Some(r) = r {
                    est = est.or(r.estimated_cycles);
                    seconds += r.seconds;
                    if f.index != u.first {
                        steady.extend(r.cycles);
                    }
                }
                frames.push(FrameLine {
                    frame: f.index,
                    label: &f.label,
                    verdict: verdict_name(r),
                    cycles: r.and_then(|r| r.cycles),
                    logits_digest: r.and_then(|r| r.logits_digest.as_deref()),
                    reference_digest: r.and_then(|r| r.reference_digest.as_deref()),
                    mismatch: r.and_then(|r| r.mismatch.as_ref()),
                    error: r.and_then(|r| r.error.as_deref()),
                });
                let _ = write!(
                    cases_xml,
                    "    <testcase classname=\"{}.{}\" name=\"frame {} {}\" time=\"{:.3}\"",
                    xml(&plan.spec.name),
                    xml(&case.name),
                    f.index,
                    xml(&f.label),
                    r.map(|r| r.seconds).unwrap_or(0.0)
                );
                match r {
                    Some(r) if r.verdict == Verdict::Fail => {
                        let (msg, hint) = match &r.mismatch {
                            Some(m) => (mismatch_text(m), m.layer_hint.clone()),
                            None => ("logits differ".into(), String::new()),
                        };
                        let _ = writeln!(
                            cases_xml,
                            ">\n      <failure type=\"mismatch\" message=\"{}\">look at {}{}</failure>\n    </testcase>",
                            xml(&msg),
                            xml(&hint),
                            r.vcd.as_deref().map(|v| format!("; waveform {}", xml(v))).unwrap_or_default()
                        );
                    }
                    Some(r) if r.verdict == Verdict::Error => {
                        let e = r.error.as_deref().unwrap_or("error");
                        let _ = writeln!(
                            cases_xml,
                            ">\n      <error type=\"error\" message=\"{}\">{}</error>\n    </testcase>",
                            xml(e.lines().next().unwrap_or(e)),
                            xml(e)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            cases_xml,
                            ">\n      <skipped message=\"not run\"/>\n    </testcase>"
                        );
                    }
                    _ => {
                        let _ = writeln!(cases_xml, "/>");
                    }
                }
            }
        }
        if t.frames == 0 {
            continue;
        }
        steady.sort_unstable();
        let median = steady.get(steady.len() / 2).copied();
        let _ = writeln!(
            summary,
            "{:<40} {:>6} {:>6} {:>6} {:>6} {:>7} {:>12} {:>12} {:>9.1}",
            case.name,
            t.frames,
            t.passed,
            t.failed,
            t.errors,
            t.not_run,
            median.map(|m| m.to_string()).unwrap_or("-".into()),
            est.map(|m| m.to_string()).unwrap_or("-".into()),
            seconds
        );
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n{cases_xml}  </testsuite>\n",
            xml(&case.name),
            t.frames,
            t.failed,
            t.errors,
            t.not_run,
            seconds
        );
        total.frames += t.frames;
        total.passed += t.passed;
        total.failed += t.failed;
        total.errors += t.errors;
        total.not_run += t.not_run;
        cases.push(CaseLine {
            name: &case.name,
            totals: t,
            estimated_cycles: est,
            frames,
        });
    }
    let _ = write!(
        junit,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"squeezeflow regress {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        xml(&plan.spec.name),
        total.frames,
        total.failed,
        total.errors,
        total.not_run,
        info.wall_seconds
    );
    let how = match (info.jobs, info.shard) {
        (0, _) => format!("{:.1} s of simulation, merged", info.wall_seconds),
        (j, None) => format!("{:.1} s wall on {j} workers", info.wall_seconds),
        (j, Some((k, n))) => format!(
            "{:.1} s wall on {j} workers (shard {k}/{n})",
            info.wall_seconds
        ),
    };
    let _ = writeln!(
        summary,
        "total: {} frames, {} passed, {} mismatched, {} errors, {} not run; {how}",
        total.frames, total.passed, total.failed, total.errors, total.not_run,
    );
    let report = ReportJson {
        regression: &plan.spec.name,
        plan: plan.digest(),
        totals: total,
        cases,
    };
    let write = |name: &str, text: &str| -> Result<()> {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    write(
        "report.json",
        &(serde_json::to_string_pretty(&report)? + "\n"),
    )?;
    write("junit.xml", &junit)?;
    write("summary.txt", &summary)?;
    Ok(total)
}

/// Merges the result folders of shards (or of repeated runs) of one plan into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Totals> {
    if dirs.is_empty() {
        bail!("merge: name the result folders to merge");
    }
    let mut runs: Vec<RunFile> = Vec::new();
    let mut records = Vec::new();
    for d in dirs {
        let r = read_run_file(d)?;
        if let Some(first) = runs.first() {
            if first.digest != r.digest {
                bail!(
                    "{} ran another regression (plan {}) than {} (plan {})",
                    d.display(),
                    r.digest,
                    dirs[0].display(),
                    first.digest
                );
            }
        }
        records.extend(read_records(&d.join("results.jsonl"))?);
        runs.push(r);
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let first = runs.remove(0);
    let latest = latest(&records);
    let mut bundles = first.bundles.clone();
    for r in &runs {
        bundles.extend(r.bundles.iter().cloned());
    }
    bundles.sort();
    bundles.dedup();
    let merged = RunFile {
        plan: first.plan.clone(),
        digest: first.digest.clone(),
        shard: None,
        bundles,
    };
    std::fs::write(
        out.join("plan.json"),
        serde_json::to_string_pretty(&merged)?,
    )?;
    let mut text = String::new();
    for r in latest.values() {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    std::fs::write(out.join("results.jsonl"), text)?;
    // A merge has no wall clock of its own: the summary gives the simulation time of its frames.
    let wall = latest.values().map(|r| r.seconds).sum();
    write_reports(
        out,
        &first.plan,
        &latest,
        &RunInfo {
            shard: None,
            wall_seconds: wall,
            jobs: 0,
        },
    )
}
