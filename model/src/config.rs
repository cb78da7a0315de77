//! Network descriptions: the two torchvision presets, the SqueezeNet paper's meta-parameter family,
//! and the TOML file that names a preset and overrides its fields.
//!
//! A TOML file may hold these keys (all optional):
//!
//! ```toml
//! preset = "squeezenet1_1"      # starting point; a file without one starts from squeezenet1_0
//! name = "my-net"
//! input_size = 224              # square RGB input
//! num_classes = 1000
//! bypass = "none"               # none | simple | complex
//! pool_after = ["conv1", "fire3", "fire5"]   # 3x3/2 ceil-mode max pools after these layers
//!
//! [conv1]
//! channels = 64
//! kernel = 3
//! stride = 2
//!
//! [meta]                        # the paper's family: fire2..fire9 derived from these
//! base_e = 128
//! incr_e = 128
//! pct_3x3 = 0.5
//! freq = 2
//! sr = 0.125
//!
//! [[fire]]                      # or an explicit list of fire modules (not both)
//! squeeze = 16
//! expand1x1 = 64
//! expand3x3 = 64
//!
//! [quantization]                # weight storage (crate::codebook); the default is dense int8
//! weight_bits = 6               # 4..=8: codebook indices of this width (8 = dense int8)
//! [quantization.layers]         # per-layer overrides
//! conv1 = 8
//! ```
//!
//! Unknown keys and impossible values are errors that name the key.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::error::ModelError;

/// Bypass connections around Fire modules (SqueezeNet paper, section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Bypass {
    /// No bypass (both torchvision presets).
    #[default]
    None,
    /// Element-wise add of a Fire module's input to its output around fire3, 5, 7 and 9.
    Simple,
    /// Simple bypass where channel counts match, a 1x1 convolution on the bypass where they differ,
    /// around every Fire module.
    Complex,
}

/// The first convolution (no padding, so input normalization folds into it exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv1Spec {
    pub channels: usize,
    pub kernel: usize,
    pub stride: usize,
}

/// One Fire module: a 1x1 squeeze, then 1x1 and 3x3 expands whose outputs are concatenated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FireSpec {
    pub squeeze: usize,
    pub expand1x1: usize,
    pub expand3x3: usize,
}

impl FireSpec {
    /// Output channels: expand1x1 then expand3x3, concatenated.
    pub fn out_channels(&self) -> usize {
        self.expand1x1 + self.expand3x3
    }
}

/// The paper's meta-parameters for fire2..fire9 (section 5):
/// `e_i = base_e + incr_e * floor((i - 2) / freq)`, `e_i,3x3 = round(pct_3x3 * e_i)`,
/// `e_i,1x1 = e_i - e_i,3x3`, `s_i = round(sr * e_i)` (round half away from zero).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaParams {
    pub base_e: usize,
    pub incr_e: usize,
    pub pct_3x3: f64,
    pub freq: usize,
    pub sr: f64,
}

impl MetaParams {
    /// The values that describe both torchvision presets' Fire modules.
    pub const SQUEEZENET: MetaParams = MetaParams {
        base_e: 128,
        incr_e: 128,
        pct_3x3: 0.5,
        freq: 2,
        sr: 0.125,
    };

    /// Number of Fire modules in the paper's macro layout (fire2..fire9).
    pub const NUM_FIRES: usize = 8;

