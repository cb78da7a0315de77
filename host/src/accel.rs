//! The accelerator side of the command line: generating bundles (`gen`) and running them in
//! Verilator against the integer reference (`sim`).

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use squeezeflow_hw::bundle::{write_bundle, Manifest, DEFAULT_CLOCK_MHZ};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::harness::Stalls;
use squeezeflow_model::reference::Prepared;
use squeezeflow_model::{builtin, file, Network, NetworkConfig, QuantModel};
use squeezeflow_sim::network::{stream_frames, Bundle, FrameOut, RunOptions};
use squeezeflow_sim::verilator::BuildOptions;
use squeezeflow_sim::SimError;

use crate::frames::{Frame, FrameSource};

/// A short real clip shipped with the tool (the first frames of a pan across NASA's public-domain
/// astronaut photo), so the main job runs without any download.
pub const BUILTIN_CLIP: &[u8] = include_bytes!("../assets/astronaut_pan4.y4m");

/// The frames named on the command line, or the built-in clip when none are.
pub fn frames_or_builtin_clip(args: &[String], n: usize) -> Result<FrameSource> {
    if args.is_empty() {
        eprintln!("frames: the built-in clip (4 frames of a pan across the astronaut photo)");
    }
    frames_or_builtin_clip_quiet(args, n)
}

/// As [`frames_or_builtin_clip`], without saying which.
pub fn frames_or_builtin_clip_quiet(args: &[String], n: usize) -> Result<FrameSource> {
    if args.is_empty() {
        FrameSource::y4m(std::io::Cursor::new(BUILTIN_CLIP), "astronaut_pan", n)
    } else {
        FrameSource::open_all(args, n)
    }
}

/// Which model: a quantized model file, a preset or network TOML with synthetic weights, or the
/// built-in SqueezeNet v1.1 (real weights) when none is named (the `--model`, `--preset`,
/// `--config`, `--input-size` and `--weights-seed` options of `gen` and `sim`).
#[derive(Clone, Debug, Default)]
pub struct ModelChoice {
    pub model: Option<PathBuf>,
    pub preset: Option<String>,
    pub config: Option<PathBuf>,
    pub input_size: Option<usize>,
    pub weights_seed: u64,
    /// The config file, read and parsed once (the network and its `[hardware]` table).
    file: std::cell::OnceCell<squeezeflow_model::NetworkFile>,
}

impl ModelChoice {
    pub fn new(
        model: Option<PathBuf>,
        preset: Option<String>,
        config: Option<PathBuf>,
        input_size: Option<usize>,
        weights_seed: u64,
    ) -> Self {
        ModelChoice {
            model,
            preset,
            config,
            input_size,
            weights_seed,
            file: Default::default(),
        }
    }

    /// The config file, parsed on first use.
    fn file(&self) -> Result<Option<&squeezeflow_model::NetworkFile>> {
        let Some(path) = &self.config else {
            return Ok(None);
        };
        if self.file.get().is_none() {
            let _ = self.file.set(squeezeflow_model::NetworkFile::read(path)?);
        }
        Ok(self.file.get())
    }

    /// The network: the config file, else the preset, else SqueezeNet v1.1; `input_size` over it.
    pub fn network(&self) -> Result<NetworkConfig> {
        let mut cfg = match (&self.preset, self.file()?) {
            (_, Some(f)) => f.config.clone(),
            (Some(p), None) => NetworkConfig::preset(p)?,
            (None, None) => NetworkConfig::squeezenet1_1(),
        };
        if let Some(n) = self.input_size {
            cfg.input_size = n;
        }
        Network::new(&cfg).context("checking the network")?;
        Ok(cfg)
    }

    /// The quantized model.
    pub fn model(&self) -> Result<QuantModel> {
        if let Some(p) = &self.model {
            return Ok(file::load(p)?);
        }
        if self.preset.is_none() && self.config.is_none() && self.input_size.is_none() {
            return Ok(builtin::default_model());
        }
        let cfg = self.network()?;
        Ok(QuantModel::synthetic(&cfg, self.weights_seed)?)
    }

