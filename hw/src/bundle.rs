//! Writing a block's Verilog to a directory (`top.v`, rust-hdl's output; `sqf_lib.v`, the
//! library modules it instantiates, from `hw/verilog/`; every `.mem` file, named relative to the
//! directory so it can be moved), and a whole network's bundle ([`write_bundle`]).

use std::path::{Path, PathBuf};

use rust_hdl::prelude::*;

use crate::library;
use crate::HwError;

/// Blocks whose Verilog reads `.mem` files.
pub trait MemFiles {
    /// (file name, `$readmemh` contents) of every memory the block's Verilog reads.
    fn mem_files(&self) -> Vec<(String, String)>;
}

/// The files of a written design: sources in the order a tool reads them.
#[derive(Clone, Debug)]
pub struct WrittenDesign {
    pub dir: PathBuf,
    pub sources: Vec<PathBuf>,
    /// The file that holds the top module.
    pub top: PathBuf,
    /// The top module's name.
    pub top_module: String,
}

/// Generates the block's Verilog (rust-hdl's connection checks included) and writes it with
/// the library and the memory files.
pub fn write_block<B: Block + MemFiles>(
    block: &mut B,
    dir: &Path,
) -> Result<WrittenDesign, HwError> {
    block.connect_all();
    let verilog = generate_verilog(block);
    write_design(&verilog, &block.mem_files(), dir)
}

/// Writes already generated Verilog with the library and memory files.
pub fn write_design(
    verilog: &str,
    mems: &[(String, String)],
    dir: &Path,
) -> Result<WrittenDesign, HwError> {
    let io = |e: std::io::Error| HwError::io(dir.display())(e);
    std::fs::create_dir_all(dir).map_err(io)?;
    let lib = dir.join("sqf_lib.v");
    std::fs::write(&lib, library::used_text(verilog)).map_err(io)?;
    let top = dir.join("top.v");
    std::fs::write(&top, verilog).map_err(io)?;
    for (name, text) in mems {
        std::fs::write(dir.join(name), text).map_err(io)?;
    }
    Ok(WrittenDesign {
        dir: dir.to_path_buf(),
        sources: vec![lib, top.clone()],
        top,
        top_module: "top".into(),
    })
}

impl MemFiles for crate::conv::ConvEngine {
    fn mem_files(&self) -> Vec<(String, String)> {
        crate::conv::ConvEngine::mem_files(self)
    }
}

macro_rules! no_mem_files {
    ($($t:ty),+) => {
        $(impl MemFiles for $t {
            fn mem_files(&self) -> Vec<(String, String)> {
                Vec::new()
            }
        })+
    };
}
no_mem_files!(
    crate::blocks::MaxPool,
    crate::blocks::AvgPool,
    crate::blocks::BypassAdd,
    crate::blocks::Concat,
    crate::blocks::Gearbox,
    crate::blocks::StreamFifo,
    crate::blocks::Broadcast,
    crate::blocks::FrameGuard
);

impl MemFiles for crate::blocks::WeightStream {
    fn mem_files(&self) -> Vec<(String, String)> {
        crate::blocks::WeightStream::mem_files(self)
    }
}

/// Bundle format tag and version (in `manifest.json`).
pub(crate) const BUNDLE_FORMAT: &str = "squeezeflow-bundle";
/// Version 2: `rtl/` and `mem/` folders, named top module, AXI ports (`aclk`, `aresetn`).
pub(crate) const BUNDLE_VERSION: u32 = 2;
/// The nominal clock when none is given.
pub const DEFAULT_CLOCK_MHZ: f64 = 200.0;

/// `manifest.json`: everything the host needs to drive a bundle and check its answers.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The network (the same TOML the model file embeds).
    pub network: String,
    pub network_config: String,
    /// FNV-1a 64 of the quantized model file (`model.safetensors` in the bundle), hex.
    pub model_hash: String,
    pub model_file: String,
    pub source: String,
    /// The top module (`<network>_top`, or `--top-name`).
    pub top_module: String,
    /// The Verilog sources in compile order (the last holds the top module).
    pub rtl: Vec<String>,
    pub input: StreamFormat,
    pub output: StreamFormat,
    pub num_classes: usize,
    pub input_size: usize,
    /// Real value of one logit unit.
    pub logit_scale: f32,
    pub clock_mhz: f64,
    pub cycles_per_frame: u64,
    pub frames_per_second: f64,
    pub mac_lanes: usize,
    pub mac_utilization: f64,
    pub macs_per_frame: u64,
    pub memory_bits: u64,
    pub weight_bits: u64,
    pub folding: crate::folding::Plan,
    pub layers: Vec<crate::network::LayerEstimate>,
    /// Files of the bundle, in the order a tool reads the Verilog first.
    pub files: Vec<String>,
    /// Weight memories that are RAMs filled through the weight-load port before the first frame
    /// ([`crate::load`]; empty when every weight is in ROM).
    #[serde(default)]
    pub load: Vec<crate::load::LoadMemory>,
    /// FNV-1a 64 (hex) of every file but `manifest.json`, as written ([`crate::verify`]).
    #[serde(default)]
    pub digests: std::collections::BTreeMap<String, String>,
}