    /// Derives fire2..fire9, or names the key whose value makes a channel count impossible.
    pub fn fires(&self) -> Result<Vec<FireSpec>, ModelError> {
        if self.freq == 0 {
            return Err(ModelError::config("meta.freq", "must be at least 1"));
        }
        if self.base_e == 0 {
            return Err(ModelError::config("meta.base_e", "must be at least 1"));
        }
        if !(self.pct_3x3 > 0.0 && self.pct_3x3 < 1.0) {
            return Err(ModelError::config(
                "meta.pct_3x3",
                format!("{} is outside (0, 1)", self.pct_3x3),
            ));
        }
        if !(self.sr > 0.0 && self.sr.is_finite()) {
            return Err(ModelError::config(
                "meta.sr",
                format!("{} must be a positive number", self.sr),
            ));
        }
        let mut fires = Vec::with_capacity(Self::NUM_FIRES);
        for i in 2..2 + Self::NUM_FIRES {
            let e = self.base_e + self.incr_e * ((i - 2) / self.freq);
            let e3 = (self.pct_3x3 * e as f64).round() as usize;
            let e1 = e - e3.min(e);
            let s = (self.sr * e as f64).round() as usize;
            if s == 0 {
                return Err(ModelError::config(
                    "meta.sr",
                    format!("{} gives fire{i}.squeeze 0 channels (e_{i} = {e})", self.sr),
                ));
            }
            if e3 == 0 || e1 == 0 {
                let which = if e3 == 0 { "expand3x3" } else { "expand1x1" };
                return Err(ModelError::config(
                    "meta.pct_3x3",
                    format!(
                        "{} gives fire{i}.{which} 0 channels (e_{i} = {e})",
                        self.pct_3x3
                    ),
                ));
            }
            fires.push(FireSpec {
                squeeze: s,
                expand1x1: e1,
                expand3x3: e3,
            });
        }
        Ok(fires)
    }
}

/// A complete, validated description of one SqueezeNet-family network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub name: String,
    pub input_size: usize,
    pub num_classes: usize,
    pub conv1: Conv1Spec,
    /// fire2, fire3, ... in order.
    pub fires: Vec<FireSpec>,
    /// Layers followed by a 3x3 stride-2 ceil-mode max pool (`conv1`, `fireN`).
    pub pool_after: Vec<String>,
    pub bypass: Bypass,
    /// The meta-parameters the fires were derived from, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<MetaParams>,
    /// How the weights are stored: dense int8, or codebook indices (Deep Compression).
    #[serde(default, skip_serializing_if = "Quantization::is_dense")]
    pub quantization: Quantization,
}

/// `[quantization]`: the width of every convolution's weight storage ([`crate::codebook`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantization {
    /// Bits per weight for every layer not in `layers`: 8 is dense int8, 4..=7 a codebook.
    #[serde(default = "dense_bits")]
    pub weight_bits: u8,
    /// Per-layer widths (`conv1 = 8`, `"fire2.expand3x3" = 5`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub layers: std::collections::BTreeMap<String, u8>,
}

fn dense_bits() -> u8 {
    crate::codebook::DENSE_WEIGHT_BITS
}

impl Default for Quantization {
    fn default() -> Self {
        Quantization {
            weight_bits: dense_bits(),
            layers: Default::default(),
        }
    }
}

impl Quantization {
    /// Every layer dense int8 (what a file without `[quantization]` means).
    pub fn is_dense(&self) -> bool {
        self.weight_bits == dense_bits() && self.layers.values().all(|&b| b == dense_bits())
    }
    /// The width of one layer's weights.
    pub fn bits_of(&self, layer: &str) -> u8 {
        self.layers.get(layer).copied().unwrap_or(self.weight_bits)
    }
    /// Checks the widths (layer names are checked against the network by
    /// [`crate::network::Network::new`]).
    pub fn validate(&self) -> Result<(), ModelError> {
        use crate::codebook::{DENSE_WEIGHT_BITS as D, MIN_WEIGHT_BITS as M};
        if !(M..=D).contains(&self.weight_bits) {
            return Err(ModelError::config(
                "quantization.weight_bits",
                format!("{} is outside {M}..={D}", self.weight_bits),
            ));
        }
        for (l, &b) in &self.layers {
            if !(M..=D).contains(&b) {
                return Err(ModelError::config(
                    format!("quantization.layers.{l}"),
                    format!("{b} is outside {M}..={D}"),
                ));
            }
        }
        Ok(())
    }
}

/// Names of the built-in presets.
pub const PRESETS: &[&str] = &["squeezenet1_0", "squeezenet1_1"];

impl NetworkConfig {
    /// torchvision's `squeezenet1_0`: conv1 7x7/2 with 96 filters, pools after conv1, fire4, fire8.
    pub fn squeezenet1_0() -> Self {
        NetworkConfig {
            name: "squeezenet1_0".into(),
            input_size: 224,
            num_classes: 1000,
            conv1: Conv1Spec {
                channels: 96,
                kernel: 7,
                stride: 2,
            },
            fires: MetaParams::SQUEEZENET
                .fires()
                .expect("the preset's meta-parameters are valid"),
            pool_after: vec!["conv1".into(), "fire4".into(), "fire8".into()],
            bypass: Bypass::None,
            meta: Some(MetaParams::SQUEEZENET),
            quantization: Quantization::default(),
        }
    }

