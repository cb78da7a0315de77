//! The resource estimate of a folding on a device: DSPs, block RAM, UltraRAM and LUTs per layer
//! ([`resources`]), from the engines' memory shapes and the LUT model fitted to Yosys.

use serde::Serialize;
use squeezeflow_model::network::Network;

use super::calibration::calibration as cal;
use super::devices::Device;
use crate::conv::ConvGeom;
use crate::folding::Plan;
use crate::synth::Family;
use crate::HwError;

/// Whether Yosys 0.23 turns a ROM into logic rather than block RAM: at most `rom_logic_bits`
/// bits ([`super::calibration`]) and at most 512 words. Measured: 64x256 and 54x256 became logic;
/// 4x4096 (16 kbit, one RAMB18 at 4Kx4: a 4-bit index ROM) and 64x288 became block RAM.
pub fn rom_in_logic(width: usize, depth: usize) -> bool {
    width * depth <= cal().rom_logic_bits.value as usize && depth <= 512
}

/// Whether Yosys' `memory_libmap` puts a RAM in LUTRAM rather than block RAM on a Xilinx part:
/// its cost for LUTRAM (8 per RAM32M of 32x6 or RAM64M of 64x3, the cheaper) is below the
/// block RAM's (129 per RAMB18, 257 per RAMB36). Measured: 8x64 -> 3 RAM64M, 64x32 -> 11
/// RAM32M, 64x432 and 24x832 -> 1 RAMB36.
/// On ECP5 the same comparison: 4 per TRELLIS_DPR16X4 (16x4) against 128 per DP16KD.
pub fn ram_in_lutram(m: &Memory, dev: &Device) -> bool {
    let (w, d) = (m.width, m.depth);
    let (lut, bram) = if dev.family == Family::Ecp5 {
        (
            4 * w.div_ceil(4) * d.div_ceil(16),
            (dev.blocks_for(w, d) * 128.0).ceil() as usize,
        )
    } else {
        (
            8 * (w.div_ceil(6) * d.div_ceil(32)).min(w.div_ceil(3) * d.div_ceil(64)),
            (dev.blocks_for(w, d) * 257.0).ceil() as usize,
        )
    };
    // A 10% margin: a 24x128 buffer (LUTRAM cost 128 against 129) went to a RAMB18.
    10 * lut < 9 * bram
}

/// The device's LUT sites per Xilinx LUT6 of the same logic.
fn lut_sites_per_lut6(dev: &Device) -> f64 {
    match dev.family {
        Family::Ecp5 => cal().ecp5_lut4_per_lut6.value,
        Family::XilinxUltraScalePlus => cal().xcup_lut_factor.value,
        Family::Xilinx7 => 1.0,
    }
}

/// LUTs of a `width` x `depth` ROM in logic: per bit, a LUT6 per 64 words and a LUT per
/// further 4:1 mux level past the slice's MUXF7/MUXF8 (alone in Yosys, a 64 x 1,024 ROM with
/// `rom_style = "logic"` took 1,243 LUTs; this gives 1,216), times `rom_logic_factor`.
pub fn rom_logic_luts(dev: &Device, width: usize, depth: usize) -> u64 {
    let per_bit = depth.div_ceil(64) + depth.div_ceil(256).saturating_sub(1);
    let f = lut_sites_per_lut6(dev);
    ((width * per_bit) as f64 * cal().rom_logic_factor.value * f).round() as u64
}

/// LUTs of an engine's codebook decoders (`sqf_codebook`, none for int8 weights): one per MAC
/// lane, each eight `2^wbits`-word ROMs in logic, a LUT6 an output bit per 64 words. Measured
/// (Yosys 0.23 `synth_xilinx`, 8 lanes, 2026-12-02): 8 LUTs a lane at 4, 5 and 6 bits, 13 LUTs
/// and 7 MUXF7 at 7 bits (16 here).
pub fn codebook_luts(dev: &Device, g: &ConvGeom) -> u64 {
    if !g.codebook() {
        return 0;
    }
    let per_lane = 8 * (1usize << g.wbits).div_ceil(64);
    ((per_lane * g.mac_lanes()) as f64 * lut_sites_per_lut6(dev)).round() as u64
}

