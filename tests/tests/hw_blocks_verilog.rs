//! Every streaming block's Verilog in Verilator against the integer reference and against its
//! Rust model (same stalls, same cycle of every frame's end), after lint.

use rust_hdl::prelude::{Logic, Verilog};
use squeezeflow_hw::blocks::{AvgPool, BypassAdd, Concat, Gearbox, MaxPool, StreamFifo};
use squeezeflow_hw::harness::Stalls;
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::network::{PoolLayer, Shape};
use squeezeflow_model::quant::{gap_requant, AddParams, Requant};
use squeezeflow_model::reference::naive;
use squeezeflow_tests::{check_block_verilog, check_block_verilog_stalls};

#[test]
fn maxpool_verilog() {
    // The third: WO * CG = 15, not a power of two (so the vm addresses do not wrap back to 0
    // on their own at a row's end). The fourth: rows three beats long (W * CG = 3), the
    // shortest, where a vm word is read at the edge right after its previous value's write.
    for (tag, h, w, c, lanes) in [
        ("pool_odd", 7, 9, 4, 2),
        ("pool_even", 6, 8, 3, 3),
        ("pool_wide", 5, 11, 6, 2),
        ("pool_row3", 6, 3, 1, 1),
    ] {
        let input = Shape::new(h, w, c);
        let p = PoolLayer::max3x3("pool", input).unwrap();
        let frames: Vec<Vec<u8>> = (0..2)
            .map(|i| SplitMix64::new(i).bytes(input.len()))
            .collect();
        let want: Vec<Vec<u8>> = frames.iter().map(|f| naive::maxpool(f, &p)).collect();
        // A consumer that mostly refuses fills the output FIFO, so the beats still in the data
        // path must be counted in the room for the next one.
        let choked = Stalls::choked(12);
        check_block_verilog_stalls(
            tag,
            || MaxPool::new(&p, lanes).unwrap(),
            &[frames.concat()],
            &[input.len()],
            &want,
            p.output.len(),
            &[Stalls::random(11), Stalls::NONE, choked],
        );
    }
}

/// `n` random frames of `shape` from `seed` on, and their logits by the integer reference as
/// the average pool sends them (16-bit, low byte first).
fn gap_frames(shape: Shape, r: &Requant, seed: u64, n: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let frames: Vec<Vec<u8>> = (0..n)
        .map(|i| SplitMix64::new(seed + i).bytes(shape.len()))
        .collect();
    let want = frames
        .iter()
        .map(|f| {
            naive::avgpool(f, shape, r)
                .iter()
                .flat_map(|l| l.to_le_bytes())
                .collect()
        })
        .collect();
    (frames, want)
}

#[test]
fn avgpool_verilog() {
    let shape = Shape::new(3, 4, 6);
    // The model's logit requantizer, and a saturating one (extremes of the 16-bit clamp); the
    // model's again on ECP5 multipliers (sqf_mul_ecp5's simulation branch).
    for (tag, r) in [
        ("gap", gap_requant(shape.pixels())),
        (
            "gap_sat",
            Requant {
                mult: 65535,
                shift: 1,
            },
        ),
        ("gap_ecp5", gap_requant(shape.pixels())),
    ] {
        let gap = AvgPool::new("avgpool", shape.pixels(), 6, 2, r).unwrap();
        assert_eq!(
            ecp5_muls(&gap.with_mul_ecp5(tag == "gap_ecp5")),
            usize::from(tag == "gap_ecp5"),
            "{tag}"
        );
        let (frames, want) = gap_frames(shape, &r, 5, 2);
        check_block_verilog(
            tag,
            || {
                AvgPool::new("avgpool", shape.pixels(), 6, 2, r)
                    .unwrap()
                    .with_mul_ecp5(tag == "gap_ecp5")
            },
            &[frames.concat()],
            &[shape.len()],
            &want,
            12,
        );
    }
}

#[test]
fn avgpool_verilog_one_and_two_channel_groups() {
    // One channel group (CG = 1: the sum is read as written, every beat adds to the same
    // word) and two (a sum read a cycle ahead is the other group's, written at that edge).
    for (tag, c) in [("gap_cg1", 2), ("gap_cg2", 4)] {
        let shape = Shape::new(3, 2, c);
        let r = gap_requant(shape.pixels());
        let (frames, want) = gap_frames(shape, &r, 7, 2);
        check_block_verilog(
            tag,
            || AvgPool::new("avgpool", shape.pixels(), c, 2, r).unwrap(),
            &[frames.concat()],
            &[shape.len()],
            &want,
            2 * c,
        );
    }
}

#[test]
fn avgpool_verilog_more_logits_than_its_fifo() {
    // 20 logits a frame, more than the output FIFO holds, and a consumer that mostly refuses:
    // the sums in the requantizer's pipeline must be counted in the room for the next one.
    let shape = Shape::new(2, 3, 20);
    let r = gap_requant(shape.pixels());
    let (frames, want) = gap_frames(shape, &r, 9, 3);
    let choked = Stalls::choked(14);
    check_block_verilog_stalls(
        "gap_wide",
        || AvgPool::new("avgpool", shape.pixels(), 20, 2, r).unwrap(),
        &[frames.concat()],
        &[shape.len()],
        &want,
        40,
        &[Stalls::random(11), choked],
    );
}