    /// torchvision's `squeezenet1_1`: conv1 3x3/2 with 64 filters, pools after conv1, fire3, fire5.
    pub fn squeezenet1_1() -> Self {
        NetworkConfig {
            name: "squeezenet1_1".into(),
            conv1: Conv1Spec {
                channels: 64,
                kernel: 3,
                stride: 2,
            },
            pool_after: vec!["conv1".into(), "fire3".into(), "fire5".into()],
            ..Self::squeezenet1_0()
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        match name {
            "squeezenet1_0" => Ok(Self::squeezenet1_0()),
            "squeezenet1_1" => Ok(Self::squeezenet1_1()),
            other => Err(ModelError::config(
                "preset",
                format!("unknown preset '{other}' (known: {})", PRESETS.join(", ")),
            )),
        }
    }

    /// Parses a TOML description (see the module documentation).
    pub fn from_toml_str(text: &str) -> Result<Self, ModelError> {
        Ok(NetworkFile::from_toml_str(text)?.config)
    }

    /// Reads a TOML description from a file.
    pub fn from_toml_file(path: &Path) -> Result<Self, ModelError> {
        Ok(NetworkFile::read(path)?.config)
    }

    /// Writes this configuration as a TOML file that reads back to the same value.
    pub fn to_toml_string(&self) -> String {
        let file = ConfigFile {
            preset: None,
            name: Some(self.name.clone()),
            input_size: Some(self.input_size),
            num_classes: Some(self.num_classes),
            bypass: Some(self.bypass),
            pool_after: Some(self.pool_after.clone()),
            conv1: Some(self.conv1),
            meta: self.meta.map(|m| MetaOverride {
                base_e: Some(m.base_e),
                incr_e: Some(m.incr_e),
                pct_3x3: Some(m.pct_3x3),
                freq: Some(m.freq),
                sr: Some(m.sr),
            }),
            fire: self.meta.is_none().then(|| self.fires.clone()),
            quantization: (!self.quantization.is_dense()).then(|| self.quantization.clone()),
            hardware: None,
        };
        toml::to_string(&file).expect("a config always serializes")
    }

    /// Index (0 for fire2) of a Fire module named `fireN`.
    pub fn fire_index(&self, name: &str) -> Option<usize> {
        let n: usize = name.strip_prefix("fire")?.parse().ok()?;
        (n >= 2 && n - 2 < self.fires.len()).then(|| n - 2)
    }

    /// Checks the values a TOML file cannot rule out by its types; shapes are checked by
    /// [`crate::network::Network::new`].
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.input_size == 0 {
            return Err(ModelError::config("input_size", "must be at least 1"));
        }
        if self.input_size > crate::limits::MAX_INPUT_SIZE {
            return Err(ModelError::config(
                "input_size",
                format!(
                    "{} is above {}, the largest squeezeflow takes",
                    self.input_size,
                    crate::limits::MAX_INPUT_SIZE
                ),
            ));
        }
        self.quantization.validate()?;
        if self.num_classes == 0 {
            return Err(ModelError::config("num_classes", "must be at least 1"));
        }
        if self.num_classes > u16::MAX as usize {
            return Err(ModelError::config(
                "num_classes",
                format!("{} exceeds {}", self.num_classes, u16::MAX),
            ));
        }
        let c1 = &self.conv1;
        if c1.channels == 0 {
            return Err(ModelError::config("conv1.channels", "must be at least 1"));
        }
        if c1.kernel == 0 {
            return Err(ModelError::config("conv1.kernel", "must be at least 1"));
        }
        if c1.stride == 0 {
            return Err(ModelError::config("conv1.stride", "must be at least 1"));
        }
        if self.fires.is_empty() {
            return Err(ModelError::config(
                "fire",
                "a network needs at least one Fire module",
            ));
        }
        for (i, f) in self.fires.iter().enumerate() {
            for (field, v) in [
                ("squeeze", f.squeeze),
                ("expand1x1", f.expand1x1),
                ("expand3x3", f.expand3x3),
            ] {
                if v == 0 {
                    return Err(ModelError::config(
                        format!("fire[{i}].{field}"),
                        format!("fire{} has 0 {field} channels", i + 2),
                    ));
                }
            }
        }
        let mut seen = Vec::new();
        for p in &self.pool_after {
            if p != "conv1" && self.fire_index(p).is_none() {
                return Err(ModelError::config(
                    "pool_after",
                    format!(
                        "'{p}' is not a layer of this network (conv1 or fire2..fire{})",
                        self.fires.len() + 1
                    ),
                ));
            }
            if seen.contains(&p) {
                return Err(ModelError::config(
                    "pool_after",
                    format!("'{p}' is listed twice"),
                ));
            }
            seen.push(p);
        }
        Ok(())
    }
}

