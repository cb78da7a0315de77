//! Device targets as data, a resource estimate for a folding, and the fit: the folding with the
//! most frames per second that fits a device.
//!
//! **DSPs** are counted as the Verilog maps today (checked with Yosys): on Xilinx parts one
//! DSP48E1/DSP48E2 per lane pair of two PEs (`sqf_mac2` takes two int8 products from one
//! 25x9 multiply), on ECP5 one MULT18X18D per 8x9-bit product (no pairing: it would take two
//! per pair anyway); two per requantizer (a 32x17 multiply; an engine has `pe / rq_share` of
//! them, see [`ConvGeom::rq_share`]), four per lane of a bypass add (two 8x16 products and a
//! requantizer), two for the global average pool's requantizer. Address
//! arithmetic uses no multiplier (constant products are written as shifts and adds).
//!
//! **Block RAM** comes from the actual memory shapes of the engines (`sqf_rom` weight and
//! parameter ROMs, `sqf_ram` line buffers): each memory takes the aspect ratio that needs the
//! fewest blocks (a wide, deep memory is tiled as width pieces x depth pieces, as Yosys'
//! `memory_libmap` does), and small ROMs become logic as Yosys maps them (see
//! [`rom_in_logic`]). **URAM** has no initial contents (Yosys and Vivado both refuse an
//! initialised URAM), so it holds RAMs: the line buffers, and the weights of the layers in
//! `Plan::load_weights`, which are RAMs filled at start-up through the weight-load port
//! ([`crate::load`]; the host writes them over the board link). On a device with URAM each
//! such memory takes `ceil(width / 72) x ceil(depth / 4096)` URAM288 blocks, and the bundle's
//! `sqf_lib.v` carries `(* ram_style = "ultra" *)` on `sqf_ram` ([`uram_lib`]); Yosys
//! `synth_xilinx -family xcup` maps a 64 x 432 line buffer to one URAM288, and an engine with
//! eight loaded 64 x 2,304 weight RAMs and its line buffer to nine (checked). When block RAM
//! overflows, the fit moves layers' weights there ([`place_loaded_weights`]).

use serde::Serialize;
use squeezeflow_model::network::{Network, Stage};
use squeezeflow_model::QuantModel;

use crate::conv::ConvGeom;
use crate::fire::fire_geoms;
use crate::folding::{plan, HardwareConfig, Plan};
use crate::synth::Family;
use crate::HwError;

/// One FPGA part on one board.
#[derive(Clone, Debug, Serialize)]
pub struct Device {
    /// The name `--device` takes (the part).
    pub name: &'static str,
    /// The board it sits on (`--board` names and constraint files use this).
    pub board: &'static str,
    /// Full part number with package and speed grade, as the board carries it.
    pub part: &'static str,
    pub vendor_family: &'static str,
    #[serde(skip)]
    pub family: Family,
    pub luts: u64,
    pub ffs: u64,
    /// DSP slices (DSP48E1, DSP48E2, or ECP5 18x18 multipliers).
    pub dsps: u64,
    pub dsp_kind: &'static str,
    /// Block RAMs in the device's own unit ([`Device::bram_unit`]).
    pub brams: u64,
    /// `RAMB36` (36 kbit) or `EBR` (DP16KD, 18 kbit).
    pub bram_unit: &'static str,
    pub bram_kbits: u64,
    /// UltraRAM blocks (288 kbit each).
    pub urams: u64,
    /// A clock the engine's short paths should make on this part (a target, not a timing result).
    pub clock_mhz: f64,
    /// The part for nextpnr, where an open place-and-route flow exists (`synth --pnr`).
    pub nextpnr: Option<&'static str>,
}

