//! Folding: how many MAC lanes each layer gets.
//!
//! In a dataflow pipeline the slowest layer sets the frame rate, so lanes spent on a faster
//! layer are wasted. [`plan`] finds the smallest frame period T (cycles per frame) whose cheapest
//! folding fits a MAC-lane budget: for a candidate T, every convolution takes the fewest lanes
//! (`pe` x `simd`, `pe` dividing its output channels, `simd` its input channels, at most
//! [`MAX_SIMD`]) that finish a frame within T, every stream block takes the fewest byte lanes
//! that keep up with T, and T is found by bisection. Per-layer overrides from the `[hardware]`
//! table of a network file are kept as given.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use squeezeflow_model::network::{ConvLayer, FireBypass, Network};

use crate::conv::{ConvGeom, MAX_SIMD};
use crate::fire::{FireFold, Fold, EXPAND1X1_ROWS};
use crate::HwError;

/// The default MAC-lane budget: a frame of SqueezeNet v1.1 in about 1.4 M cycles, which
/// Verilator runs in seconds.
pub(crate) const DEFAULT_MAC_BUDGET: usize = 256;

/// The `[hardware]` table of a network file (all optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareConfig {
    /// MAC lanes to spread over the layers.
    pub mac_budget: Option<usize>,
    /// Nominal clock for throughput figures.
    pub clock_mhz: Option<f64>,
    /// Folding overrides by layer name: `"fire2.squeeze" = { pe = 4, simd = 8 }`.
    #[serde(default)]
    pub fold: BTreeMap<String, Fold>,
    /// Stream-width overrides by block: `pool1`, `fire2.concat`, `avgpool`.
    #[serde(default)]
    pub lanes: BTreeMap<String, usize>,
    /// Pair the PEs of each engine in `sqf_mac2`, two int8 products per multiplier (one
    /// DSP48E1/DSP48E2 per lane pair). Default: on; `gen --device` with an ECP5 part turns it
    /// off (its 18x18 multipliers would take two per pair, and the pairs cost LUTs).
    pub dsp_pairs: Option<bool>,
    /// Each MAC lane's product register, and each requantizer's (engines, average pool,
    /// bypass adds), the output register of an ECP5 MULT18X18D (`sqf_mul_ecp5`), not a fabric
    /// register after a multiply Yosys maps without it; the MAC lanes' operands also in its
    /// input registers (a MAC stage more). Default: off; `gen --device` with an ECP5 part turns
    /// it on. The MAC lanes of engines without pairs only (`sqf_mac`).
    pub mul_ecp5: Option<bool>,
    /// The paired MAC lanes' product registers (and an odd last PE's) the P registers of
    /// UltraScale+ DSP48E2s (`sqf_mul_dsp48e2`), which Yosys maps without them. Default: off;
    /// `gen --device` with an UltraScale+ part turns it on.
    pub dsp48e2: Option<bool>,
    /// Each block RAM weight ROM deeper than one ECP5 block RAM split into banks of one, the
    /// banks' words registered as they leave the block RAMs (`sqf_bank_pick`): Yosys's own
    /// split puts a multiplexer behind the block RAMs' unregistered reads. Default: off;
    /// `gen --device` with an ECP5 part turns it on.
    pub rom_banks: Option<bool>,
    /// The stream FIFOs from 64 beats deep (a Fire module's pixel and bypass FIFOs) read their
    /// memory at a register address, the pop choosing after the read (`sqf_out_fifo`'s
    /// `RADDR_REG`): for LUT RAM. Default: off; `gen --device` with a Xilinx part turns it on
    /// (an ECP5 block RAM's read would meet two multiplexers instead of one).
    pub fifo_raddr_reg: Option<bool>,
    /// The convolution engines read their line buffer a cycle early and register the word as
    /// it leaves the memory (`sqf_conv_ctrl`'s `LB_REG`), which on ECP5 becomes the block
    /// RAM's output register. Default: off; `gen --device` with an ECP5 part turns it on.
    pub lb_reg: Option<bool>,
    /// A two-beat FIFO (a register slice: its ready, valid and data all from registers) on
    /// every stream between two blocks, so that no path crosses from one block into the next
    /// one's registers through more than the slice's own register. Default: off; `gen
    /// --device` with an ECP5 part turns it on (docs/timing.md: a block's count reading the
    /// next block's ready across a long route was the ULX3S build's late path).
    pub link_slices: Option<bool>,
    /// Convolutions whose weight ROMs are LUTs (`sqf_rom_lut`) instead of block RAM:
    /// `rom_logic = ["conv10"]`. `gen --device` adds layers here when block RAM runs out.
    #[serde(default)]
    pub rom_logic: BTreeSet<String>,
    /// Convolutions whose weights are RAMs filled at start-up through the weight-load port
    /// (UltraRAM on UltraScale+; [`crate::load`]): `load_weights = ["conv10"]`. `gen --device`
    /// adds layers here on a part with UltraRAM when block RAM runs out.
    #[serde(default)]
    pub load_weights: BTreeSet<String>,
    /// Codebook layers to store as decoded int8 weights (no decoder LUTs, more block RAM):
    /// `decoded_weights = ["conv10"]`. `gen --device` adds layers here when LUTs run out.
    #[serde(default)]
    pub decoded_weights: BTreeSet<String>,
}

