//! The options `gen`, `sim` and `info` share: the network, the model, the hardware; device and
//! board values checked against the device table.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use squeezeflow_host::accel::ModelChoice;
use squeezeflow_model::{NetworkConfig, QuantModel};

/// `--device` values: a part or board name of the device table (the error lists them).
pub(crate) fn parse_device(s: &str) -> std::result::Result<String, String> {
    squeezeflow_hw::device::find_device(s)
        .map(|d| d.name.to_string())
        .map_err(|e| e.to_string())
}

/// `--board` values: a board of the device table.
pub(crate) fn parse_board(s: &str) -> std::result::Result<String, String> {
    squeezeflow_host::synth_cmd::board_device(s)
        .map(|d| d.board.to_string())
        .map_err(|e| e.to_string())
}

pub(crate) fn device_help(what: &str) -> String {
    format!("{what}: {}", squeezeflow_hw::device::device_names())
}

pub(crate) fn board_help() -> String {
    let boards: Vec<String> = squeezeflow_hw::device::DEVICES
        .iter()
        .map(|d| format!("{} ({})", d.board, d.name))
        .collect();
    format!(
        "Target this board: its device (as --device) and its constraint files, written into the \
         bundle and listed in the manifest: {}",
        boards.join(", ")
    )
}

/// Which network: a preset, a TOML file, or the built-in default.
#[derive(Args, Clone, Debug)]
pub(crate) struct NetworkArgs {
    /// A built-in preset: squeezenet1_0 or squeezenet1_1 (the default).
    #[arg(long, conflicts_with = "config")]
    pub(crate) preset: Option<String>,
    /// A network description in TOML (a preset plus overrides; see docs/usage.md).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Override the input size (square).
    #[arg(long)]
    pub(crate) input_size: Option<usize>,
}

impl NetworkArgs {
    pub(crate) fn resolve(&self) -> Result<NetworkConfig> {
        self.choice(None, 1).network()
    }
    pub(crate) fn choice(&self, model: Option<PathBuf>, weights_seed: u64) -> ModelChoice {
        ModelChoice::new(
            model,
            self.preset.clone(),
            self.config.clone(),
            self.input_size,
            weights_seed,
        )
    }
}

/// Which quantized model: a file, a synthetic model for a network, or the built-in default.
#[derive(Args, Clone, Debug)]
pub(crate) struct ModelArgs {
    /// A quantized model file (from `import`).
    #[arg(long, conflicts_with_all = ["preset", "config"])]
    pub(crate) model: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) net: NetworkArgs,
    /// Seed of the synthetic weights used with --preset or --config.
    #[arg(long, default_value_t = 1)]
    pub(crate) weights_seed: u64,
}

impl ModelArgs {
    pub(crate) fn choice(&self) -> ModelChoice {
        self.net.choice(self.model.clone(), self.weights_seed)
    }
}

/// Hardware options.
#[derive(Args, Clone, Debug)]
pub(crate) struct HwArgs {
    /// MAC lanes to spread over the layers (default 256, or the config's [hardware] mac_budget).
    #[arg(long)]
    pub(crate) mac_budget: Option<usize>,
    /// Nominal clock in MHz for throughput figures (default 200, or the device's).
    #[arg(long)]
    pub(crate) clock_mhz: Option<f64>,
    #[arg(long, value_parser = parse_device, help = device_help("Choose the folding with the most frames per second that fits this device (DSPs, block RAM, URAM), or refuse saying what does not fit"))]
    pub(crate) device: Option<String>,
    #[arg(long, value_parser = parse_board, help = board_help())]
    pub(crate) board: Option<String>,
    /// The top module's name (default `<network>_top`); every module below it is prefixed with
    /// it (less a trailing `_top`), so two bundles live in one project.
    #[arg(long)]
    pub(crate) top_name: Option<String>,
    /// The pixel stream's beat: rgb24 (R 7:0, G 15:8, B 23:16) or rgbx32 (the same in 32-bit
    /// beats, bits 31:24 ignored, as DMAs send).
    #[arg(long, default_value = "rgb24", value_parser = ["rgb24", "rgbx32"])]
    pub(crate) pixel_format: String,
}

/// The generation options: the hardware table of the model choice's network file (parsed
/// with the network, once) and the hardware flags.
pub(crate) fn gen_options(
    model: &ModelChoice,
    hw: &HwArgs,
) -> Result<squeezeflow_host::accel::GenOptions> {
    if let Some(t) = &hw.top_name {
        squeezeflow_hw::ip::names::check_identifier(t)
            .map_err(|e| anyhow::anyhow!("--top-name: {e}"))?;
    }
    Ok(squeezeflow_host::accel::GenOptions {
        hardware: model.hardware()?,
        mac_budget: hw.mac_budget,
        clock_mhz: hw.clock_mhz,
        device: hw.device.clone(),
        board: hw.board.clone(),
        top_name: hw.top_name.clone(),
        pixel_format: squeezeflow_hw::ip::PixelFormat::parse(&hw.pixel_format)?,
    })
}

/// `out/<network name>`: the name is data (from a network file or a model file's metadata),
/// so it becomes one plain folder name: letters, digits, `-`, `_` and inner dots, never a path.
pub(crate) fn default_bundle_dir(qm: &QuantModel) -> PathBuf {
    PathBuf::from("out").join(folder_name(&qm.config().name))
}

fn folder_name(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let plain = plain.trim_start_matches('.');
    if plain.is_empty() {
        "network".into()
    } else {
        plain.into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_network_name_is_never_a_path() {
        for (name, want) in [
            ("squeezenet1_1", "squeezenet1_1"),
            ("../../x", "_.._x"),
            ("/etc/passwd", "_etc_passwd"),
            ("..", "network"),
            ("", "network"),
            ("a b\\c", "a_b_c"),
        ] {
            assert_eq!(super::folder_name(name), want, "{name}");
        }
    }
}
