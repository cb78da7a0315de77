//! The regression spec (TOML) and its expansion into cases and work units.
//!
//! A spec is a list of `[[case]]` tables over `[defaults]`; a list value of `mac_budget`,
//! `device`, `stall` or `seed` makes one case per value (their cross product). Every case is a
//! network source, a folding, a stall setting and a frame source; its frames are cut into units
//! of `frames_per_job` frames, the unit of work a worker runs from reset. Units are fixed by the
//! spec alone, so a frame's cycles and logits do not depend on `-j`, shards or the machine.
//! See `docs/regress.md` for the format and `regress/nightly.toml` for an example.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Frames per unit when the spec does not say.
pub const DEFAULT_FRAMES_PER_JOB: usize = 4;
/// Cycles without progress before a frame is a deadlock (as `sim`).
pub const DEFAULT_MAX_IDLE: u64 = 5_000_000;

/// One case as written in the spec (after `[defaults]` are merged in), before list expansion.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    model: Option<String>,
    preset: Option<String>,
    config: Option<String>,
    weights_seed: Option<u64>,
    input_size: Option<usize>,
    mac_budget: Option<OneOrMany<usize>>,
    device: Option<OneOrMany<String>>,
    clock_mhz: Option<f64>,
    stall: Option<OneOrMany<f64>>,
    seed: Option<OneOrMany<u64>>,
    frames: Option<Vec<String>>,
    first_frame: Option<usize>,
    max_frames: Option<usize>,
    frames_per_job: Option<usize>,
    max_idle: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn values(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
    fn is_list(&self) -> bool {
        matches!(self, OneOrMany::Many(_))
    }
}

/// Where a case's network and weights come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkSource {
    /// The built-in SqueezeNet v1.1 with its real int8 weights.
    Builtin,
    /// A quantized model file (absolute path).
    Model(PathBuf),
    /// A preset with synthetic weights.
    Preset { name: String, weights_seed: u64 },
    /// A network TOML file (absolute path) with synthetic weights.
    Config { path: PathBuf, weights_seed: u64 },
}

/// One case of the regression: fully resolved, paths absolute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    pub network: NetworkSource,
    pub input_size: Option<usize>,
    pub mac_budget: Option<usize>,
    pub device: Option<String>,
    pub clock_mhz: Option<f64>,
    pub stall: f64,
    pub seed: u64,
    /// Frame sources as `sim` takes them (paths absolute); empty: the built-in clip.
    pub frames: Vec<String>,
    pub first_frame: usize,
    pub max_frames: Option<usize>,
    pub frames_per_job: usize,
    pub max_idle: u64,
}

impl Case {
    /// What decides the bundle: the network source and the folding (not stalls or frames).
    pub fn bundle_key(&self) -> String {
        let v = serde_json::json!([
            self.network,
            self.input_size,
            self.mac_budget,
            self.device,
            self.clock_mhz
        ]);
        let text = v.to_string();
        let mut bytes = text.into_bytes();
        // The generator is part of the key: another build of squeezeflow may write another
        // bundle (or carry another built-in model) for the same case.
        bytes.extend_from_slice(generator_id().as_bytes());
        // A model file's content is part of the key (a path alone would reuse a stale bundle).
        if let NetworkSource::Model(p) | NetworkSource::Config { path: p, .. } = &self.network {
            if let Ok(b) = std::fs::read(p) {
                bytes.extend_from_slice(&b);
            }
        }
        format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(&bytes))
    }
}

/// A digest of this program's executable (once per process).
fn generator_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let bytes = std::env::current_exe()
            .and_then(std::fs::read)
            .unwrap_or_default();
        format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(&bytes))
    })
}

/// The parsed spec: its cases in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub cases: Vec<Case>,
}

fn resolve_path(base: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// A frame source argument: files relative to the spec's folder; `synthetic:N` as it is.
fn resolve_frames(base: &Path, case: &str, args: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            bail!("case {case}: frames from standard input (`-`) cannot be split over workers");
        }
        if a == "synthetic" || a.starts_with("synthetic:") {
            out.push(a.clone());
            continue;
        }
        let p = resolve_path(base, a);
        if !p.exists() {
            bail!("case {case}: frame source {} does not exist", p.display());
        }
        out.push(p.display().to_string());
    }
    Ok(out)
}