    /// The `[hardware]` table of the config file (defaults without one).
    pub fn hardware(&self) -> Result<HardwareConfig> {
        match (self.file()?, &self.config) {
            (Some(f), Some(p)) => Ok(HardwareConfig::from_table(f.hardware.as_ref())
                .with_context(|| p.display().to_string())?),
            _ => Ok(Default::default()),
        }
    }
}

/// Hardware options of `gen` (and of `sim` when it generates).
#[derive(Clone, Debug, Default)]
pub struct GenOptions {
    pub hardware: HardwareConfig,
    pub mac_budget: Option<usize>,
    pub clock_mhz: Option<f64>,
    /// A device (`--device`): the folding with the most frames per second that fits it, at its
    /// nominal clock unless a clock is given; `mac_budget` caps the lanes.
    pub device: Option<String>,
    /// A board (`--board`): its device, and its constraint files copied into the bundle.
    pub board: Option<String>,
    /// The top module's name (`--top-name`; default `<network>_top`).
    pub top_name: Option<String>,
    pub pixel_format: squeezeflow_hw::ip::PixelFormat,
}

/// Writes a bundle for `model` into `dir`.
pub fn generate(model: &QuantModel, opt: &GenOptions, dir: &Path) -> Result<Manifest> {
    let mut hw = opt.hardware.clone();
    if let Some(b) = opt.mac_budget {
        hw.mac_budget = Some(b);
    }
    let clock = opt.clock_mhz.or(hw.clock_mhz).unwrap_or(DEFAULT_CLOCK_MHZ);
    if !(clock > 0.0 && clock.is_finite()) {
        bail!("the clock must be a positive number of MHz, not {clock}");
    }
    let dev = crate::synth_cmd::resolve_device(opt.device.as_deref(), opt.board.as_deref())?;
    let (p, clock) = match dev {
        Some(d) => {
            let f = squeezeflow_hw::device::fit(model, d, &hw)?;
            (
                f.plan,
                opt.clock_mhz.or(hw.clock_mhz).unwrap_or(d.clock_mhz),
            )
        }
        None => (plan(&model.network, &hw)?, clock),
    };
    // Written beside, then renamed into place: concurrent or interrupted runs never leave a
    // bundle with the manifest of one and the memories of another.
    let tmp = sibling(dir, "tmp")?;
    let ip = squeezeflow_hw::ip::IpOptions {
        top_name: opt.top_name.clone(),
        pixel_format: opt.pixel_format,
        clock_mhz: clock,
    };
    let written = write_bundle(model, &p, &ip, &tmp)
        .with_context(|| format!("writing the bundle to {}", dir.display()))
        .and_then(|mut m| {
            crate::synth_cmd::finish_bundle(&tmp, &mut m, dev, opt.board.as_deref())?;
            Ok(m)
        })
        .and_then(|m| replace_dir(&tmp, dir).map(|()| m));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written
}

/// A fresh name beside `dir` (`.<name>.<tag>-<pid>-<nanos>`), its parent created.
fn sibling(dir: &Path, tag: &str) -> Result<PathBuf> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Ok(parent.join(format!(".{name}.{tag}-{}-{nanos}", std::process::id())))
}

/// Puts the finished bundle `tmp` at `dir`, replacing an earlier bundle there. A folder that
/// holds other things is left alone (an error): `gen -o` never deletes a user's files.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    // Another run may put its bundle there between our two renames: then try again.
    for _ in 0..5 {
        let mut old = None;
        if dir.exists() {
            let empty = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .next()
                .is_none();
            if !empty && !dir.join("manifest.json").is_file() {
                bail!(
                    "{} exists and is not a squeezeflow bundle: give an empty or a new folder",
                    dir.display()
                );
            }
            let aside = sibling(dir, "old")?;
            match std::fs::rename(dir, &aside) {
                Ok(()) => old = Some(aside),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("moving {} aside", dir.display())),
            }
        }
        let placed = std::fs::rename(tmp, dir);
        if let Some(o) = old {
            let _ = std::fs::remove_dir_all(o);
        }
        match placed {
            Ok(()) => return Ok(()),
            Err(_) if dir.exists() => continue,
            Err(e) => return Err(e).with_context(|| format!("writing {}", dir.display())),
        }
    }
    bail!(
        "{} kept changing while the bundle was written (another gen into it?)",
        dir.display()
    )
}