impl HardwareConfig {
    /// Reads the `[hardware]` table of a network file (other keys are the model's business).
    pub fn from_toml_str(text: &str) -> Result<Self, HwError> {
        let bad = |m: &str| HwError::Folding(format!("[hardware]: {m}"));
        let file: toml::Table = toml::from_str(text).map_err(|e| bad(e.message()))?;
        match file.get("hardware") {
            None => Ok(Self::default()),
            Some(toml::Value::Table(t)) => Self::from_table(Some(t)),
            Some(_) => Err(bad("not a table")),
        }
    }
    /// The `[hardware]` table of a network file already parsed
    /// ([`squeezeflow_model::config::NetworkFile`]); defaults without one.
    pub fn from_table(table: Option<&toml::Table>) -> Result<Self, HwError> {
        match table {
            None => Ok(Self::default()),
            Some(t) => toml::Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    HwError::Folding(format!("[hardware]: {}", e.message()))
                }),
        }
    }
}

/// A complete folding for a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Every convolution's folding, by layer name.
    pub fold: BTreeMap<String, Fold>,
    /// Byte lanes of the stream blocks: max pools (`pool1`), concatenations (`fire2.concat`),
    /// the global average pool (`avgpool`).
    pub lanes: BTreeMap<String, usize>,
    /// The engines pair their PEs in `sqf_mac2` (absent in bundles from before the pairing:
    /// they use one `sqf_mac` per PE).
    #[serde(default)]
    pub dsp_pairs: bool,
    /// The MAC lanes' and the requantizers' products are in ECP5 MULT18X18Ds' output
    /// registers, the MAC lanes' operands in their input registers as well (`sqf_mul_ecp5`;
    /// absent in older bundles: off). The arithmetic and the cycles a frame are the same either
    /// way; the MACs are a stage longer.
    #[serde(default)]
    pub mul_ecp5: bool,
    /// The MAC lanes' product registers (pairs, and an odd last PE's) are UltraScale+
    /// DSP48E2s' own (`sqf_mul_dsp48e2`; absent in older bundles: off). The arithmetic and
    /// timing are the same either way.
    #[serde(default)]
    pub dsp48e2: bool,
    /// Block RAM weight ROMs split into banks of one ECP5 block RAM (`sqf_bank_pick`; absent
    /// in older bundles: off). The contents and timing are the same either way.
    #[serde(default)]
    pub rom_banks: bool,
    /// The stream FIFOs from 64 beats deep (a Fire module's pixel and bypass FIFOs) read their
    /// memory at a register address (`sqf_out_fifo`'s `RADDR_REG`; absent in older bundles:
    /// off). The timing is the same.
    #[serde(default)]
    pub fifo_raddr_reg: bool,
    /// The engines' line-buffer words registered as they leave the memory (`LB_REG`; absent
    /// in older bundles: off). The timing is the same.
    #[serde(default)]
    pub lb_reg: bool,
    /// A two-beat FIFO on every stream between two blocks (absent in older bundles: off).
    /// Frames and cycles a frame are the same; a frame leaves a cycle later per slice.
    #[serde(default)]
    pub link_slices: bool,
    /// Convolutions whose weight ROMs are LUTs (`sqf_rom_lut`, `rom_style = "logic"`) rather
    /// than block RAM (absent in older bundles: none).
    #[serde(default)]
    pub rom_logic: BTreeSet<String>,
    /// Convolutions whose weights are RAMs filled through the weight-load port (absent in
    /// older bundles: none).
    #[serde(default)]
    pub load_weights: BTreeSet<String>,
    /// Codebook layers whose memories hold the decoded int8 weights rather than their indices
    /// (no `sqf_codebook`: the fit's choice where LUTs bind and block RAM does not; absent in
    /// older bundles: none). The arithmetic is the same either way.
    #[serde(default)]
    pub decoded_weights: BTreeSet<String>,
}

