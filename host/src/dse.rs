//! `dse`: the SqueezeNet paper's design-space exploration (section 5, figure 2) with a hardware
//! cost added. Two sweeps on the v1.0 macro layout (`[meta]`: base_e = 128, incr_e = 128,
//! freq = 2): the squeeze ratio SR from 0.125 to 1.0 at pct_3x3 = 0.5 (figure 2a), and pct_3x3
//! from 0.01 to 0.99 at SR = 0.5 (figure 2b). Per point: parameters, int8 model bytes, the
//! fp32 size in MB and MiB (the paper's sizes are 4 bytes a parameter), MACs, and the MAC
//! lanes and block RAM a folding needs for a target frame rate, or the frame rate the fastest
//! folding that fits a device reaches.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use squeezeflow_hw::device::{self, Device};
use squeezeflow_hw::folding::HardwareConfig;
use squeezeflow_model::config::MetaParams;
use squeezeflow_model::{Network, NetworkConfig};

/// Options of the sweep.
#[derive(Clone, Debug)]
pub struct DseOptions {
    pub input_size: usize,
    /// Frames per second to provision MAC lanes and block RAM for (without a device).
    pub fps: f64,
    pub clock_mhz: f64,
    /// Instead of a target rate: the fastest folding that fits this device.
    pub device: Option<&'static Device>,
    /// Skip the hardware columns (parameters only).
    pub hardware: bool,
    /// Bits a stored weight (8: int8; 4..=7: codebook indices), for the stored size and the
    /// folding's memories.
    pub weight_bits: u8,
}

/// One design point.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// `sr` or `pct_3x3`: which sweep the point belongs to.
    pub sweep: String,
    pub sr: f64,
    pub pct_3x3: f64,
    pub params: u64,
    /// int8 weights plus int32 biases.
    pub int8_bytes: u64,
    /// Weights at `weight_bits` (dense, with the per-layer codebooks) plus int32 biases.
    pub stored_bytes: u64,
    /// 4 bytes a parameter, in 10^6 bytes.
    pub fp32_mb: f64,
    /// 4 bytes a parameter, in 2^20 bytes.
    pub fp32_mib: f64,
    pub macs: u64,
    /// MAC lanes for the target rate (or of the device's folding).
    pub mac_lanes: Option<usize>,
    /// Block RAM (RAMB36, or the device's unit) of that folding.
    pub bram: Option<f64>,
    pub dsp: Option<u64>,
    pub cycles_per_frame: Option<u64>,
    pub fps: Option<f64>,
    /// Frames per second at the device's modelled clock ([`Device::modelled_mhz`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps_modelled: Option<f64>,
    /// Why the hardware columns are empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Dse {
    pub input_size: usize,
    pub target_fps: Option<f64>,
    pub clock_mhz: f64,
    /// What the device's clock rests on (a place-and-route result, or a target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_evidence: Option<String>,
    /// The clock the delay model supports on the device, and what it rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modelled_mhz: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modelled_evidence: Option<String>,
    pub device: Option<String>,
    /// Bits a stored weight at every point.
    pub weight_bits: u8,
    pub points: Vec<Point>,
}

/// The squeeze ratios of figure 2a.
pub const SR_SWEEP: [f64; 8] = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0];
/// The 3x3 fractions of figure 2b.
pub const PCT_SWEEP: [f64; 9] = [0.01, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 0.99];

/// The v1.0 macro layout with the paper's meta-parameters.
pub fn design(sr: f64, pct_3x3: f64, input_size: usize, bits: u8) -> Result<NetworkConfig> {
    let m = MetaParams::SQUEEZENET;
    let text = format!(
        "preset = \"squeezenet1_0\"\ninput_size = {input_size}\n[meta]\nbase_e = {}\nincr_e = {}\npct_3x3 = {pct_3x3:?}\nfreq = {}\nsr = {sr:?}\n[quantization]\nweight_bits = {bits}\n",
        m.base_e, m.incr_e, m.freq
    );
    NetworkConfig::from_toml_str(&text)
        .with_context(|| format!("the design point sr = {sr}, pct_3x3 = {pct_3x3}"))
}