impl Device {
    /// The block-RAM shapes (depth, width) of one block, and the blocks each costs.
    fn bram_shapes(&self) -> &'static [(usize, usize, f64)] {
        match self.family {
            // RAMB18E1/E2 (half a RAMB36) and RAMB36E1/E2 in simple dual-port mode.
            Family::Xilinx7 | Family::XilinxUltraScalePlus => &[
                (16384, 1, 0.5),
                (8192, 2, 0.5),
                (4096, 4, 0.5),
                (2048, 9, 0.5),
                (1024, 18, 0.5),
                (512, 36, 0.5),
                (32768, 1, 1.0),
                (16384, 2, 1.0),
                (8192, 4, 1.0),
                (4096, 9, 1.0),
                (2048, 18, 1.0),
                (1024, 36, 1.0),
                (512, 72, 1.0),
            ],
            // DP16KD (pseudo dual-port allows 36 bits).
            Family::Ecp5 => &[
                (16384, 1, 1.0),
                (8192, 2, 1.0),
                (4096, 4, 1.0),
                (2048, 9, 1.0),
                (1024, 18, 1.0),
                (512, 36, 1.0),
            ],
        }
    }
    /// Blocks for one memory of `width` x `depth` (the cheapest aspect ratio).
    pub fn blocks_for(&self, width: usize, depth: usize) -> f64 {
        self.bram_shapes()
            .iter()
            .map(|&(d, w, c)| (width.div_ceil(w) * depth.div_ceil(d)) as f64 * c)
            .fold(f64::INFINITY, f64::min)
    }
    /// Frames per second at the nominal clock for `cycles` per frame.
    pub fn fps(&self, cycles: u64) -> f64 {
        self.clock_mhz * 1e6 / cycles.max(1) as f64
    }
}

/// The supported devices.
pub const DEVICES: &[Device] = &[
    Device {
        name: "xc7a200t",
        board: "nexys_video",
        part: "xc7a200tsbg484-1",
        vendor_family: "Xilinx Artix-7",
        family: Family::Xilinx7,
        luts: 134_600,
        ffs: 269_200,
        dsps: 740,
        dsp_kind: "DSP48E1",
        brams: 365,
        bram_unit: "RAMB36",
        bram_kbits: 36,
        urams: 0,
        clock_mhz: 150.0,
        nextpnr: None,
    },
    Device {
        name: "xc7k325t",
        board: "kc705",
        part: "xc7k325tffg900-2",
        vendor_family: "Xilinx Kintex-7",
        family: Family::Xilinx7,
        luts: 203_800,
        ffs: 407_600,
        dsps: 840,
        dsp_kind: "DSP48E1",
        brams: 445,
        bram_unit: "RAMB36",
        bram_kbits: 36,
        urams: 0,
        clock_mhz: 200.0,
        nextpnr: None,
    },
    Device {
        name: "xczu7ev",
        board: "zcu104",
        part: "xczu7ev-ffvc1156-2-e",
        vendor_family: "Xilinx Zynq UltraScale+",
        family: Family::XilinxUltraScalePlus,
        luts: 230_400,
        ffs: 460_800,
        dsps: 1_728,
        dsp_kind: "DSP48E2",
        brams: 312,
        bram_unit: "RAMB36",
        bram_kbits: 36,
        urams: 96,
        clock_mhz: 300.0,
        nextpnr: None,
    },
    Device {
        name: "lfe5u-85f",
        board: "ulx3s",
        part: "LFE5U-85F-6BG381C",
        vendor_family: "Lattice ECP5",
        family: Family::Ecp5,
        luts: 83_640,
        ffs: 83_640,
        dsps: 156,
        dsp_kind: "MULT18X18D",
        brams: 208,
        bram_unit: "EBR",
        bram_kbits: 18,
        urams: 0,
        clock_mhz: 100.0,
        nextpnr: Some("--85k --package CABGA381 --speed 6"),
    },
];