#[test]
fn add_concat_gearbox_fifo_verilog() {
    let p = AddParams::from_scales(0.05, 0.11, 0.09);
    let a: Vec<Vec<u8>> = (0..2).map(|i| SplitMix64::new(30 + i).bytes(24)).collect();
    let b: Vec<Vec<u8>> = (0..2).map(|i| SplitMix64::new(40 + i).bytes(24)).collect();
    let want: Vec<Vec<u8>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| naive::add(x, y, &p))
        .collect();
    // The requantizers' products in the fabric, and on ECP5 multipliers.
    for (tag, ecp5) in [("add", false), ("add_ecp5", true)] {
        let add = BypassAdd::new("fire3.add", 4, p).with_mul_ecp5(ecp5);
        assert_eq!(ecp5_muls(&add), usize::from(ecp5), "{tag}");
        check_block_verilog(
            tag,
            || BypassAdd::new("fire3.add", 4, p).with_mul_ecp5(ecp5),
            &[a.concat(), b.concat()],
            &[24, 24],
            &want,
            24,
        );
    }

    let a: Vec<Vec<u8>> = (0..2).map(|i| SplitMix64::new(50 + i).bytes(16)).collect();
    let b: Vec<Vec<u8>> = (0..2).map(|i| SplitMix64::new(60 + i).bytes(24)).collect();
    let want: Vec<Vec<u8>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| naive::concat(x, 4, y, 6))
        .collect();
    check_block_verilog(
        "concat",
        || Concat::new(2, 4, 6).unwrap(),
        &[a.concat(), b.concat()],
        &[16, 24],
        &want,
        40,
    );

    let frames: Vec<Vec<u8>> = (0..2).map(|i| SplitMix64::new(70 + i).bytes(24)).collect();
    check_block_verilog(
        "gearbox",
        || Gearbox::new(2, 3, 24).unwrap(),
        &[frames.concat()],
        &[24],
        &frames,
        24,
    );
    // Widths with no whole-number ratio use the shift register, whose byte selects read a
    // one-hot copy of the count: widening (3 -> 4, fire6.expand1x1's converter in the 6-bit
    // fit), 3 -> 8 (fire7.expand3x3's in the XCZU7EV folding, six pop copies) and narrowing,
    // under random, no and starved-input stalls.
    for (wi, wo, fb) in [(3, 4, 48), (3, 8, 48), (5, 3, 30)] {
        let frames: Vec<Vec<u8>> = (0..4).map(|i| SplitMix64::new(90 + i).bytes(fb)).collect();
        check_block_verilog_stalls(
            &format!("gearbox_shift_{wi}_{wo}"),
            || Gearbox::new(wi, wo, fb).unwrap(),
            &[frames.concat()],
            &[fb],
            &frames,
            fb,
            &[
                Stalls::random(11),
                Stalls::NONE,
                Stalls {
                    input: 0.6,
                    output: 0.1,
                    seed: 17,
                },
            ],
        );
    }
    // Whole-number width ratios use the banked buffer: down (a bank in, a slot out) and up
    // (a slot in, a bank out), with slots of one and of several bytes. A starved input as
    // well: going down, a beat then arrives as the last slot of the one before leaves.
    let starved = Stalls {
        input: 0.6,
        output: 0.1,
        seed: 13,
    };
    for (wi, wo, fb) in [(32, 4, 64), (6, 2, 24), (4, 2, 24), (4, 12, 48), (2, 8, 32)] {
        let frames: Vec<Vec<u8>> = (0..6).map(|i| SplitMix64::new(80 + i).bytes(fb)).collect();
        let mut g = Gearbox::new(wi, wo, fb).unwrap();
        let body = squeezeflow_hw::bundle::write_block(
            &mut g,
            &squeezeflow_tests::scratch(&format!("gearbox_text_{wi}_{wo}")),
        )
        .unwrap();
        let text = std::fs::read_to_string(&body.top).unwrap();
        assert!(
            text.contains("sqf_gearbox #(") && text.contains(".BANKED(1)"),
            "{wi} -> {wo}: not banked"
        );
        check_block_verilog_stalls(
            &format!("gearbox_{wi}_{wo}"),
            || Gearbox::new(wi, wo, fb).unwrap(),
            &[frames.concat()],
            &[fb],
            &frames,
            fb,
            &[Stalls::random(11), Stalls::NONE, starved],
        );
    }
    check_block_verilog(
        "fifo",
        || StreamFifo::new(3, 8),
        &[frames.concat()],
        &[24],
        &frames,
        24,
    );
    // From 64 beats deep the head is a register read a beat ahead (sqf_out_fifo's OUT_REG):
    // 240 beats, with stalls on either side, take it through every count, empty to full.
    let many: Vec<Vec<u8>> = (0..30).map(|i| SplitMix64::new(60 + i).bytes(24)).collect();
    let backed_up = Stalls {
        input: 0.1,
        output: 0.8,
        seed: 17,
    };
    // Both forms: the memory read at the address the pop chooses, and (RADDR_REG, for LUT
    // RAM) at a register address with the pop choosing after the read.
    for raddr_reg in [false, true] {
        check_block_verilog_stalls(
            &format!("fifo_64_{raddr_reg}"),
            || StreamFifo::new(3, 64).with_raddr_reg(raddr_reg),
            &[many.concat()],
            &[24],
            &many,
            24,
            &[Stalls::random(7), Stalls::NONE, starved, backed_up],
        );
    }
}

/// How often a block's Verilog sets `ECP5_MUL = 1`.
fn ecp5_muls(block: &impl Logic) -> usize {
    match block.hdl() {
        Verilog::Custom(text) => text.matches(".ECP5_MUL(1)").count(),
        _ => 0,
    }
}
