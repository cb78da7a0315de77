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
//!
//! Files: `devices.rs` (the device table), `resources.rs` (the resource estimate),
//! `fit.rs` (the fit and the placement of weights when block RAM overflows).
//!
//! [`ConvGeom::rq_share`]: crate::conv::ConvGeom::rq_share

mod calibration;
mod devices;
mod fit;
mod resources;

pub use calibration::{calibration, Calibration, Constant};
pub use devices::{device_names, find_device, Device, DEVICES};
pub use fit::{
    fit, fit_network, lanes_for, place_decoded_weights, place_loaded_weights, place_roms,
    planned_cycles, Fit, FitError, FIT_STEP,
};
pub use resources::{
    codebook_luts, lut_estimate, memories, ram_in_lutram, resources, rom_in_logic, rom_logic_luts,
    uram_lib, LayerResources, Memory, Resources,
};