/// Estimated LUTs of `lanes` MAC lanes in `pes` PEs of `engines` engines with `requantizers`
/// requantizers and `lutram_bits` of LUTRAM, in the device's LUTs (ROMs in logic:
/// [`rom_logic_luts`]).
pub fn lut_estimate(
    dev: &Device,
    lanes: usize,
    pes: usize,
    engines: usize,
    requantizers: usize,
    lutram_bits: u64,
) -> u64 {
    let c = cal();
    let lut6 = c.luts_per_lane.value * lanes as f64
        + c.luts_per_pe.value * pes as f64
        + c.luts_per_engine.value * engines as f64
        + c.luts_per_requantizer.value * requantizers as f64
        + lutram_bits as f64 / c.lutram_bits_per_lut.value;
    let f = lut_sites_per_lut6(dev);
    (lut6 * f).round() as u64
}

/// One memory of an engine.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    pub layer: String,
    /// `weights`, `params` (biases per PE, requantizer parameters per requantizer) or
    /// `line_buffer`.
    pub role: &'static str,
    pub width: usize,
    pub depth: usize,
    /// Identical instances (one per PE for the ROMs).
    pub count: usize,
}

/// Every block-RAM candidate of the engine under a folding.
pub fn memories(net: &Network, plan: &Plan) -> Result<Vec<Memory>, HwError> {
    let mut out = Vec::new();
    let mut push = |g: &ConvGeom| {
        out.push(Memory {
            layer: g.name.clone(),
            role: "weights",
            width: g.weight_word_bits() * g.rom_group(),
            depth: g.rom_depth(),
            count: g.pe / g.rom_group(),
        });
        out.push(Memory {
            layer: g.name.clone(),
            role: "params",
            width: 32,
            depth: g.og(),
            count: g.pe,
        });
        out.push(Memory {
            layer: g.name.clone(),
            role: "params",
            width: crate::leaf::REQUANT_BITS,
            depth: g.og() * g.rq_share(),
            count: g.requantizers(),
        });
        out.push(Memory {
            layer: g.name.clone(),
            role: "line_buffer",
            width: 8 * g.simd,
            depth: g.lb_depth(),
            count: 1,
        });
    };
    for s in &net.stages {
        for g in crate::layers::of(s).conv_geoms(plan)? {
            push(&g);
        }
    }
    Ok(out)
}

/// Resources of one layer.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LayerResources {
    pub name: String,
    pub dsp: u64,
    /// Block RAM in the device's unit.
    pub bram: f64,
    /// ROM bits that become logic (LUTs).
    pub rom_logic_bits: u64,
    /// RAM bits in distributed RAM (LUTRAM).
    #[serde(default)]
    pub lutram_bits: u64,
    /// Estimated LUTs (see [`lut_estimate`]).
    #[serde(default)]
    pub luts: u64,
}

/// Estimated resources of a folding on a device.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Resources {
    pub device: String,
    pub mac_lanes: usize,
    pub dsp: u64,
    /// Block RAM in the device's unit (`RAMB36` or `EBR`).
    pub bram: f64,
    /// The part of `bram` the line buffers take (0 on a device with URAM: they go there).
    pub line_buffer_bram: f64,
    /// Bits held in block RAM.
    pub bram_bits: u64,
    pub uram: u64,
    /// ROM bits that Yosys turns into LUTs.
    pub rom_logic_bits: u64,
    /// Small line buffers Yosys puts in distributed RAM (LUTRAM).
    #[serde(default)]
    pub lutram_bits: u64,
    /// Estimated LUTs (LUT6 on Xilinx, LUT4 on ECP5; see [`lut_estimate`]).
    #[serde(default)]
    pub luts: u64,
    /// Convolutions whose weight ROMs are in LUTs by the plan's choice
    /// ([`place_roms`](super::place_roms)).
    #[serde(default)]
    pub rom_logic_roms: Vec<String>,
    /// Convolutions whose weights are RAMs loaded at start-up
    /// ([`place_loaded_weights`](super::place_loaded_weights)).
    #[serde(default)]
    pub load_weights: Vec<String>,
    /// Codebook layers stored decoded, as int8 weights
    /// ([`place_decoded_weights`](super::place_decoded_weights)).
    #[serde(default)]
    pub decoded_weights: Vec<String>,
    pub layers: Vec<LayerResources>,
}