impl Plan {
    /// A layer's geometry as this plan stores its weights (int8 words for a decoded layer).
    pub fn stored(&self, mut g: crate::conv::ConvGeom) -> crate::conv::ConvGeom {
        if self.decoded_weights.contains(&g.name) {
            g.wbits = 8;
        }
        g
    }
    pub fn fire_fold(&self, f: &squeezeflow_model::network::FireLayer) -> FireFold {
        FireFold {
            squeeze: self.fold[&f.squeeze.name],
            expand1x1: self.fold[&f.expand1x1.name],
            expand3x3: self.fold[&f.expand3x3.name],
            bypass: match &f.bypass {
                FireBypass::Conv(l) => Some(self.fold[&l.name]),
                _ => None,
            },
            cat_lanes: self.lanes[&format!("{}.concat", f.name)],
        }
    }
    pub fn mac_lanes(&self) -> usize {
        self.fold.values().map(|f| f.pe * f.simd).sum()
    }
}

pub(crate) fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

fn min_rows(l: &ConvLayer) -> usize {
    if l.name.ends_with(".expand1x1") {
        EXPAND1X1_ROWS
    } else {
        0
    }
}

/// Cycles per frame of a layer under a folding.
pub(crate) fn conv_cycles(l: &ConvLayer, f: Fold) -> u64 {
    ConvGeom::new(l, f.pe, f.simd, min_rows(l))
        .map(|g| g.cycles_per_frame())
        .unwrap_or(u64::MAX)
}

/// The cheapest folding that finishes a frame within `t` cycles (fewest lanes, then larger
/// `simd`), or the fastest one if none does.
pub(crate) fn cheapest_fold(l: &ConvLayer, t: u64) -> Fold {
    let mut best: Option<(usize, usize, Fold)> = None;
    let mut fastest = (u64::MAX, Fold { pe: 1, simd: 1 });
    for &simd in divisors(l.in_channels()).iter().filter(|&&s| s <= MAX_SIMD) {
        for &pe in &divisors(l.out_channels()) {
            let f = Fold { pe, simd };
            let c = conv_cycles(l, f);
            if c < fastest.0 {
                fastest = (c, f);
            }
            if c <= t {
                let key = (pe * simd, usize::MAX - simd);
                if best.is_none_or(|(a, b, _)| key < (a, b)) {
                    best = Some((key.0, key.1, f));
                }
                break; // larger pe only costs more lanes
            }
        }
    }
    best.map(|b| b.2).unwrap_or(fastest.1)
}