/// One line of the `gen` summary.
pub fn describe(m: &Manifest, dir: &Path) -> String {
    format!(
        "{}: {} ({} files) — {} MAC lanes, {} cycles/frame estimated ({:.1} fps at {} MHz), MAC utilisation {:.1}%, {:.2} Mbit on chip ({:.2} Mbit weights)",
        m.network,
        dir.display(),
        m.files.len(),
        m.mac_lanes,
        m.cycles_per_frame,
        m.frames_per_second,
        m.clock_mhz,
        m.mac_utilization * 100.0,
        m.memory_bits as f64 / 1e6,
        m.weight_bits as f64 / 1e6
    )
}

/// Options of `sim`.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub max_frames: Option<usize>,
    pub stall: f64,
    pub seed: u64,
    pub vcd: Option<PathBuf>,
    pub max_idle: u64,
    pub top: usize,
    pub quiet: bool,
    /// Verilator threads for the one model (0 or 1: single-threaded).
    pub threads: usize,
}

/// Per-frame result of `sim`.
#[derive(Clone, Debug, Serialize)]
pub struct FrameReport {
    pub index: usize,
    pub label: String,
    pub matches: bool,
    pub cycles: u64,
    pub done_cycle: u64,
    /// FNV-1a 64 of the logits the accelerator returned (little-endian `u16`s), in hex.
    pub logits_digest: String,
    /// The same digest of the integer reference's logits.
    pub reference_digest: String,
    /// (class, logit, real value, name)
    pub top: Vec<(usize, u16, f32, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<Mismatch>,
}

/// The first differing logit of a frame.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Mismatch {
    pub class: usize,
    pub expected: u16,
    pub got: u16,
    pub differing: usize,
    pub layer_hint: String,
}

/// The `sim` report.
#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    pub network: String,
    pub bundle: String,
    pub frames: usize,
    pub matched: usize,
    pub estimated_cycles_per_frame: u64,
    /// Median of the frame-to-frame cycles after the first frame (the pipeline's steady state),
    /// or the first frame's cycles when there is only one.
    pub measured_cycles_per_frame: u64,
    pub deviation: f64,
    pub first_frame_cycles: u64,
    pub clock_mhz: f64,
    pub frames_per_second: f64,
    pub mac_lanes: usize,
    pub mac_utilization: f64,
    pub build_seconds: f64,
    pub sim_seconds: f64,
    pub cycles: u64,
    pub cycles_per_second: f64,
    pub frame_reports: Vec<FrameReport>,
    /// Why the run stopped before its last frame, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn top_k(logits: &[u16], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    idx.sort_by(|&a, &b| logits[b].cmp(&logits[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

fn class_name(classes: &Option<Vec<&'static str>>, c: usize) -> String {
    classes
        .as_ref()
        .and_then(|v| v.get(c))
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("class {c}"))
}

/// Where to look when logits differ. An error upstream of conv10 spreads to many classes through
/// the 1x1 convolution, so a few differing classes (one, or up to 5 %) point at conv10's output
/// channels or at the average pool; more point at an earlier layer.
fn layer_hint(differing: usize, classes: usize) -> String {
    if differing <= (classes / 20).max(1) {
        "conv10 (the differing classes' output channels) or avgpool".into()
    } else {
        format!(
            "an earlier layer ({differing} of {classes} classes differ, as an error before conv10 \
             spreads): run again with --vcd and compare the layer streams"
        )
    }
}

/// FNV-1a 64 of logits as little-endian `u16`s, in hex: a short name for a frame's output.
pub fn logits_digest(logits: &[u16]) -> String {
    let bytes: Vec<u8> = logits.iter().flat_map(|v| v.to_le_bytes()).collect();
    format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(&bytes))
}

