//! On ECP5 the stream blocks' output valid leaves from a flip-flop, with nothing between: the
//! consumer's handshake, and the pop that the consumer's ready makes, start at a register.
//! Decoded from the FIFO's count (`count != 0`), it was a LUT level, two at 16 beats and
//! more, in paths that cross from one block into the next (the ULX3S build, 2026-12-05).

use squeezeflow_hw::synth::Family;
use squeezeflow_tests::{library_text, scratch, yosys_select};

/// `module` of the library (`modules` read) set up by `params` (`-set ..`) after
/// `synth_ecp5`: its `m_tvalid` driven by one flip-flop and no other cell.
fn valid_from_a_flip_flop(tag: &str, modules: &[&str], module: &str, params: &str) {
    let dir = scratch(tag);
    std::fs::write(dir.join("sqf_lib.v"), library_text(modules)).unwrap();
    std::fs::write(dir.join("top.v"), "// the library module is the top\n").unwrap();
    yosys_select(
        &dir,
        tag,
        &format!(
            "chparam {params} {module}; {}; \
             select -assert-count 1 o:m_tvalid %ci2 t:TRELLIS_FF %i; \
             select -assert-none o:m_tvalid %ci2 t:TRELLIS_FF %d t:* %i",
            Family::Ecp5.command(module)
        ),
    );
}

/// The stream FIFOs: a register slice (two beats), a LUT RAM FIFO (16) and a block RAM one
/// (256, its head read ahead into registers).
#[test]
fn stream_fifo_valid_leaves_from_a_flip_flop_on_ecp5() {
    for depth in [2, 16, 256] {
        valid_from_a_flip_flop(
            &format!("synth_valid_fifo_{depth}"),
            &["sqf_out_fifo", "sqf_stream_fifo"],
            "sqf_stream_fifo",
            &format!("-set LANES 1 -set DEPTH {depth}"),
        );
    }
}

/// A Fire module's concatenation (its output FIFO of four beats).
#[test]
fn concat_valid_leaves_from_a_flip_flop_on_ecp5() {
    valid_from_a_flip_flop(
        "synth_valid_concat",
        &["sqf_out_fifo", "sqf_concat"],
        "sqf_concat",
        "-set LANES 1 -set N_A 80 -set N_B 80 -set DEPTH 4",
    );
}

/// A convolution engine's control (its output FIFO of 16 beats; fire7.expand3x3's geometry
/// in the ULX3S network).
#[test]
fn engine_valid_leaves_from_a_flip_flop_on_ecp5() {
    valid_from_a_flip_flop(
        "synth_valid_engine",
        &["sqf_const_mul", "sqf_ram", "sqf_conv_ctrl"],
        "sqf_conv_ctrl",
        "-set K 3 -set STRIDE 1 -set PAD 1 -set H 13 -set W 13 -set HO 13 -set WO 13 \
         -set CG 6 -set OG 12 -set SIMD 8 -set SHARE 3 -set LB_ROWS 4 -set FIFO_DEPTH 16 \
         -set AB_W 10 -set AB_P 4 -set AB_Q 6 -set FB 4 -set LB_REG 2 -set MAC_LAT 8",
    );
}