fn point(sweep: &str, sr: f64, pct: f64, opt: &DseOptions) -> Result<Point> {
    let cfg = design(sr, pct, opt.input_size, opt.weight_bits)?;
    let net = Network::new(&cfg).with_context(|| format!("sr = {sr}, pct_3x3 = {pct}"))?;
    let params = net.params();
    let biases: u64 = net.convs().iter().map(|c| c.biases() as u64).sum();
    let mut p = Point {
        sweep: sweep.into(),
        sr,
        pct_3x3: pct,
        params,
        int8_bytes: net.weight_bytes() + 4 * biases,
        stored_bytes: squeezeflow_model::report::Report::new(&net).stored_weight_bytes + 4 * biases,
        fp32_mb: params as f64 * 4.0 / 1e6,
        fp32_mib: params as f64 * 4.0 / (1u64 << 20) as f64,
        macs: net.macs(),
        mac_lanes: None,
        bram: None,
        dsp: None,
        cycles_per_frame: None,
        fps: None,
        fps_modelled: None,
        note: None,
    };
    if !opt.hardware {
        return Ok(p);
    }
    match opt.device {
        Some(dev) => match device::fit_network(&net, dev, &HardwareConfig::default()) {
            Ok((_, plan, r)) => {
                let c = device::planned_cycles(&net, &plan)?;
                p.mac_lanes = Some(r.mac_lanes);
                p.bram = Some(r.bram);
                p.dsp = Some(r.dsp);
                p.cycles_per_frame = Some(c);
                p.fps = Some(dev.fps(c));
                p.fps_modelled = dev.modelled_fps(c);
            }
            Err(device::FitError::TooBig { what, .. }) => p.note = Some(what),
            Err(e) => return Err(e.into()),
        },
        None => {
            let cycles = (opt.clock_mhz * 1e6 / opt.fps).floor() as u64;
            let reference = device::find_device("xc7a200t")?; // RAMB36 shapes
            match device::lanes_for(&net, cycles)? {
                Some((plan, c)) => {
                    let r = device::resources(&net, &plan, reference)?;
                    p.mac_lanes = Some(r.mac_lanes);
                    p.bram = Some(r.bram);
                    p.dsp = Some(r.dsp);
                    p.cycles_per_frame = Some(c);
                    p.fps = Some(opt.clock_mhz * 1e6 / c as f64);
                }
                None => p.note = Some(format!("no folding reaches {} fps", opt.fps)),
            }
        }
    }
    Ok(p)
}

/// Runs both sweeps.
pub fn sweep(opt: &DseOptions, mut progress: impl FnMut(&Point)) -> Result<Dse> {
    let positive = |v: f64| v > 0.0 && v.is_finite();
    if !positive(opt.fps) || !positive(opt.clock_mhz) {
        bail!("--fps and --clock-mhz must be positive numbers");
    }
    let mut points = Vec::new();
    for sr in SR_SWEEP {
        let p = point("sr", sr, 0.5, opt)?;
        progress(&p);
        points.push(p);
    }
    for pct in PCT_SWEEP {
        let p = point("pct_3x3", 0.5, pct, opt)?;
        progress(&p);
        points.push(p);
    }
    Ok(Dse {
        input_size: opt.input_size,
        target_fps: opt.device.is_none().then_some(opt.fps),
        clock_mhz: opt.device.map_or(opt.clock_mhz, |d| d.clock_mhz),
        clock_evidence: opt.device.map(|d| d.clock_evidence.to_string()),
        modelled_mhz: opt.device.and_then(|d| d.modelled_mhz),
        modelled_evidence: opt
            .device
            .filter(|d| d.modelled_mhz.is_some())
            .map(|d| d.modelled_evidence.to_string()),
        device: opt.device.map(|d| d.name.to_string()),
        weight_bits: opt.weight_bits,
        points,
    })
}