/// One frame's report: the logits against the reference, the top classes.
#[allow(clippy::too_many_arguments)]
pub fn frame_report(
    m: &Manifest,
    index: usize,
    label: String,
    logits: &[u16],
    want: &[u16],
    cycles: u64,
    done_cycle: u64,
    top: usize,
) -> FrameReport {
    let classes = (m.num_classes == 1000).then(builtin::imagenet_classes);
    let matches = logits == want;
    let mismatch = (!matches).then(|| {
        let first = logits
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let differing = logits.iter().zip(want).filter(|(a, b)| a != b).count()
            + logits.len().abs_diff(want.len());
        Mismatch {
            class: first,
            expected: want.get(first).copied().unwrap_or(0),
            got: logits.get(first).copied().unwrap_or(0),
            differing,
            layer_hint: layer_hint(differing, m.num_classes),
        }
    });
    let top: Vec<(usize, u16, f32, String)> = top_k(logits, top)
        .into_iter()
        .map(|c| {
            (
                c,
                logits[c],
                logits[c] as f32 * m.logit_scale,
                class_name(&classes, c),
            )
        })
        .collect();
    FrameReport {
        index,
        label,
        matches,
        cycles,
        done_cycle,
        logits_digest: logits_digest(logits),
        reference_digest: logits_digest(want),
        top,
        mismatch,
    }
}

/// Prints one frame's report line (and the first differing logit on a mismatch).
pub fn print_frame(m: &Manifest, r: &FrameReport) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let fps = m.clock_mhz * 1e6 / r.cycles as f64;
    let verdict = if r.matches { "match" } else { "MISMATCH" };
    let names: Vec<String> = r
        .top
        .iter()
        .map(|(c, _, v, name)| format!("{name} ({c}) {v:.2}"))
        .collect();
    writeln!(
        out,
        "frame {:>3} {:<22} {verdict:<8} {:>9} cycles ({:.1} fps at {} MHz)  top-{}: {}",
        r.index,
        r.label,
        r.cycles,
        fps,
        m.clock_mhz,
        r.top.len(),
        names.join(", ")
    )?;
    if let Some(mm) = &r.mismatch {
        writeln!(
            out,
            "          first differing logit: class {} expected {} got {} ({} of {} differ); look at {}",
            mm.class, mm.expected, mm.got, mm.differing, m.num_classes, mm.layer_hint
        )?;
    }
    Ok(())
}

