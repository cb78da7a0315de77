//! The calibrated constants of the resource estimate, read from `hw/calibration/estimates.toml`
//! (compiled in). Each carries its provenance: the tool, the date, the design measured.

use std::sync::LazyLock;

use serde::Deserialize;

/// One calibrated constant and where it comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub value: f64,
    pub tool: String,
    pub date: String,
    pub design: String,
}

/// Every constant of the estimate (the file's tables, by name).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The share of a part's LUTs a fit may fill.
    pub lut_fit_share: Constant,
    /// LUTs per MAC lane, per PE and per engine of a convolution engine.
    pub luts_per_lane: Constant,
    pub luts_per_pe: Constant,
    pub luts_per_engine: Constant,
    /// ROMs in logic inside an engine against the same ROM alone.
    pub rom_logic_factor: Constant,
    /// LUTs of a requantizer's own rounding stage.
    pub luts_per_requantizer: Constant,
    /// LUTRAM bits per LUT.
    pub lutram_bits_per_lut: Constant,
    /// ECP5 LUT4 cells per Xilinx LUT6 of the same logic.
    pub ecp5_lut4_per_lut6: Constant,
    /// UltraScale+ LUT sites per LUT of the estimate.
    pub xcup_lut_factor: Constant,
    /// The largest ROM (bits) Yosys puts in logic rather than block RAM.
    pub rom_logic_bits: Constant,
}

/// The file as compiled in.
pub(crate) const SOURCE: &str = include_str!("../../calibration/estimates.toml");

static CALIBRATION: LazyLock<Calibration> = LazyLock::new(|| {
    // The file is part of the build and checked by a test; it is never user input.
    toml::from_str(SOURCE).expect("hw/calibration/estimates.toml is well formed")
});

/// The calibrated constants.
pub fn calibration() -> &'static Calibration {
    &CALIBRATION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calibration_file_reads_and_every_constant_has_its_provenance() {
        let c: Calibration = toml::from_str(SOURCE).unwrap();
        let all = [
            &c.lut_fit_share,
            &c.luts_per_lane,
            &c.luts_per_pe,
            &c.luts_per_engine,
            &c.rom_logic_factor,
            &c.luts_per_requantizer,
            &c.lutram_bits_per_lut,
            &c.ecp5_lut4_per_lut6,
            &c.xcup_lut_factor,
            &c.rom_logic_bits,
        ];
        for k in all {
            assert!(k.value.is_finite() && k.value > 0.0, "{k:?}");
            assert!(!k.tool.is_empty() && !k.design.is_empty(), "{k:?}");
            assert!(k.date.len() == 10 && k.date.starts_with("20"), "{k:?}");
        }
        assert!(c.lut_fit_share.value < 1.0);
        assert_eq!(c.rom_logic_bits.value.fract(), 0.0);
    }
}