fn opt_num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// The sweep as a table.
pub fn table(d: &Dse) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "SqueezeNet v1.0 layout, {}x{} input; hardware: {}",
        d.input_size,
        d.input_size,
        match (&d.device, d.target_fps) {
            (Some(dev), _) => format!(
                "the fastest folding that fits the {dev} at {} MHz ({}){}",
                d.clock_mhz,
                d.clock_evidence.as_deref().unwrap_or(""),
                match (d.modelled_mhz, &d.modelled_evidence) {
                    (Some(m), Some(e)) => format!(
                        "; `fps model`: at {m} MHz, the clock the delay model supports ({e})"
                    ),
                    _ => String::new(),
                }
            ),
            (None, Some(f)) => format!("MAC lanes and RAMB36 for {f} fps at {} MHz", d.clock_mhz),
            _ => "-".into(),
        }
    );
    if d.weight_bits < 8 {
        let _ = writeln!(
            s,
            "weights stored as {}-bit codebook indices (dense, every weight kept; {})",
            d.weight_bits,
            squeezeflow_model::report::PAPER_SIZES_NOTE
        );
    }
    let _ = writeln!(
        s,
        "{:<8} {:>6} {:>6} {:>10} {:>10} {:>10} {:>9} {:>9} {:>7} {:>6} {:>7} {:>6} {:>9}{}",
        "sweep",
        "SR",
        "pct3x3",
        "params",
        "int8 B",
        format!("{}-bit B", d.weight_bits),
        "fp32 MB",
        "fp32 MiB",
        "GMAC",
        "lanes",
        "BRAM",
        "DSP",
        "fps",
        if d.modelled_mhz.is_some() {
            format!(" {:>9}", "fps model")
        } else {
            String::new()
        }
    );
    for p in &d.points {
        let _ = writeln!(
            s,
            "{:<8} {:>6} {:>6} {:>10} {:>10} {:>10} {:>9.2} {:>9.2} {:>7.3} {:>6} {:>7} {:>6} {:>9}{}{}",
            p.sweep,
            p.sr,
            p.pct_3x3,
            p.params,
            p.int8_bytes,
            p.stored_bytes,
            p.fp32_mb,
            p.fp32_mib,
            p.macs as f64 / 1e9,
            opt_num(p.mac_lanes),
            opt_num(p.bram),
            opt_num(p.dsp),
            p.fps.map_or("-".into(), |f| format!("{f:.1}")),
            if d.modelled_mhz.is_some() {
                format!(" {:>9}", p.fps_modelled.map_or("-".into(), |f| format!("{f:.1}")))
            } else {
                String::new()
            },
            p.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    s
}

/// One metric of a sweep as an SVG line plot (hand-written: axes, ticks, points, labels).
pub fn svg_plot(title: &str, x_label: &str, y_label: &str, pts: &[(f64, f64)]) -> String {
    let (w, h) = (640.0, 400.0);
    let (l, r, t, b) = (80.0, 20.0, 40.0, 60.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let xmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let ymax_raw = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let ystep = nice_step(ymax_raw / 5.0);
    let ymax = (ymax_raw / ystep).ceil().max(1.0) * ystep;
    let xspan = if xmax > xmin { xmax - xmin } else { 1.0 };
    let sx = |x: f64| l + (x - xmin) / xspan * pw;
    let sy = |y: f64| t + ph - y / ymax * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    // Grid and y ticks.
    let mut y = 0.0;
    while y <= ymax + ystep / 2.0 {
        let py = sy(y);
        let _ = writeln!(
            s,
            r##"<line x1="{l}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            l + pw,
            l - 6.0,
            py + 4.0,
            fmt_tick(y)
        );
        y += ystep;
    }
    // X ticks at the points.
    for &(x, _) in pts {
        let px = sx(x);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="#000"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            t + ph,
            t + ph + 5.0,
            t + ph + 18.0,
            fmt_tick(x)
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#000"/><line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#000"/>"##,
        t + ph,
        t + ph,
        l + pw,
        t + ph
    );
    let line: Vec<String> = pts
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##,
        line.join(" ")
    );
    for &(x, y) in pts {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f77b4"><title>{}: {}</title></circle>"##,
            sx(x),
            sy(y),
            fmt_tick(x),
            fmt_tick(y)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        l + pw / 2.0,
        h - 15.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}</text>"#,
        t + ph / 2.0,
        t + ph / 2.0,
        esc(y_label)
    );
    s.push_str("</svg>\n");
    s
}

fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * mag
}

fn fmt_tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes one SVG per sweep and metric into `dir`; returns the files written.
pub fn write_plots(d: &Dse, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let mut out = Vec::new();
    type Metric = (&'static str, &'static str, fn(&Point) -> Option<f64>);
    let metrics: [Metric; 5] = [
        ("fp32_mib", "model size, fp32 (MiB)", |p| Some(p.fp32_mib)),
        ("int8_mb", "model size, int8 (MB)", |p| {
            Some(p.int8_bytes as f64 / 1e6)
        }),
        ("mac_lanes", "MAC lanes", |p| p.mac_lanes.map(|v| v as f64)),
        ("bram36", "block RAM (RAMB36)", |p| p.bram),
        ("fps", "frames per second", |p| p.fps),
    ];
    let hw = match (&d.device, d.target_fps) {
        (Some(dev), _) => format!("fastest folding on the {dev}"),
        (None, Some(f)) => format!("for {f} fps at {} MHz", d.clock_mhz),
        _ => String::new(),
    };
    for (sweep, x_label, fixed) in [
        ("sr", "squeeze ratio SR (pct_3x3 = 0.5)", "pct_3x3 = 0.5"),
        (
            "pct_3x3",
            "fraction of 3x3 filters pct_3x3 (SR = 0.5)",
            "SR = 0.5",
        ),
    ] {
        for (key, y_label, f) in metrics {
            let pts: Vec<(f64, f64)> = d
                .points
                .iter()
                .filter(|p| p.sweep == sweep)
                .filter_map(|p| f(p).map(|y| (if sweep == "sr" { p.sr } else { p.pct_3x3 }, y)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let title = if matches!(key, "mac_lanes" | "bram36" | "fps") {
                format!("SqueezeNet v1.0 layout, {fixed}: {y_label}, {hw}")
            } else {
                format!("SqueezeNet v1.0 layout, {fixed}: {y_label}")
            };
            let path = dir.join(format!("dse_{sweep}_{key}.svg"));
            std::fs::write(&path, svg_plot(&title, x_label, y_label, &pts))
                .with_context(|| path.display().to_string())?;
            out.push(path);
        }
    }
    Ok(out)
}