impl Spec {
    /// Reads a spec file; relative paths in it are relative to its folder.
    pub fn from_file(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the regression spec {}", path.display()))?;
        let base = path
            .canonicalize()
            .with_context(|| path.display().to_string())?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("regress")
            .to_string();
        Spec::from_str(&text, &base, &name).with_context(|| path.display().to_string())
    }

    /// Parses a spec's text; `base` resolves relative paths.
    pub fn from_str(text: &str, base: &Path, name: &str) -> Result<Spec> {
        let doc: toml::Table = text.parse().context("not valid TOML")?;
        let mut defaults = toml::Table::new();
        let mut raw_cases = Vec::new();
        for (k, v) in doc {
            match (k.as_str(), v) {
                ("defaults", toml::Value::Table(t)) => defaults = t,
                ("case", toml::Value::Array(a)) => raw_cases = a,
                ("defaults", _) | ("case", _) => {
                    bail!("`{k}` must be a table ([defaults]) or an array of tables ([[case]])")
                }
                _ => bail!("unknown key `{k}` (a spec holds [defaults] and [[case]] tables)"),
            }
        }
        if defaults.contains_key("name") {
            bail!("[defaults]: `name` belongs to each case");
        }
        if raw_cases.is_empty() {
            bail!("no [[case]] in the spec");
        }
        let mut cases = Vec::new();
        for (i, v) in raw_cases.into_iter().enumerate() {
            let toml::Value::Table(t) = v else {
                bail!("case {}: not a table", i + 1);
            };
            let label = t
                .get("name")
                .and_then(|n| n.as_str())
                .map(|s| format!("case {} ({s})", i + 1))
                .unwrap_or_else(|| format!("case {}", i + 1));
            let mut merged = defaults.clone();
            merged.extend(t);
            let raw: RawCase = toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| anyhow!("{label}: {}", e.message()))?;
            cases.extend(expand(&raw, base).with_context(|| label.clone())?);
        }
        let mut seen = BTreeMap::new();
        for c in &cases {
            if seen.insert(c.name.clone(), ()).is_some() {
                bail!("two cases are named `{}`: names must be unique", c.name);
            }
        }
        Ok(Spec {
            name: name.to_string(),
            cases,
        })
    }
}