impl Manifest {
    /// The words to write through the weight-load port, read from the bundle's `.mem` files
    /// (empty when the bundle has no loadable memories).
    pub fn load_words(&self, dir: &Path) -> Result<Vec<crate::load::LoadWord>, HwError> {
        let mut out = Vec::new();
        for (i, m) in self.load.iter().enumerate() {
            if m.sel as usize != i {
                return Err(HwError::Bundle(format!(
                    "{}: the manifest's weight memory {i} has load number {} (they must be \
                     numbered 0, 1, 2, ...)",
                    dir.display(),
                    m.sel
                )));
            }
            if !self.files.contains(&m.file) {
                return Err(HwError::Bundle(format!(
                    "{}: the manifest loads {}, which is not one of the bundle's files",
                    dir.display(),
                    m.file
                )));
            }
            let p = dir.join(&m.file);
            let text = std::fs::read_to_string(&p).map_err(HwError::io(p.display()))?;
            out.extend(
                crate::load::read_words(m, &text)
                    .map_err(|e| HwError::Bundle(format!("{}: {e}", dir.display())))?,
            );
        }
        Ok(out)
    }
}

/// A top-level stream's format.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StreamFormat {
    pub port: String,
    pub tdata_bits: u32,
    pub beat: String,
    pub beats_per_frame: usize,
}

/// FNV-1a, 64 bits: a stable content hash.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Writes a complete bundle for a quantized model under a folding: `rtl/` (library, core, top
/// module), `mem/` (every `$readmemh` file), `model.safetensors` and `manifest.json`.
pub fn write_bundle(
    model: &squeezeflow_model::QuantModel,
    plan: &crate::folding::Plan,
    opt: &crate::ip::IpOptions,
    dir: &Path,
) -> Result<Manifest, HwError> {
    let est = crate::network::estimate(model, plan)?;
    let model_bytes = squeezeflow_model::file::to_bytes(model)?;
    let model_hash = format!("{:016x}", fnv1a64(&model_bytes));
    let rtl = crate::ip::write_rtl(model, plan, opt, &model_hash, dir)?;
    let io = |e: std::io::Error| HwError::io(dir.display())(e);
    std::fs::write(dir.join("model.safetensors"), &model_bytes).map_err(io)?;
    let rel = |p: &PathBuf| {
        p.strip_prefix(dir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let sources: Vec<String> = rtl.design.sources.iter().map(rel).collect();
    let mut files = sources.clone();
    files.extend(rtl.mems.iter().cloned());
    let cfg = model.config();
    let n_in = cfg.input_size * cfg.input_size;
    let clock_mhz = opt.clock_mhz;
    let manifest = Manifest {
        format: BUNDLE_FORMAT.into(),
        version: BUNDLE_VERSION,
        network: cfg.name.clone(),
        network_config: cfg.to_toml_string(),
        model_hash,
        model_file: "model.safetensors".into(),
        source: model.source.clone(),
        top_module: rtl.design.top_module.clone(),
        rtl: sources,
        input: StreamFormat {
            port: "s_axis".into(),
            tdata_bits: opt.pixel_format.bits(),
            beat: format!(
                "one RGB pixel: {}; raster order; tlast on the last pixel",
                opt.pixel_format.describe()
            ),
            beats_per_frame: n_in,
        },
        output: StreamFormat {
            port: "m_axis".into(),
            tdata_bits: 16,
            beat: "one logit, unsigned 16-bit, class order; tlast on the last class; tuser on \
                   every logit of a bad frame"
                .into(),
            beats_per_frame: cfg.num_classes,
        },
        num_classes: cfg.num_classes,
        input_size: cfg.input_size,
        logit_scale: model.logit_scale,
        clock_mhz,
        cycles_per_frame: est.cycles_per_frame,
        frames_per_second: clock_mhz * 1e6 / est.cycles_per_frame as f64,
        mac_lanes: est.mac_lanes,
        mac_utilization: est.mac_utilization,
        macs_per_frame: est.macs_per_frame,
        memory_bits: est.memory_bits,
        weight_bits: est.weight_bits,
        folding: plan.clone(),
        layers: est.layers,
        files,
        load: rtl.load,
        digests: Default::default(),
    };
    let mut manifest = manifest;
    manifest
        .files
        .extend(crate::ip::project::project_files(&manifest));
    manifest.files.push("model.safetensors".into());
    manifest.files.push("manifest.json".into());
    crate::ip::project::write_project(dir, &manifest, model)?;
    manifest.digests = crate::verify::digests(dir, &manifest)?;
    let json =
        serde_json::to_string_pretty(&manifest).map_err(|e| HwError::Bundle(e.to_string()))?;
    std::fs::write(dir.join("manifest.json"), json).map_err(io)?;
    Ok(manifest)
}

/// Reads a bundle's manifest, checking the format.
pub fn read_manifest(dir: &Path) -> Result<Manifest, HwError> {
    let p = dir.join("manifest.json");
    let text = std::fs::read_to_string(&p).map_err(HwError::io(format!(
        "{} (not a squeezeflow bundle?)",
        p.display()
    )))?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| HwError::Bundle(format!("{}: {e}", p.display())))?;
    if m.format != BUNDLE_FORMAT || m.version != BUNDLE_VERSION {
        return Err(HwError::Bundle(format!(
            "{}: format {} version {} is not a {BUNDLE_FORMAT} version {BUNDLE_VERSION} manifest",
            p.display(),
            m.format,
            m.version
        )));
    }
    let bad = |what: String| Err(HwError::Bundle(format!("{}: {what}", p.display())));
    if !(m.clock_mhz.is_finite() && m.clock_mhz > 0.0) {
        return bad(format!("clock_mhz {} is not a clock", m.clock_mhz));
    }
    if m.cycles_per_frame == 0 {
        return bad("cycles_per_frame is 0".into());
    }
    if m.num_classes == 0 || m.input_size == 0 {
        return bad("num_classes and input_size must be at least 1".into());
    }
    if !(m.logit_scale.is_finite() && m.logit_scale > 0.0) {
        return bad(format!("logit_scale {} is not a scale", m.logit_scale));
    }
    Ok(m)
}