/// Runs frames through a bundle in Verilator and through the integer reference.
pub fn simulate(
    bundle: &Bundle,
    sources: impl Iterator<Item = Result<Frame>>,
    opt: &SimOptions,
) -> Result<SimReport> {
    let m = &bundle.manifest;
    let t0 = Instant::now();
    if !opt.quiet {
        eprintln!(
            "building the Verilator model of {} (cached after the first time)...",
            bundle.dir.display()
        );
    }
    let model = bundle
        .build(&BuildOptions {
            trace: opt.vcd.is_some(),
            threads: opt.threads,
            ..Default::default()
        })
        .map_err(|e| anyhow!(e))?;
    let build_seconds = t0.elapsed().as_secs_f64();
    // Weights held in RAM (UltraRAM) come in as one packet on s_axis_weights before the first
    // frame.
    let load = m.load_words(&bundle.dir).map_err(|e| anyhow!(e))?;
    if !opt.quiet && !load.is_empty() {
        eprintln!(
            "loading {} weight words into {} RAMs through s_axis_weights (one packet, before frame 0)",
            load.len(),
            m.load.len()
        );
    }
    let reference = Prepared::new(&bundle.model);
    let n = m.input_size;
    // Labels and reference logits of the frames sent so far: the input side pushes, the output
    // side reads (never at the same time).
    let seen: RefCell<(Vec<String>, Vec<Vec<u16>>)> = RefCell::new((Vec::new(), Vec::new()));
    let max = opt.max_frames.unwrap_or(usize::MAX);
    let frames = sources.take(max).map(|f| {
        let (label, rgb) = f.map_err(|e| SimError::Frames(format!("{e:#}")))?;
        if rgb.len() != n * n * 3 {
            return Err(SimError::Design(format!(
                "{label}: frame is not {n}x{n} RGB"
            )));
        }
        let r = reference
            .run(&rgb)
            .map_err(|e| SimError::Design(e.to_string()))?;
        let mut s = seen.borrow_mut();
        s.0.push(label);
        s.1.push(r.logits);
        Ok(rgb)
    });
    let tty = std::io::stderr().is_terminal() && !opt.quiet;
    let run = RunOptions {
        stalls: Stalls {
            input: opt.stall,
            output: opt.stall,
            seed: opt.seed,
        },
        max_idle: opt.max_idle,
        vcd: opt.vcd.clone(),
        progress: tty,
        load,
    };
    let mut reports: Vec<FrameReport> = Vec::new();
    let t1 = Instant::now();
    let on_frame = |f: FrameOut| -> Result<(), SimError> {
        let s = seen.borrow();
        let r = frame_report(
            m,
            f.index,
            s.0[f.index].clone(),
            &f.logits,
            &s.1[f.index],
            f.cycles,
            f.done_cycle,
            opt.top,
        );
        if tty {
            eprint!("\r\x1b[K");
        }
        if !opt.quiet {
            // A closed pipe ends the run here (main then exits quietly), not after every frame.
            print_frame(m, &r).map_err(SimError::io("writing to standard output"))?;
        }
        reports.push(r);
        Ok(())
    };
    // A run that stops (a Verilator error, a VCD that cannot be written) still reports the
    // frames it finished, with the error.
    let streamed = stream_frames(&model, m, frames, &run, on_frame);
    let sim_seconds = t1.elapsed().as_secs_f64();
    let (cycles, error) = match streamed {
        Ok(c) => (c, None),
        Err(e) => (
            reports.last().map_or(0, |r| r.done_cycle),
            Some(e.to_string()),
        ),
    };
    if reports.is_empty() && error.is_none() {
        bail!("no frames to simulate");
    }
    let mut steady: Vec<u64> = reports.iter().skip(1).map(|r| r.cycles).collect();
    steady.sort_unstable();
    let measured = if steady.is_empty() {
        reports.first().map_or(0, |r| r.cycles)
    } else {
        steady[steady.len() / 2]
    };
    let est = m.cycles_per_frame;
    let per = |x: f64| {
        if measured == 0 {
            0.0
        } else {
            x / measured as f64
        }
    };
    Ok(SimReport {
        network: m.network.clone(),
        bundle: bundle.dir.display().to_string(),
        frames: reports.len(),
        matched: reports.iter().filter(|r| r.matches).count(),
        estimated_cycles_per_frame: est,
        measured_cycles_per_frame: measured,
        deviation: (measured as f64 - est as f64) / est as f64,
        first_frame_cycles: reports.first().map_or(0, |r| r.cycles),
        clock_mhz: m.clock_mhz,
        frames_per_second: per(m.clock_mhz * 1e6),
        mac_lanes: m.mac_lanes,
        mac_utilization: per(m.macs_per_frame as f64 / m.mac_lanes as f64),
        build_seconds,
        sim_seconds,
        cycles,
        cycles_per_second: cycles as f64 / sim_seconds,
        frame_reports: reports,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::layer_hint;

    /// The hint says what was counted: one differing class of ten is a few, not "most".
    #[test]
    fn the_layer_hint_matches_the_count() {
        assert!(layer_hint(1, 10).starts_with("conv10"));
        assert!(layer_hint(50, 1000).starts_with("conv10"));
        let h = layer_hint(51, 1000);
        assert!(h.starts_with("an earlier layer (51 of 1000"), "{h}");
        assert!(!h.contains("most"), "{h}");
        assert!(layer_hint(3, 10).contains("3 of 10"));
    }
}