/// One resolved case per combination of the list-valued keys.
fn expand(raw: &RawCase, base: &Path) -> Result<Vec<Case>> {
    let name = raw.name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        bail!("name `{}`: use letters, digits, `.`, `_` and `-`", raw.name);
    }
    let sources = [&raw.model, &raw.preset, &raw.config]
        .iter()
        .filter(|s| s.is_some())
        .count();
    if sources > 1 {
        bail!("give one of `model`, `preset` and `config`");
    }
    let seed_w = raw.weights_seed.unwrap_or(1);
    let network = match (&raw.model, &raw.preset, &raw.config) {
        (Some(m), _, _) if m == "builtin" => NetworkSource::Builtin,
        (Some(m), _, _) => {
            let p = resolve_path(base, m);
            if !p.is_file() {
                bail!("model file {} does not exist", p.display());
            }
            NetworkSource::Model(p)
        }
        (_, Some(p), _) => {
            squeezeflow_model::NetworkConfig::preset(p)?;
            NetworkSource::Preset {
                name: p.clone(),
                weights_seed: seed_w,
            }
        }
        (_, _, Some(c)) => {
            let p = resolve_path(base, c);
            squeezeflow_model::NetworkConfig::from_toml_file(&p)
                .with_context(|| format!("config {}", p.display()))?;
            NetworkSource::Config {
                path: p,
                weights_seed: seed_w,
            }
        }
        _ => NetworkSource::Builtin,
    };
    if raw.mac_budget.is_some() && raw.device.is_some() {
        bail!("give `mac_budget` or `device`, not both");
    }
    let budgets: Vec<Option<usize>> = match &raw.mac_budget {
        Some(b) => b.values().into_iter().map(Some).collect(),
        None => vec![None],
    };
    let devices: Vec<Option<String>> = match &raw.device {
        Some(d) => d.values().into_iter().map(Some).collect(),
        None => vec![None],
    };
    let stalls = raw.stall.as_ref().map(|s| s.values()).unwrap_or(vec![0.0]);
    let seeds = raw.seed.as_ref().map(|s| s.values()).unwrap_or(vec![1]);
    for s in &stalls {
        if !(0.0..1.0).contains(s) {
            bail!("stall must be in [0, 1), not {s}");
        }
    }
    for b in budgets.iter().flatten() {
        if *b == 0 {
            bail!("mac_budget must be at least 1");
        }
    }
    for d in devices.iter().flatten() {
        squeezeflow_hw::device::find_device(d)?;
    }
    if budgets.is_empty() || devices.is_empty() || stalls.is_empty() || seeds.is_empty() {
        bail!("an empty list makes no case");
    }
    let fpj = raw.frames_per_job.unwrap_or(DEFAULT_FRAMES_PER_JOB);
    if fpj == 0 {
        bail!("frames_per_job must be at least 1");
    }
    if raw.max_frames == Some(0) {
        bail!("max_frames must be at least 1");
    }
    let frames = resolve_frames(base, name, raw.frames.as_deref().unwrap_or(&[]))?;
    let list = |is: bool, k: &str, v: String| is.then(|| format!("{k}={v}"));
    let mut out = Vec::new();
    for b in &budgets {
        for d in &devices {
            for s in &stalls {
                for seed in &seeds {
                    let tags: Vec<String> = [
                        list(
                            raw.mac_budget.as_ref().is_some_and(|v| v.is_list()),
                            "mac",
                            format!("{}", b.unwrap_or(0)),
                        ),
                        list(
                            raw.device.as_ref().is_some_and(|v| v.is_list()),
                            "dev",
                            d.clone().unwrap_or_default(),
                        ),
                        list(
                            raw.stall.as_ref().is_some_and(|v| v.is_list()),
                            "stall",
                            format!("{s}"),
                        ),
                        list(
                            raw.seed.as_ref().is_some_and(|v| v.is_list()),
                            "seed",
                            format!("{seed}"),
                        ),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let full = if tags.is_empty() {
                        name.to_string()
                    } else {
                        format!("{name}.{}", tags.join("."))
                    };
                    out.push(Case {
                        name: full,
                        network: network.clone(),
                        input_size: raw.input_size,
                        mac_budget: *b,
                        device: d.clone(),
                        clock_mhz: raw.clock_mhz,
                        stall: *s,
                        seed: *seed,
                        frames: frames.clone(),
                        first_frame: raw.first_frame.unwrap_or(0),
                        max_frames: raw.max_frames,
                        frames_per_job: fpj,
                        max_idle: raw.max_idle.unwrap_or(DEFAULT_MAX_IDLE),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A unit of work: frames `first..first + count` of one case (indices into the case's frames
/// after `first_frame`), run from reset by one worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Position in the plan (cases in spec order, then frames): the shard key.
    pub ordinal: usize,
    pub case: usize,
    pub first: usize,
    pub count: usize,
}

/// A frame's place in a case: its index (from `first_frame`) and its label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameInfo {
    pub index: usize,
    pub label: String,
}

/// Everything a run does: the cases, each case's frames, and the units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub spec: Spec,
    pub frames: Vec<Vec<FrameInfo>>,
    pub units: Vec<Unit>,
}

impl Plan {
    /// Counts each case's frames (reading its sources once) and cuts them into units.
    pub fn new(spec: Spec, input_size_of: impl Fn(&Case) -> Result<usize>) -> Result<Plan> {
        let mut frames = Vec::new();
        let mut units = Vec::new();
        for (ci, case) in spec.cases.iter().enumerate() {
            let n = input_size_of(case).with_context(|| format!("case {}", case.name))?;
            let labels = frame_labels(case, n).with_context(|| format!("case {}", case.name))?;
            if labels.is_empty() {
                bail!(
                    "case {}: no frames (first_frame {} is past the end of its sources)",
                    case.name,
                    case.first_frame
                );
            }
            let mut first = 0;
            while first < labels.len() {
                let count = case.frames_per_job.min(labels.len() - first);
                units.push(Unit {
                    ordinal: units.len(),
                    case: ci,
                    first,
                    count,
                });
                first += count;
            }
            frames.push(labels);
        }
        Ok(Plan {
            spec,
            frames,
            units,
        })
    }

    /// A digest of what the plan runs (not where): two runs of one plan can be merged.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(text.as_bytes()))
    }

    /// Total frames.
    pub fn total_frames(&self) -> usize {
        self.frames.iter().map(Vec::len).sum()
    }
}

/// The labels of a case's frames (after `first_frame`, at most `max_frames`).
fn frame_labels(case: &Case, n: usize) -> Result<Vec<FrameInfo>> {
    let src = crate::accel::frames_or_builtin_clip_quiet(&case.frames, n)?;
    let max = case.max_frames.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for (i, f) in src.skip(case.first_frame).take(max).enumerate() {
        let (label, _) = f?;
        out.push(FrameInfo { index: i, label });
    }
    Ok(out)
}

/// Parses `K/N` (1-based K).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| anyhow!("--shard takes K/N (e.g. 1/4), not `{s}`"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| anyhow!("--shard: `{k}` is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| anyhow!("--shard: `{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        bail!("--shard {s}: K must be in 1..=N");
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Spec> {
        Spec::from_str(text, Path::new("/"), "t")
    }

    #[test]
    fn lists_expand_to_the_cross_product_with_named_cases() {
        let s = parse(
            "[defaults]\nframes = [\"synthetic:3\"]\n[[case]]\nname = \"a\"\nmac_budget = [8, 16]\nstall = [0.0, 0.5]\nseed = 7\n",
        )
        .unwrap();
        let names: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a.mac=8.stall=0",
                "a.mac=8.stall=0.5",
                "a.mac=16.stall=0",
                "a.mac=16.stall=0.5"
            ]
        );
        assert!(s.cases.iter().all(|c| c.seed == 7));
        assert_eq!(s.cases[3].mac_budget, Some(16));
        assert_eq!(s.cases[3].stall, 0.5);
    }

    #[test]
    fn bad_specs_name_the_case_and_the_key() {
        let e = parse("[[case]]\nname = \"x\"\nstal = 0.1\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("case 1 (x)") && msg.contains("stal"), "{msg}");
        let e =
            parse("[[case]]\nname = \"m\"\nmodel = \"/no/such/model.safetensors\"\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("case 1 (m)") && msg.contains("does not exist"),
            "{msg}"
        );
        let e = parse("[[case]]\nname = \"d\"\ndevice = \"xc9z999\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("case 1 (d)"), "{e:#}");
        let e = parse("[[case]]\nname = \"s\"\nstall = 1.5\n").unwrap_err();
        assert!(format!("{e:#}").contains("stall"), "{e:#}");
        let e = parse("[[case]]\nname = \"a\"\n[[case]]\nname = \"a\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("unique"), "{e:#}");
        let e = parse("[case]\nname = \"a\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("array of tables"), "{e:#}");
        let e = parse("[[case]]\nname = \"a/b\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("a/b"), "{e:#}");
    }

    #[test]
    fn units_cut_frames_by_frames_per_job_and_shards_parse() {
        let s = parse(
            "[[case]]\nname = \"a\"\npreset = \"squeezenet1_1\"\ninput_size = 32\nframes = [\"synthetic:7\"]\nframes_per_job = 3\nfirst_frame = 1\n",
        )
        .unwrap();
        let p = Plan::new(s, |_| Ok(32)).unwrap();
        assert_eq!(p.frames[0].len(), 6);
        assert_eq!(p.frames[0][0].label, "synthetic[1]");
        let cuts: Vec<(usize, usize)> = p.units.iter().map(|u| (u.first, u.count)).collect();
        assert_eq!(cuts, [(0, 3), (3, 3)]);
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