impl Resources {
    /// What does not fit `dev`, one phrase each (empty when everything fits).
    pub fn overflows(&self, dev: &Device) -> Vec<String> {
        let mut v = Vec::new();
        if self.dsp > dev.dsps {
            v.push(format!(
                "{} {}s needed, {} available ({} over, {:.0}%)",
                self.dsp,
                dev.dsp_kind,
                dev.dsps,
                self.dsp - dev.dsps,
                100.0 * self.dsp as f64 / dev.dsps as f64
            ));
        }
        if self.bram > dev.brams as f64 {
            v.push(format!(
                "{:.1} {} needed, {} available ({:.1} over, {:.0}%; its memories hold {:.2} Mbit against {:.2} Mbit of block RAM)",
                self.bram,
                dev.bram_unit,
                dev.brams,
                self.bram - dev.brams as f64,
                100.0 * self.bram / dev.brams as f64,
                self.bram_bits as f64 / 1e6,
                (dev.brams * dev.bram_kbits * 1024) as f64 / 1e6
            ));
        }
        let lut_limit = (dev.luts as f64 * cal().lut_fit_share.value) as u64;
        if self.luts > lut_limit {
            v.push(format!(
                "{} LUTs needed (estimate), {} usable ({:.0}% of {}; {} over)",
                self.luts,
                lut_limit,
                100.0 * cal().lut_fit_share.value,
                dev.luts,
                self.luts - lut_limit
            ));
        }
        if self.uram > dev.urams {
            v.push(format!(
                "{} URAM288 needed, {} available ({} over)",
                self.uram,
                dev.urams,
                self.uram - dev.urams
            ));
        }
        v
    }
}

/// The primitive library with the line-buffer RAM (`sqf_ram`) marked for UltraRAM
/// (`(* ram_style = "ultra" *)`), for devices with URAM; the attribute changes no behaviour.
pub fn uram_lib(sqf_lib: &str) -> Result<String, HwError> {
    // `module sqf_ram #(`, or in a bundle `module <prefix>_sqf_ram #(`.
    let mut offset = 0;
    let start = sqf_lib
        .split_inclusive('\n')
        .find_map(|l| {
            let at = offset;
            offset += l.len();
            (l.starts_with("module ") && l.trim_end().ends_with("sqf_ram #(")).then_some(at)
        })
        .ok_or_else(|| HwError::Bundle("the library has no sqf_ram module".into()))?;
    let decl = "reg [WIDTH-1:0] mem [0:DEPTH-1];";
    let at = sqf_lib[start..]
        .find(decl)
        .map(|i| start + i)
        .ok_or_else(|| {
            HwError::Bundle("sqf_ram in the library has no memory declaration".into())
        })?;
    Ok(format!(
        "{}(* ram_style = \"ultra\" *) {}",
        &sqf_lib[..at],
        &sqf_lib[at..]
    ))
}

/// DSPs of one layer: one per multiplier (a lane, or a lane pair in `sqf_mac2` on a Xilinx
/// part: measured one DSP48E1/DSP48E2 per pair, and two MULT18X18D on ECP5, the same as
/// unpaired), two per requantizer (shared by `rq_share` PEs).
fn conv_dsp(g: &ConvGeom, dev: &Device) -> u64 {
    let mult = if dev.family == Family::Ecp5 {
        g.pe * g.simd
    } else {
        g.multipliers()
    };
    (mult + 2 * g.requantizers()) as u64
}

fn layer<'a>(layers: &'a mut Vec<LayerResources>, name: &str) -> &'a mut LayerResources {
    let i = match layers.iter().position(|l| l.name == name) {
        Some(i) => i,
        None => {
            layers.push(LayerResources {
                name: name.into(),
                dsp: 0,
                bram: 0.0,
                rom_logic_bits: 0,
                lutram_bits: 0,
                luts: 0,
            });
            layers.len() - 1
        }
    };
    &mut layers[i]
}