/// A network file parsed once: the network, and its `[hardware]` table for the hardware crate
/// (`squeezeflow_hw::folding::HardwareConfig::from_table`).
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkFile {
    pub config: NetworkConfig,
    pub hardware: Option<toml::Table>,
}

impl NetworkFile {
    pub fn from_toml_str(text: &str) -> Result<Self, ModelError> {
        let mut file: ConfigFile =
            toml::from_str(text).map_err(|e| ModelError::Toml(e.to_string()))?;
        let hardware = file.hardware.take();
        Ok(NetworkFile {
            config: file.resolve()?,
            hardware,
        })
    }
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let bytes = crate::limits::read_bounded(path, crate::limits::MAX_CONFIG_BYTES, "config")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ModelError::Toml(format!("{} is not UTF-8 text", path.display())))?;
        Self::from_toml_str(&text).map_err(|e| e.in_file(path))
    }
}

/// The TOML file as written by a user: every field optional, unknown keys rejected.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    preset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_classes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bypass: Option<Bypass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool_after: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conv1: Option<Conv1Spec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<MetaOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fire: Option<Vec<FireSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantization: Option<Quantization>,
    /// Hardware options (folding, MAC budget, clock): handed to the hardware crate.
    #[serde(default, skip_serializing)]
    hardware: Option<toml::Table>,
}

/// `[meta]` with every field optional: unset fields keep the preset's values.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaOverride {
    base_e: Option<usize>,
    incr_e: Option<usize>,
    pct_3x3: Option<f64>,
    freq: Option<usize>,
    sr: Option<f64>,
}

impl ConfigFile {
    fn resolve(self) -> Result<NetworkConfig, ModelError> {
        let mut cfg = NetworkConfig::preset(self.preset.as_deref().unwrap_or("squeezenet1_0"))?;
        let custom = self.meta.is_some()
            || self.fire.is_some()
            || self.conv1.is_some()
            || self.pool_after.is_some()
            || self.bypass.is_some_and(|b| b != Bypass::None);
        if let Some(name) = self.name {
            cfg.name = name;
        } else if custom {
            cfg.name = format!("{}-custom", cfg.name);
        }
        if let Some(v) = self.input_size {
            cfg.input_size = v;
        }
        if let Some(v) = self.num_classes {
            cfg.num_classes = v;
        }
        if let Some(v) = self.bypass {
            cfg.bypass = v;
        }
        if let Some(v) = self.pool_after {
            cfg.pool_after = v;
        }
        if let Some(v) = self.conv1 {
            cfg.conv1 = v;
        }
        match (self.meta, self.fire) {
            (Some(_), Some(_)) => {
                return Err(ModelError::config(
                    "fire",
                    "give either [meta] or [[fire]] entries, not both",
                ))
            }
            (Some(m), None) => {
                let base = cfg.meta.unwrap_or(MetaParams::SQUEEZENET);
                let meta = MetaParams {
                    base_e: m.base_e.unwrap_or(base.base_e),
                    incr_e: m.incr_e.unwrap_or(base.incr_e),
                    pct_3x3: m.pct_3x3.unwrap_or(base.pct_3x3),
                    freq: m.freq.unwrap_or(base.freq),
                    sr: m.sr.unwrap_or(base.sr),
                };
                cfg.fires = meta.fires()?;
                cfg.meta = Some(meta);
            }
            (None, Some(fires)) => {
                cfg.fires = fires;
                cfg.meta = None;
            }
            (None, None) => {}
        }
        if let Some(q) = self.quantization {
            cfg.quantization = q;
        }
        cfg.validate()?;
        crate::network::Network::new(&cfg)?;
        Ok(cfg)
    }
}
