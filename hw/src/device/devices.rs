//! The supported devices as data ([`DEVICES`]): each part's resources, block-RAM shapes and
//! clock, and the lookup by part or board name.

use serde::Serialize;

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
    /// The clock frame rates on this part are quoted at (MHz).
    pub clock_mhz: f64,
    /// What that clock rests on: a place-and-route result, or why it is only a target.
    pub clock_evidence: &'static str,
    /// Where no place and route exists: the clock the delay model (`scripts/depth.py
    /// --family`, docs/timing.md) gives this part's own SqueezeNet v1.1 folding, its deepest
    /// register-to-register path in nanoseconds from the vendor's cell delays and routing
    /// delays measured in real designs; None where the model has not been run.
    pub modelled_mhz: Option<f64>,
    /// What the modelled clock rests on (the run, its date, the path that sets it).
    pub modelled_evidence: &'static str,
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
    /// Frames per second at the modelled clock, where there is one.
    pub fn modelled_fps(&self, cycles: u64) -> Option<f64> {
        self.modelled_mhz.map(|m| m * 1e6 / cycles.max(1) as f64)
    }
    /// The modelled clock and its frame rate for `cycles`, as `gen` and `dse` print it
    /// (empty where there is none).
    pub fn modelled_note(&self, cycles: u64) -> String {
        match (self.modelled_mhz, self.modelled_fps(cycles)) {
            (Some(m), Some(f)) => format!(
                "; {f:.1} fps at {m} MHz, the clock the delay model supports ({})",
                self.modelled_evidence
            ),
            _ => String::new(),
        }
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
        clock_evidence: "a target, not a timing result: no place and route for 7-series has shown it (docs/timing.md)",
        modelled_mhz: Some(156.0),
        modelled_evidence: "the delay model on the Yosys netlists of the whole SqueezeNet v1.1 foldings, the lower of the two: the 586-lane int8 folding at 6.40 ns (pool2's emit flag) and the 1,172-lane 6-bit fit at 6.29 ns (the reset port into fire6.expand1x1's line-buffer write enable); Artix-7 -1 cell delays, routing of Vivado-routed nets by fan-out, 2026-12-03 (docs/timing.md)",
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
        clock_evidence: "a target, not a timing result: no place and route for 7-series has shown it (docs/timing.md)",
        modelled_mhz: None,
        modelled_evidence: "",
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
        clock_evidence: "a target, not a timing result: no place and route for UltraScale+ has shown it (docs/timing.md)",
        modelled_mhz: Some(256.0),
        modelled_evidence: "the delay model on the Yosys netlist of the whole 3,264-lane folding: 3.90 ns, a shift register (SRL16E) through a LUT and a carry chain into the average pool's register; UltraScale+ LUT and DSP delays where published, 7-series ones elsewhere, routing of Vivado-routed nets by fan-out, 2026-12-04 (docs/timing.md)",
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
        clock_mhz: 125.0,
        clock_evidence: "place and route: `squeezeflow build` (Yosys, nextpnr-ecp5 with the placer's timing weight doubled, ecppack) routed the ULX3S build (board shell and the 78-lane network of model/configs/ulx3s_small.toml, a register slice between every two blocks, block RAM reads in their output registers, the multipliers with their input registers, the line buffers read at a register address) at 129.8 MHz (fmax, nextpnr's default seed, which `build` runs; seed 3 placed at 118.4) against a 125 MHz constraint, met, 2026-12-05; no endpoint after 8 ns, 5 after 7.5 (docs/timing.md)",
        modelled_mhz: None,
        modelled_evidence: "",
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
        .ok_or_else(|| HwError::UnknownDevice {
            name: name.to_string(),
            known: device_names(),
        })
}