/// The fewest byte lanes (a divisor of `channels` among `allowed`) that move `beats_per_lane`
/// beats within `t` cycles (`extra` cycles added).
pub(crate) fn cheapest_lanes(allowed: &[usize], bytes: u64, extra: u64, t: u64) -> usize {
    allowed
        .iter()
        .copied()
        .find(|&l| bytes / l as u64 + extra <= t)
        .unwrap_or(*allowed.last().expect("at least one lane count"))
}

pub(crate) fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The folding for every layer at frame period `t`.
fn plan_for(net: &Network, t: u64, hw: &HardwareConfig) -> Plan {
    let mut fold = BTreeMap::new();
    let mut lanes = BTreeMap::new();
    for l in net.convs() {
        let f = hw
            .fold
            .get(&l.name)
            .copied()
            .unwrap_or_else(|| cheapest_fold(l, t));
        fold.insert(l.name.clone(), f);
    }
    for s in &net.stages {
        crate::layers::of(s).plan_lanes(&hw.lanes, t, &mut lanes);
    }
    Plan {
        fold,
        lanes,
        dsp_pairs: hw.dsp_pairs.unwrap_or(true),
        mul_ecp5: hw.mul_ecp5.unwrap_or(false),
        dsp48e2: hw.dsp48e2.unwrap_or(false),
        rom_banks: hw.rom_banks.unwrap_or(false),
        fifo_raddr_reg: hw.fifo_raddr_reg.unwrap_or(false),
        lb_reg: hw.lb_reg.unwrap_or(false),
        link_slices: hw.link_slices.unwrap_or(false),
        rom_logic: hw.rom_logic.clone(),
        load_weights: hw.load_weights.clone(),
        decoded_weights: hw.decoded_weights.clone(),
    }
}

/// Chooses the folding for a MAC-lane budget (see the module documentation).
pub fn plan(net: &Network, hw: &HardwareConfig) -> Result<Plan, HwError> {
    let budget = hw.mac_budget.unwrap_or(DEFAULT_MAC_BUDGET);
    for (name, f) in &hw.fold {
        let l = net
            .convs()
            .into_iter()
            .find(|l| &l.name == name)
            .ok_or_else(|| {
                HwError::Folding(format!(
                    "[hardware.fold] names '{name}', which is not a convolution of this network"
                ))
            })?;
        ConvGeom::new(l, f.pe, f.simd, 0)?;
    }
    let convs = net.convs();
    for (key, set) in [
        ("rom_logic", &hw.rom_logic),
        ("load_weights", &hw.load_weights),
        ("decoded_weights", &hw.decoded_weights),
    ] {
        if let Some(n) = set.iter().find(|n| !convs.iter().any(|l| &l.name == *n)) {
            return Err(HwError::Folding(format!(
                "[hardware] {key} names '{n}', which is not a convolution of this network"
            )));
        }
    }
    if let Some(n) = hw.rom_logic.intersection(&hw.load_weights).next() {
        return Err(HwError::Folding(format!(
            "[hardware] '{n}' is in both rom_logic and load_weights: its weights are either a \
             ROM in logic or a loaded RAM"
        )));
    }
    // Bisection on the frame period.
    let slowest = net
        .convs()
        .iter()
        .map(|l| conv_cycles(l, Fold { pe: 1, simd: 1 }))
        .max()
        .unwrap_or(1);
    let floor = net.input_shape().pixels() as u64; // one pixel a beat in
    let (mut lo, mut hi) = (floor.max(1), slowest.max(floor));
    if plan_for(net, hi, hw).mac_lanes() > budget {
        return Err(HwError::Folding(format!(
            "a MAC budget of {budget} lanes is below the {} lanes the slowest folding needs",
            plan_for(net, hi, hw).mac_lanes()
        )));
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if plan_for(net, mid, hw).mac_lanes() <= budget {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(plan_for(net, hi, hw))
}