/// The names `--device` accepts, for help texts and errors.
pub fn device_names() -> String {
    DEVICES
        .iter()
        .map(|d| format!("{} ({})", d.name, d.board))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A device by part name or board name (case-insensitive, `-` as `_`: `XC7A200T`,
/// `nexys_video`, `nexys-video`, ...).
pub fn find_device(name: &str) -> Result<&'static Device, HwError> {
    let n = name.trim().to_ascii_lowercase();
    let b = n.replace('-', "_");
    DEVICES
        .iter()
        .find(|d| d.name == n || d.board == b || d.part.eq_ignore_ascii_case(&n))
        .ok_or_else(|| {
            HwError::Folding(format!(
                "unknown device '{name}'; known devices: {}",
                device_names()
            ))
        })
}

/// Whether Yosys 0.23 turns a ROM into logic rather than block RAM. Measured with
/// `synth_xilinx` on single `sqf_rom`s of random contents: up to 54x256 and 16x512 (8 kbit)
/// became LUTs and muxes (up to 13.8 kbit), 64x288 (18 kbit) and larger became RAMB18/RAMB36.
pub fn rom_in_logic(width: usize, depth: usize) -> bool {
    width * depth <= ROM_LOGIC_BITS
}

/// See [`rom_in_logic`].
pub const ROM_LOGIC_BITS: usize = 16384;

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

/// The share of a part's LUTs a fit may fill (placement and routing need the rest).
pub const LUT_FIT_SHARE: f64 = 0.85;

/// LUTs of a convolution engine per MAC lane (the products' adder tree, the pairs'
/// correction). With [`LUTS_PER_PE`], [`LUTS_PER_ENGINE`] and [`ROM_LOGIC_FACTOR`] a
/// least-squares fit to Yosys 0.23 `synth_xilinx` on Fire modules of fire4's shape at five
/// foldings (64 to 512 lanes, 8 to 64 PEs; within 2.1% of each), counting LUT sites: LUTs,
/// INVs, SRLs and LUTRAM at four LUTs a RAM32M/RAM64M ([`crate::synth::CellCounts::luts`]).
pub const LUTS_PER_LANE: f64 = 33.2;
/// LUTs per PE: the accumulator and its bias, the requantizer chain's register, a lane of the
/// output FIFO.
pub const LUTS_PER_PE: f64 = 37.5;
/// LUTs per engine: control counters, line-buffer addressing, a requantizer, the Fire's stream
/// blocks around it.
pub const LUTS_PER_ENGINE: f64 = 445.0;
/// ROMs in logic inside an engine took this many times the LUTs of the same ROM alone
/// ([`rom_logic_luts`] before the factor) in the fit; alone, Yosys' count matches the formula
/// (64 x 128: 128 LUTs, 64 x 288: 396, 64 x 576: 701, 64 x 1,024: 1,243).
pub const ROM_LOGIC_FACTOR: f64 = 1.83;
/// LUTs a requantizer took on top of the fit above when its rounding add got a stage of its
/// own (no longer in the DSP's post-adder): Yosys, the fire4-shaped module's three
/// requantizers, 9,011 LUTs before and 9,338 after.
pub const LUTS_PER_REQUANTIZER: f64 = 109.0;
/// LUTRAM bits per LUT (RAM64M: 64 x 3 bits in four LUTs).
pub const LUTRAM_BITS_PER_LUT: f64 = 48.0;
/// ECP5 LUT4 cells per Xilinx LUT6 of the same logic (the full `ulx3s_small` network:
/// 55,485 LUT4 cells placed by nextpnr, about twice its Xilinx-model estimate).
pub const ECP5_LUT4_PER_LUT6: f64 = 2.0;

/// UltraScale+ LUT sites per LUT of the estimate above, measured with Yosys 0.23
/// `synth_xilinx -family xcup -flatten` on every convolution and Fire module of SqueezeNet v1.1
/// (real weights) at the folding of 3,264 lanes, the one 2,000 fps on the XCZU7EV needs (LUT
/// sites: LUTs, INVs, SRLs, 8 a RAM32M16 or RAM64M8):
///
/// | module | Yosys | estimate (factor 1) | ratio |
/// |---|---|---|---|
/// | conv1 | 10,479 | 16,946 | 0.62 |
/// | fire2 | 19,370 | 21,218 | 0.91 |
/// | fire3 | 20,736 | 23,141 | 0.90 |
/// | fire4 | 30,932 | 29,459 | 1.05 |
/// | fire5 | 25,987 | 31,832 | 0.82 |
/// | fire6 | 8,450 | 7,719 | 1.09 |
/// | fire7 | 9,104 | 8,081 | 1.13 |
/// | fire8 | 16,255 | 16,511 | 0.98 |
/// | fire9 | 18,607 | 17,932 | 1.04 |
/// | conv10 | 35,517 | 37,541 | 0.95 |
/// | all ten | 195,437 | 210,380 | 0.929 |
///
/// The factor is the ratio of the sums (the estimate counts small ROMs in logic at 1.83 LUTs a
/// bit where Yosys takes about one, and conv1's are tiny; the per-module spread is 0.62 to
/// 1.13). Before the banked gearboxes fire2 took 25,820: its 32 -> 4 width converter alone was
/// about 6,000.
pub const XCUP_LUT_FACTOR: f64 = 0.93;

/// The device's LUT sites per Xilinx LUT6 of the same logic.
fn lut_sites_per_lut6(dev: &Device) -> f64 {
    match dev.family {
        Family::Ecp5 => ECP5_LUT4_PER_LUT6,
        Family::XilinxUltraScalePlus => XCUP_LUT_FACTOR,
        Family::Xilinx7 => 1.0,
    }
}

/// LUTs of a `width` x `depth` ROM in logic: per bit, a LUT6 per 64 words and a LUT per
/// further 4:1 mux level past the slice's MUXF7/MUXF8 (alone in Yosys, a 64 x 1,024 ROM with
/// `rom_style = "logic"` took 1,243 LUTs; this gives 1,216), times [`ROM_LOGIC_FACTOR`].
pub fn rom_logic_luts(dev: &Device, width: usize, depth: usize) -> u64 {
    let per_bit = depth.div_ceil(64) + depth.div_ceil(256).saturating_sub(1);
    let f = lut_sites_per_lut6(dev);
    ((width * per_bit) as f64 * ROM_LOGIC_FACTOR * f).round() as u64
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
    let lut6 = LUTS_PER_LANE * lanes as f64
        + LUTS_PER_PE * pes as f64
        + LUTS_PER_ENGINE * engines as f64
        + LUTS_PER_REQUANTIZER * requantizers as f64
        + lutram_bits as f64 / LUTRAM_BITS_PER_LUT;
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
            width: 8 * g.simd,
            depth: g.rom_depth(),
            count: g.pe,
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
        match s {
            Stage::Conv(l) => {
                let f = fold_of(plan, &l.name)?;
                push(&ConvGeom::new(l, f.pe, f.simd, 0)?);
            }
            Stage::Fire(f) => {
                for g in fire_geoms(f, &plan.fire_fold(f))? {
                    push(&g);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn fold_of(plan: &Plan, name: &str) -> Result<crate::fire::Fold, HwError> {
    plan.fold
        .get(name)
        .copied()
        .ok_or_else(|| HwError::Folding(format!("the folding has no entry for {name}")))
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
    /// Convolutions whose weight ROMs are in LUTs by the plan's choice ([`place_roms`]).
    #[serde(default)]
    pub rom_logic_roms: Vec<String>,
    /// Convolutions whose weights are RAMs loaded at start-up ([`place_loaded_weights`]).
    #[serde(default)]
    pub load_weights: Vec<String>,
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
        let lut_limit = (dev.luts as f64 * LUT_FIT_SHARE) as u64;
        if self.luts > lut_limit {
            v.push(format!(
                "{} LUTs needed (estimate), {} usable ({:.0}% of {}; {} over)",
                self.luts,
                lut_limit,
                100.0 * LUT_FIT_SHARE,
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
    let start = sqf_lib
        .find("module sqf_ram")
        .ok_or_else(|| HwError::Io("sqf_lib.v has no sqf_ram module".into()))?;
    let decl = "reg [WIDTH-1:0] mem [0:DEPTH-1];";
    let at = sqf_lib[start..]
        .find(decl)
        .map(|i| start + i)
        .ok_or_else(|| HwError::Io("sqf_ram in sqf_lib.v has no memory declaration".into()))?;
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
        match s {
            Stage::Conv(l) => {
                let f = fold_of(plan, &l.name)?;
                geoms.push(ConvGeom::new(l, f.pe, f.simd, 0)?);
            }
            Stage::Fire(f) => {
                geoms.extend(fire_geoms(f, &plan.fire_fold(f))?);
                if f.has_add() {
                    let lanes = plan.fire_fold(f).cat_lanes;
                    layer(&mut layers, &f.add_name()).dsp += 4 * lanes as u64;
                }
            }
            Stage::AvgPool(p) => {
                layer(&mut layers, &p.name).dsp += 2;
            }
            Stage::MaxPool(_) => {}
        }
    }
    for g in &mut geoms {
        g.pairs = plan.dsp_pairs;
        let l = layer(&mut layers, &g.name);
        l.dsp += conv_dsp(g, dev);
        l.luts += lut_estimate(dev, g.mac_lanes(), g.pe, 1, g.requantizers(), 0);
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
        .flat_map(|s| match s {
            Stage::Fire(f) => {
                let mut v: Vec<String> = f.convs().iter().map(|l| l.name.clone()).collect();
                v.push(f.add_name());
                v
            }
            s => vec![s.name().to_string()],
        })
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
        layers,
    })
}

/// UltraRAM blocks (4,096 x 72) of one memory (its `count` instances).
fn uram_blocks(m: &Memory) -> u64 {
    (m.width.div_ceil(72) * m.depth.div_ceil(4096) * m.count) as u64
}

/// On a part with UltraRAM, while block RAM overflows, moves the weights of one convolution
/// after another from ROM into RAM filled through the load port (`Plan::load_weights`; the
/// RAMs go to UltraRAM): the layer that frees the most block RAM per UltraRAM first, skipping
/// any that would overflow the UltraRAM. Returns the resources of the plan as left.
pub fn place_loaded_weights(
    net: &Network,
    plan: &mut Plan,
    dev: &Device,
) -> Result<Resources, HwError> {
    let mut r = resources(net, plan, dev)?;
    if dev.urams == 0 || r.bram <= dev.brams as f64 {
        return Ok(r);
    }
    let mut cands: Vec<(String, f64)> = memories(net, plan)?
        .into_iter()
        .filter(|m| {
            m.role == "weights"
                && !plan.load_weights.contains(&m.layer)
                && !plan.rom_logic.contains(&m.layer)
                && !rom_in_logic(m.width, m.depth)
        })
        .map(|m| {
            let blocks = dev.blocks_for(m.width, m.depth) * m.count as f64;
            let u = uram_blocks(&m) as f64;
            (m.layer, blocks / u)
        })
        .collect();
    cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, _) in cands {
        plan.load_weights.insert(name.clone());
        let next = resources(net, plan, dev)?;
        if next.uram > dev.urams {
            plan.load_weights.remove(&name);
            continue;
        }
        r = next;
        if r.bram <= dev.brams as f64 {
            break;
        }
    }
    Ok(r)
}

/// While block RAM overflows `dev`, moves the weight ROMs of one convolution after another
/// from block RAM into LUTs (`Plan::rom_logic`): the layer whose ROMs fill their blocks least
/// first (the most block RAM freed per bit), skipping any that would take the LUTs over
/// [`LUT_FIT_SHARE`]. Returns the resources of the plan as left. Not used by [`fit_network`]:
/// a whole XC7A200T design with such LUT ROMs came out of Yosys at several times its estimate
/// (most likely through its width converters of that time; not measured again).
pub fn place_roms(net: &Network, plan: &mut Plan, dev: &Device) -> Result<Resources, HwError> {
    let mut r = resources(net, plan, dev)?;
    if r.bram <= dev.brams as f64 {
        return Ok(r);
    }
    let lut_limit = (dev.luts as f64 * LUT_FIT_SHARE) as u64;
    let mut cands: Vec<(String, f64)> = memories(net, plan)?
        .into_iter()
        .filter(|m| {
            m.role == "weights"
                && !plan.rom_logic.contains(&m.layer)
                && !rom_in_logic(m.width, m.depth)
        })
        .map(|m| {
            let blocks = dev.blocks_for(m.width, m.depth) * m.count as f64;
            (m.layer, blocks / (m.width * m.depth * m.count) as f64)
        })
        .collect();
    cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, _) in cands {
        plan.rom_logic.insert(name.clone());
        let next = resources(net, plan, dev)?;
        if next.luts > lut_limit {
            plan.rom_logic.remove(&name);
            continue;
        }
        r = next;
        if r.bram <= dev.brams as f64 {
            break;
        }
    }
    Ok(r)
}

/// Why a network does not fit a device.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// Even the smallest folding is too big.
    #[error("{network} does not fit the {device} ({board}) even with its smallest folding ({lanes} MAC lanes): {what}")]
    TooBig {
        network: String,
        device: String,
        board: String,
        lanes: usize,
        what: String,
    },
    #[error(transparent)]
    Hw(#[from] HwError),
}

/// The folding chosen for a device, with its figures.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub device: Device,
    /// The MAC-lane budget the folding was planned with.
    pub mac_budget: usize,
    pub plan: Plan,
    pub resources: Resources,
    pub cycles_per_frame: u64,
    /// At the device's nominal clock.
    pub frames_per_second: f64,
    pub clock_mhz: f64,
}

/// Budget step of [`fit`]'s scan.
pub const FIT_STEP: usize = 8;

/// The folding with the most frames per second that fits `dev` (DSPs, block RAM, URAM), within
/// `hw.mac_budget` lanes if given (per-layer overrides in `hw` are kept): the plan of the
/// largest MAC budget that fits (budgets scanned every [`FIT_STEP`] lanes down from the cap,
/// then lane by lane above the first that fits).
pub fn fit_network(
    net: &Network,
    dev: &Device,
    hw: &HardwareConfig,
) -> Result<(usize, Plan, Resources), FitError> {
    let try_budget = |b: usize| -> Result<(Plan, Resources), HwError> {
        let mut h = hw.clone();
        h.mac_budget = Some(b);
        // Pairs gain nothing on ECP5's 18x18 multipliers (and cost LUTs).
        h.dsp_pairs = h.dsp_pairs.or(Some(dev.family != Family::Ecp5));
        // Weight ROMs stay where Yosys puts them by default ([`place_roms`] is not used here:
        // an XC7A200T bundle with one layer's ROMs moved to LUTs came out of Yosys at 515,396
        // LUTs, four times the estimate, most likely through the shift-register width
        // converters of that time rather than the ROMs; not measured again yet, see the README).
        let mut p = plan(net, &h)?;
        // On a part with UltraRAM, weights that overflow block RAM move to loaded RAMs there.
        let r = place_loaded_weights(net, &mut p, dev)?;
        Ok((p, r))
    };
    let cap = hw.mac_budget.unwrap_or(2 * dev.dsps as usize).max(1);
    // The smallest folding: one lane per layer where possible.
    let smallest = (1..=cap).find_map(|b| try_budget(b).ok());
    let Some((p0, r0)) = smallest.clone() else {
        return Err(HwError::Folding(format!(
            "no folding of {} fits a budget of {cap} MAC lanes",
            net.config.name
        ))
        .into());
    };
    let over = r0.overflows(dev);
    if !over.is_empty() {
        return Err(FitError::TooBig {
            network: net.config.name.clone(),
            device: dev.name.into(),
            board: dev.board.into(),
            lanes: p0.mac_lanes(),
            what: over.join("; "),
        });
    }
    // Resource use is not monotonic in the budget (a budget that adds PEs to a layer makes its
    // ROMs shallower and can waste block RAM; the next one may add SIMD instead), but the planned
    // frame period never grows with it: the fastest folding that fits is the one of the largest
    // budget that fits. Scan down from the cap in steps of FIT_STEP lanes, then refine upwards.
    let lo = p0.mac_lanes().max(1);
    let mut best = (lo, p0, r0);
    let fits = |b: usize| {
        try_budget(b)
            .ok()
            .filter(|(_, r)| r.overflows(dev).is_empty())
    };
    let mut b = cap;
    while b > lo {
        if let Some((p, r)) = fits(b) {
            best = (b, p, r);
            for up in (b + 1..(b + FIT_STEP).min(cap + 1)).rev() {
                if let Some((p, r)) = fits(up) {
                    best = (up, p, r);
                    break;
                }
            }
            break;
        }
        b = b.saturating_sub(FIT_STEP).max(lo);
    }
    Ok(best)
}

/// [`fit_network`] for a model, with the estimated cycles per frame of the chosen folding.
pub fn fit(model: &QuantModel, dev: &Device, hw: &HardwareConfig) -> Result<Fit, FitError> {
    let (budget, plan, resources) = fit_network(&model.network, dev, hw)?;
    let est = crate::network::estimate(model, &plan)?;
    Ok(Fit {
        device: dev.clone(),
        mac_budget: budget,
        frames_per_second: dev.fps(est.cycles_per_frame),
        cycles_per_frame: est.cycles_per_frame,
        clock_mhz: dev.clock_mhz,
        plan,
        resources,
    })
}

/// Cycles per frame a folding was planned for, without building the engine (no model needed):
/// the slowest convolution, pool, concatenation or the input (one pixel a beat). The engine's
/// own estimate ([`crate::network::estimate`]) also counts its width converters.
pub fn planned_cycles(net: &Network, plan: &Plan) -> Result<u64, HwError> {
    let mut t = net.input_shape().pixels() as u64;
    for s in &net.stages {
        match s {
            Stage::Conv(l) => {
                let f = fold_of(plan, &l.name)?;
                t = t.max(ConvGeom::new(l, f.pe, f.simd, 0)?.cycles_per_frame());
            }
            Stage::Fire(f) => {
                let ff = plan.fire_fold(f);
                for g in fire_geoms(f, &ff)? {
                    t = t.max(g.cycles_per_frame());
                }
                t = t.max((f.output.len() / ff.cat_lanes.max(1)) as u64);
            }
            Stage::MaxPool(p) => {
                let lanes = plan.lanes.get(&p.name).copied().unwrap_or(1).max(1);
                t = t.max((p.input.len() / lanes) as u64);
            }
            Stage::AvgPool(p) => {
                let lanes = plan.lanes.get(&p.name).copied().unwrap_or(1).max(1);
                t = t.max((p.input.len() / lanes + p.input.c + 4) as u64);
            }
        }
    }
    Ok(t)
}

/// The smallest MAC budget whose folding reaches `cycles` per frame (planned), with its plan;
/// None when no folding does (the input's one pixel a beat, or the widest folding, is slower).
pub fn lanes_for(net: &Network, cycles: u64) -> Result<Option<(Plan, u64)>, HwError> {
    let hw = |b: usize| HardwareConfig {
        mac_budget: Some(b),
        ..Default::default()
    };
    let max: usize = net
        .convs()
        .iter()
        .map(|l| l.in_channels().min(crate::conv::MAX_SIMD) * l.out_channels())
        .sum();
    let top = plan(net, &hw(max))?;
    if planned_cycles(net, &top)? > cycles {
        return Ok(None);
    }
    let (mut lo, mut hi) = (1usize, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match plan(net, &hw(mid)) {
            Ok(p) if planned_cycles(net, &p)? <= cycles => hi = mid,
            _ => lo = mid + 1,
        }
    }
    let p = plan(net, &hw(hi))?;
    let c = planned_cycles(net, &p)?;
    Ok(Some((p, c)))
}
