//! Writing a shell: [`write_shell`] puts the shell around a bundle's network and writes its
//! Verilog and memories; [`parse_hash`] reads a manifest's model hash for the IDENTIFY reply.

use super::config::ShellConfig;
use super::wrap::Shell;
use crate::HwError;

/// Parses a manifest's `model_hash` (16 hex digits).
pub fn parse_hash(hex: &str) -> Result<u64, HwError> {
    u64::from_str_radix(hex, 16)
        .map_err(|_| HwError::Shell(format!("model hash `{hex}` is not 16 hexadecimal digits")))
}

/// Writes the shell around a bundle's network into `dir` (`top.v`, `sqf_lib.v`, the `.mem`
/// files) and returns the written design.
pub fn write_shell(
    model: &squeezeflow_model::QuantModel,
    plan: &crate::folding::Plan,
    cfg: &ShellConfig,
    dir: &std::path::Path,
) -> Result<crate::bundle::WrittenDesign, HwError> {
    let mut shell = Shell::new(cfg, crate::network::network_graph(model, plan)?)?;
    crate::bundle::write_block(&mut shell, dir)
}