/// Estimates the resources of `plan` on `dev` (see the module documentation).
pub fn resources(net: &Network, plan: &Plan, dev: &Device) -> Result<Resources, HwError> {
    let mems = memories(net, plan)?;
    let mut layers: Vec<LayerResources> = Vec::new();
    let mut geoms = Vec::new();
    for s in &net.stages {
        let kind = crate::layers::of(s);
        geoms.extend(kind.conv_geoms(plan)?);
        for (name, dsp) in kind.extra_dsps(plan) {
            layer(&mut layers, &name).dsp += dsp;
        }
    }
    for g in &mut geoms {
        g.pairs = plan.dsp_pairs;
        let l = layer(&mut layers, &g.name);
        l.dsp += conv_dsp(g, dev);
        l.luts += lut_estimate(dev, g.mac_lanes(), g.pe, 1, g.requantizers(), 0);
        l.luts += codebook_luts(dev, g);
    }
    let (mut bram_bits, mut lb_bram, mut uram) = (0u64, 0.0, 0u64);
    for m in &mems {
        let l = layer(&mut layers, &m.layer);
        let bits = (m.width * m.depth * m.count) as u64;
        // Weights in RAM filled through the load port: UltraRAM where there is some (the
        // bundle marks every `sqf_ram` for it), else block RAM or LUTRAM as Yosys maps a RAM.
        let loaded = m.role == "weights" && plan.load_weights.contains(&m.layer);
        if m.role == "line_buffer" && dev.urams == 0 && ram_in_lutram(m, dev) {
            l.lutram_bits += bits;
        } else if (m.role == "line_buffer" || loaded) && dev.urams > 0 {
            uram += uram_blocks(m);
        } else if loaded && ram_in_lutram(m, dev) {
            l.lutram_bits += bits;
        } else if m.role == "weights" && plan.rom_logic.contains(&m.layer)
            || m.role != "line_buffer" && rom_in_logic(m.width, m.depth)
        {
            l.rom_logic_bits += bits;
            l.luts += rom_logic_luts(dev, m.width, m.depth) * m.count as u64;
        } else {
            let b = dev.blocks_for(m.width, m.depth) * m.count as f64;
            l.bram += b;
            bram_bits += bits;
            if m.role == "line_buffer" {
                lb_bram += b;
            }
        }
    }
    for l in &mut layers {
        l.luts += lut_estimate(dev, 0, 0, 0, 0, l.lutram_bits);
    }
    // Keep the network's order (convolutions were pushed after their fires' adds).
    let order: Vec<String> = net
        .stages
        .iter()
        .flat_map(|s| crate::layers::of(s).resource_layers())
        .collect();
    layers.sort_by_key(|l| {
        order
            .iter()
            .position(|n| n == &l.name)
            .unwrap_or(usize::MAX)
    });
    Ok(Resources {
        device: dev.name.into(),
        mac_lanes: plan.mac_lanes(),
        dsp: layers.iter().map(|l| l.dsp).sum(),
        bram: layers.iter().map(|l| l.bram).sum(),
        line_buffer_bram: lb_bram,
        bram_bits,
        uram,
        rom_logic_bits: layers.iter().map(|l| l.rom_logic_bits).sum(),
        lutram_bits: layers.iter().map(|l| l.lutram_bits).sum(),
        luts: layers.iter().map(|l| l.luts).sum(),
        rom_logic_roms: plan.rom_logic.iter().cloned().collect(),
        load_weights: plan.load_weights.iter().cloned().collect(),
        decoded_weights: plan.decoded_weights.iter().cloned().collect(),
        layers,
    })
}

/// UltraRAM blocks (4,096 x 72) of one memory (its `count` instances).
pub(super) fn uram_blocks(m: &Memory) -> u64 {
    (m.width.div_ceil(72) * m.depth.div_ceil(4096) * m.count) as u64
}
