//! The network as IP a user's project can take: `rtl/` (the library, the core and the top
//! module, with names after the bundle and its layers, [`names`]), `mem/` (every `$readmemh`
//! file) and the top module's AXI ports and header ([`top`]).

pub mod board;
pub mod names;
pub mod project;
pub mod top;

use std::path::{Path, PathBuf};

use rust_hdl::prelude::*;

use crate::bundle::{MemFiles, WrittenDesign};
use crate::HwError;

/// The pixel stream's beat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    /// 24 bits: R in 7:0, G in 15:8, B in 23:16.
    #[default]
    Rgb24,
    /// 32 bits: as `rgb24`, bits 31:24 ignored (what a DMA with 32-bit beats sends).
    Rgbx32,
}

impl PixelFormat {
    pub fn bits(self) -> u32 {
        match self {
            PixelFormat::Rgb24 => 24,
            PixelFormat::Rgbx32 => 32,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            PixelFormat::Rgb24 => "R bits 7:0, G 15:8, B 23:16",
            PixelFormat::Rgbx32 => "R bits 7:0, G 15:8, B 23:16, bits 31:24 ignored",
        }
    }
    pub fn parse(s: &str) -> Result<Self, HwError> {
        match s {
            "rgb24" => Ok(PixelFormat::Rgb24),
            "rgbx32" => Ok(PixelFormat::Rgbx32),
            _ => Err(HwError::Bundle(format!(
                "pixel format `{s}`: expected rgb24 or rgbx32"
            ))),
        }
    }
}

/// How the IP is named and shaped.
#[derive(Clone, Debug)]
pub struct IpOptions {
    /// The top module's name (default `<network>_top`).
    pub top_name: Option<String>,
    pub pixel_format: PixelFormat,
    /// The clock the top module's FREQ_HZ attribute states.
    pub clock_mhz: f64,
}

impl Default for IpOptions {
    fn default() -> Self {
        IpOptions {
            top_name: None,
            pixel_format: PixelFormat::Rgb24,
            clock_mhz: crate::bundle::DEFAULT_CLOCK_MHZ,
        }
    }
}

/// The default IP options with the clock `clock_mhz`.
pub fn clocked(clock_mhz: f64) -> IpOptions {
    IpOptions {
        clock_mhz,
        ..Default::default()
    }
}

/// The top module's name and the prefix of every module below it: `--top-name NAME` as given
/// (prefix: NAME without a trailing `_top`), else `<network>_top` (prefix: the network's name
/// made an identifier).
pub fn top_and_prefix(network: &str, opt: &IpOptions) -> Result<(String, String), HwError> {
    match &opt.top_name {
        Some(t) => {
            names::check_identifier(t).map_err(|e| HwError::Bundle(format!("--top-name: {e}")))?;
            let prefix = t
                .strip_suffix("_top")
                .filter(|p| !p.is_empty())
                .unwrap_or(t);
            Ok((t.clone(), prefix.to_string()))
        }
        None => {
            let p = names::sanitize(network);
            Ok((format!("{p}_top"), p))
        }
    }
}

/// The files [`write_rtl`] wrote.
#[derive(Clone, Debug)]
pub struct RtlFiles {
    pub design: WrittenDesign,
    /// Memory files, relative to the directory (`mem/conv1_w0.mem`).
    pub mems: Vec<String>,
    pub prefix: String,
    pub load: Vec<crate::load::LoadMemory>,
}

/// Writes the network's RTL into `dir`: `rtl/<prefix>_lib.v`, `rtl/<prefix>_core.v`,
/// `rtl/<top>.v` (sources in compile order) and `mem/*.mem`.
pub fn write_rtl(
    model: &squeezeflow_model::QuantModel,
    plan: &crate::folding::Plan,
    opt: &IpOptions,
    model_hash: &str,
    dir: &Path,
) -> Result<RtlFiles, HwError> {
    let cfg = model.config();
    let (top_name, prefix) = top_and_prefix(&cfg.name, opt)?;
    let est = crate::network::estimate(model, plan)?;
    let mut core = crate::network::core(model, plan)?;
    core.connect_all();
    let generated = generate_verilog(&core);
    let lib = crate::library::used_text(&generated);
    let library: Vec<&str> = crate::library::MODULES.iter().map(|m| m.name).collect();
    let ren = names::Renaming {
        prefix: &prefix,
        labels: core.net.labels(),
        library: &library,
    };
    let core_text = ren.apply(&generated)?;
    let lib_text = ren.apply(&lib)?;
    let mut load = core.net.load_memories();
    for m in &mut load {
        m.file = format!("mem/{}", m.file);
    }
    let facts = top::TopFacts {
        network: &cfg.name,
        model_hash,
        input_size: cfg.input_size,
        num_classes: cfg.num_classes,
        mac_lanes: est.mac_lanes,
        cycles_per_frame: est.cycles_per_frame,
        layers: &est.layers,
        load_memories: load.len(),
        load_words: load.iter().map(|m| m.depth).sum(),
    };
    let top_text = top::top_text(&top_name, &prefix, opt, &facts);
    let io = |p: &Path| HwError::io(p.display().to_string());
    let rtl = dir.join("rtl");
    let mem = dir.join("mem");
    for d in [&rtl, &mem] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let mut sources: Vec<PathBuf> = Vec::new();
    for (file, text) in [
        (format!("{prefix}_lib.v"), lib_text),
        (format!("{prefix}_core.v"), core_text),
        (format!("{top_name}.v"), top_text),
    ] {
        let p = rtl.join(file);
        std::fs::write(&p, text).map_err(io(&p))?;
        sources.push(p);
    }
    let mut mems = Vec::new();
    for (name, text) in core.mem_files() {
        let p = mem.join(&name);
        std::fs::write(&p, text).map_err(io(&p))?;
        mems.push(format!("mem/{name}"));
    }
    Ok(RtlFiles {
        design: WrittenDesign {
            dir: dir.to_path_buf(),
            top: sources[2].clone(),
            sources,
            top_module: top_name,
        },
        mems,
        prefix,
        load,
    })
}
