//! The convolution engine's Verilog, in Verilator, against the integer reference and against
//! its own Rust model: same stimulus, same stalls, same bytes and the same cycle counts.

use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::conv::ConvEngine;
use squeezeflow_hw::harness::{drive, run_stream, Stalls, StreamDut};
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::network::{ConvLayer, Shape};
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::quant::Requant;
use squeezeflow_model::reference::naive;
use squeezeflow_sim::stream::VerilatedStreams;
use squeezeflow_tests::{lint_all, lint_iverilog, lint_verilator, scratch, verilate};

/// Padding as wide as the kernel (whole rows of padding) is refused with a clear error.
#[test]
fn padding_of_a_whole_window_is_refused() {
    let layer = ConvLayer::new("fire2.squeeze".into(), Shape::new(4, 5, 2), 2, 1, 1, 2).unwrap();
    let q = QConv::random(&layer, 5);
    let e = ConvEngine::from_layer(&layer, &q, 1, 2, 0).err().unwrap();
    assert!(
        e.to_string()
            .contains("padding 2 is not below the kernel size 1"),
        "{e}"
    );
}

#[test]
fn conv_engine_verilog_equals_reference_and_rust_model() {
    // (tag, layer, pe, simd, PEs paired in sqf_mac2): pairs with an even and an odd PE count.
    let cases = [
        (
            "c3",
            ConvLayer::new("fire2.expand3x3".into(), Shape::new(6, 7, 4), 6, 3, 1, 1).unwrap(),
            2,
            2,
            false,
        ),
        (
            "c3p",
            ConvLayer::new("fire2.expand3x3".into(), Shape::new(6, 7, 4), 6, 3, 1, 1).unwrap(),
            2,
            2,
            true,
        ),
        (
            "c1s2p",
            ConvLayer::new("conv1".into(), Shape::new(9, 8, 3), 4, 3, 2, 0).unwrap(),
            4,
            3,
            true,
        ),
        (
            // Stride 2 with padding on an odd height: the window is clipped at the top and the
            // bottom of the frame.
            "c3s2pad",
            ConvLayer::new("conv1".into(), Shape::new(7, 9, 2), 4, 3, 2, 1).unwrap(),
            2,
            2,
            true,
        ),
        (
            // Requantizers shared along chains of 3 PEs (3 MAC cycles per group): two of them.
            "c1x1r2",
            ConvLayer::new("fire3.squeeze".into(), Shape::new(4, 5, 12), 6, 1, 1, 0).unwrap(),
            6,
            4,
            true,
        ),
        (
            // An odd PE count (one pair and one sqf_mac), both's lanes on UltraScale+
            // DSP48E2s (sqf_mul_dsp48e2, its simulation branch here).
            "c1x1p3",
            ConvLayer::new("fire3.squeeze".into(), Shape::new(5, 6, 8), 9, 1, 1, 0).unwrap(),
            3,
            4,
            true,
        ),
        (
            // One MAC cycle a window (1x1, one channel group, one output group) and stride 2:
            // every issue moves the window on, and rows of the map are skipped.
            "c1s2",
            ConvLayer::new("fire3.squeeze".into(), Shape::new(6, 5, 4), 2, 1, 2, 0).unwrap(),
            2,
            4,
            false,
        ),
        (
            // A parameter ROM of 520 words, in block RAM: it reads each word a cycle early,
            // into the requantizer's input registers (MULT_REG).
            "qbram",
            ConvLayer::new("conv10".into(), Shape::new(2, 3, 4), 520, 1, 1, 0).unwrap(),
            1,
            4,
            false,
        ),
        (
            // The 520-word weight ROM in block RAM split into banks of 128 words (the last of
            // 8): each bank read at the next address, its word registered, then picked
            // (sqf_bank_pick), as on ECP5; the MAC lane's and the requantizer's products in
            // ECP5 multipliers (sqf_mul_ecp5, its simulation branch here).
            "banks",
            ConvLayer::new("conv10".into(), Shape::new(2, 3, 4), 520, 1, 1, 0).unwrap(),
            1,
            4,
            false,
        ),
        (
            // Stride 2 with padding (as c3s2pad) on ECP5 multipliers, the line buffer read at
            // the tap's address register and its word a cycle late (LB_REG 2): the MACs two
            // stages longer.
            "c3s2e",
            ConvLayer::new("conv1".into(), Shape::new(7, 9, 2), 4, 3, 2, 1).unwrap(),
            2,
            2,
            false,
        ),
        (
            // The same ROM in one block RAM with the MAC lane and the requantizers on ECP5
            // multipliers: the MAC a stage longer (its multipliers' input registers).
            "ecp5",
            ConvLayer::new("conv10".into(), Shape::new(2, 3, 4), 520, 1, 1, 0).unwrap(),
            1,
            4,
            false,
        ),
        (
            // Requantizer shifts 19..24 (see below), a few in each chain, with multipliers that
            // often saturate.
            "spans",
            ConvLayer::new("fire3.squeeze".into(), Shape::new(4, 5, 8), 12, 1, 1, 0).unwrap(),
            6,
            4,
            false,
        ),
        (
            // Weight ROMs in logic of 72 words of 64 bits: each reads its two halves at
            // register copies of the address of their own (SPLIT 32).
            "split",
            ConvLayer::new("fire2.expand3x3".into(), Shape::new(4, 4, 16), 8, 3, 1, 1).unwrap(),
            2,
            8,
            false,
        ),
        (
            // Rows of two beats (1x1, one channel group, width 2): the tightest case for a
            // line buffer read a cycle early (LB_REG, below), whose first tap of a row reads
            // the beat written one edge before the row's last.
            "c1w2",
            ConvLayer::new("fire3.squeeze".into(), Shape::new(4, 2, 4), 2, 1, 1, 0).unwrap(),
            2,
            4,
            false,
        ),
        (
            // One output row a frame: every row's move is the frame's end.
            "ho1",
            ConvLayer::new("fire2.expand3x3".into(), Shape::new(3, 5, 2), 2, 3, 1, 0).unwrap(),
            2,
            2,
            false,
        ),
    ];
    for (tag, layer, pe, simd, pairs) in cases {
        let mut q = QConv::random(&layer, 5);
        if tag == "spans" {
            for (c, r) in q.requant.iter_mut().enumerate() {
                *r = Requant {
                    mult: (40_000 + 4_001 * c) as u16,
                    shift: 19 + (c % 6) as u8,
                };
            }
        }
        // One case with its weight ROMs in LUTs (sqf_rom_lut): the same contents and timing.
        // c1s2 and ho1 run 8 frames: a wrong step of the rows held at a frame's end only
        // throttles the writer (and shows in the timing) after a few frames.
        let frames = if matches!(tag, "c1s2" | "ho1") { 8 } else { 3 };
        check_engine(tag, &layer, &q, (pe, simd), pairs, tag == "c1x1r2", frames);
    }
}

/// Layers of codebook indices (Deep Compression): the weight memories hold `k`-bit indices and
/// `sqf_codebook` decodes them; the Verilog equals the reference and the Rust model, bytes and
/// cycles, with words of 4 to 7 bits a lane (up to 56-bit words), paired MACs and LUT ROMs.
#[test]
fn conv_engine_with_codebook_weights_equals_reference_and_rust_model() {
    let coded = |name: &str, input: Shape, cout, (k, s, p), bits| {
        let mut l = ConvLayer::new(name.into(), input, cout, k, s, p).unwrap();
        l.weight_bits = bits;
        l
    };
    // (tag, layer, pe, simd, pairs, weight ROMs in LUTs); the PEs a shared index ROM serves
    // (by hand: the fewest 36-bit columns a PE, words up to 288 bits) in `groups`.
    let cases = [
        (
            "b4",
            coded("fire2.expand3x3", Shape::new(6, 7, 4), 6, (3, 1, 1), 4),
            2,
            2,
            true,
            false,
        ),
        (
            "b7",
            coded("fire3.squeeze", Shape::new(4, 5, 16), 8, (1, 1, 0), 7),
            4,
            8,
            false,
            false,
        ),
        (
            "b6l",
            coded("conv1", Shape::new(9, 8, 3), 4, (3, 2, 0), 6),
            4,
            3,
            true,
            true,
        ),
        (
            "b5",
            coded("conv10", Shape::new(3, 4, 8), 10, (1, 1, 0), 5),
            5,
            4,
            false,
            false,
        ),
        (
            // 576 words: an index ROM in block RAM, read a cycle early into registers in
            // front of the decoders.
            "b4bram",
            coded("fire2.expand3x3", Shape::new(3, 3, 64), 4, (3, 1, 1), 4),
            2,
            2,
            false,
            false,
        ),
    ];
    let groups = [2, 4, 2, 5, 2];
    for ((tag, layer, pe, simd, pairs, lut), group) in cases.into_iter().zip(groups) {
        let bits = layer.weight_bits;
        let mut q = QConv::random_for(&layer, 7);
        if tag == "b4bram" {
            // Sums of 576 products: biases that take off a mid-grey input's sum and a small
            // factor keep the bytes off the clamp, so that a weight a cycle late shows.
            let per = q.weights.len() / q.bias.len();
            for (c, b) in q.bias.iter_mut().enumerate() {
                *b = -127
                    * q.weights[c * per..(c + 1) * per]
                        .iter()
                        .map(|&w| i32::from(w))
                        .sum::<i32>();
            }
            for r in q.requant.iter_mut() {
                *r = Requant::from_real(1.0 / 1500.0);
            }
        }
        let book = q.codebook.as_ref().unwrap();
        assert_eq!(book.entries.len(), 1 << bits, "{tag}: every index used");
        assert!(book.entries.contains(&-128) && book.entries.contains(&127));
        let e = ConvEngine::from_layer(&layer, &q, pe, simd, 0).unwrap();
        assert_eq!(design_text_count(&e, "sqf_codebook #"), pe, "{tag}");
        assert_eq!(e.geom().rom_group(), group, "{tag}");
        assert_eq!(
            design_text_count(&e, "wq0 <= wi0;"),
            usize::from(tag == "b4bram"),
            "{tag}: indices registered in front of the decoder"
        );
        let files = e.mem_files();
        let roms: Vec<_> = files.iter().filter(|f| f.0.contains("_wg")).collect();
        assert_eq!(roms.len(), pe / group, "{tag}: one index ROM a group");
        assert!(!files.iter().any(|f| f.0.ends_with("_w0.mem")), "{tag}");
        assert_eq!(
            roms[0].1.lines().next().unwrap().len(),
            (group * bits as usize * simd).div_ceil(4),
            "{tag}: index words of the group"
        );
        // The group's word holds PE 0's indices in its low bits: decode PE 0's first word by
        // hand and compare with the layer's first weights (output channel 0, input channels
        // 0..simd, tap 0).
        let word = &roms[0].1.lines().next().unwrap();
        let low = u128::from_str_radix(&word[word.len().saturating_sub(32)..], 16).unwrap();
        for l in 0..simd {
            let idx = (low >> (bits as usize * l)) as usize & ((1 << bits) - 1);
            let kk = layer.kernel * layer.kernel;
            let w = q.weights[l * kk];
            assert_eq!(book.entries[idx], w, "{tag}: lane {l}");
        }
        assert!(files.iter().any(|f| f.0.ends_with("_cb.mem")), "{tag}");
        check_engine(tag, &layer, &q, (pe, simd), pairs, lut, 3);
    }
    // A model whose storage disagrees with the network is refused, not misread.
    let layer = ConvLayer::new("c".into(), Shape::new(3, 3, 4), 2, 1, 1, 0).unwrap();
    let mut coded = layer.clone();
    coded.weight_bits = 5;
    let e = ConvEngine::from_layer(&coded, &QConv::random(&layer, 1), 1, 2, 0).err();
    assert!(
        e.unwrap()
            .to_string()
            .contains("stores 8-bit weights, the network says 5 bits"),
        "mismatch"
    );
}

/// One engine in Verilator and in rust-hdl against the reference, with and without stalls:
/// same bytes, same cycles.
/// The cases whose line buffer is read a cycle early and its word registered, as on ECP5
/// (`sqf_conv_ctrl`'s `LB_REG`): padding on either side, stride 2 with skipped rows, short rows,
/// one output row a frame, and the ECP5 cases (read at the address register, a cycle late).
const LB_REG: [&str; 7] = ["c3s2pad", "c1s2", "c1w2", "ho1", "banks", "c3p", "c3s2e"];
/// The cases on ECP5 multipliers.
const ECP5_MUL: [&str; 3] = ["banks", "ecp5", "c3s2e"];

fn check_engine(
    tag: &str,
    layer: &ConvLayer,
    q: &QConv,
    (pe, simd): (usize, usize),
    pairs: bool,
    lut_roms: bool,
    n_frames: usize,
) {
    {
        let mut r = SplitMix64::new(9);
        let frames: Vec<Vec<u8>> = (0..n_frames)
            .map(|_| (0..layer.input.len()).map(|_| r.next_u64() as u8).collect())
            .collect();
        let want: Vec<Vec<u8>> = frames.iter().map(|f| naive::conv(f, layer, q)).collect();
        let flat = frames.concat();
        let mut block = ConvEngine::from_layer(layer, q, pe, simd, 0)
            .unwrap()
            .with_pairs(pairs)
            .with_rom_logic(lut_roms)
            .with_rom_bank_words(if tag == "banks" { 128 } else { 0 })
            .with_mul_ecp5(ECP5_MUL.contains(&tag))
            .with_dsp48e2(tag == "c1x1p3")
            .with_lb_reg(LB_REG.contains(&tag));
        // Read a cycle early (1), or on ECP5 multipliers a cycle late (2, the MACs' other
        // inputs a register later).
        let lb_mode = match (LB_REG.contains(&tag), ECP5_MUL.contains(&tag)) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        assert_eq!(
            design_text_count(&block, ".LB_REG(1)"),
            usize::from(lb_mode == 1),
            "{tag}: line buffer read a cycle early"
        );
        assert_eq!(
            design_text_count(&block, ".LB_REG(2)"),
            usize::from(lb_mode == 2),
            "{tag}: line buffer read at its address register"
        );
        assert_eq!(
            design_text_count(&block, ".X_LATE(1)"),
            if lb_mode == 2 { pe } else { 0 },
            "{tag}: MACs taking the activations a cycle late"
        );
        // The bias ROMs read register copies of the output group, one for every 4 PEs.
        assert_eq!(
            design_text_count(&block, "<= grp_next;"),
            pe.div_ceil(4),
            "{tag}: output group copies"
        );
        let n_mac2 = design_text_count(&block, "sqf_mac2 #");
        assert_eq!(
            n_mac2,
            if pairs { pe / 2 } else { 0 },
            "{tag}: sqf_mac2 instances"
        );
        assert_eq!(
            design_text_count(&block, "sqf_rom_lut #"),
            if lut_roms {
                pe / block.geom().rom_group()
            } else {
                0
            },
            "{tag}: sqf_rom_lut instances"
        );
        assert_eq!(
            design_text_count(&block, ".MULT_REG(1)"),
            usize::from(matches!(tag, "qbram" | "banks" | "ecp5")),
            "{tag}: requantizers taking their word a cycle early"
        );
        assert_eq!(
            design_text_count(&block, "sqf_bank_pick #"),
            if tag == "banks" { pe } else { 0 },
            "{tag}: weight ROMs in banks"
        );
        assert_eq!(
            design_text_count(&block, ".DSP48E2(1)"),
            if tag == "c1x1p3" { 2 } else { 0 },
            "{tag}: the pair and the odd PE on DSP48E2s"
        );
        // On ECP5 multipliers the requantizers' operands enter their input registers.
        assert_eq!(
            design_text_count(&block, ".MUL_IN_REG(1)"),
            if ECP5_MUL.contains(&tag) {
                block.geom().requantizers()
            } else {
                0
            },
            "{tag}: requantizers with input registers"
        );
        if tag == "ecp5" {
            assert_eq!(block.geom().rom_banks(), None, "{tag}");
            assert_eq!(design_text_count(&block, ".ECP5_MUL(1)"), 2, "{tag}");
        }
        if tag == "banks" {
            assert_eq!(block.geom().rom_banks(), Some((128, 5)), "{tag}");
            // One MAC lane and one requantizer chain on ECP5 multipliers.
            assert_eq!(design_text_count(&block, ".ECP5_MUL(1)"), 2, "{tag}");
        }
        if tag == "split" {
            assert_eq!(block.geom().rom_depth(), 72, "{tag}");
            assert_eq!(design_text_count(&block, ".SPLIT(32)"), pe, "{tag}");
            assert_eq!(
                design_text_count(&block, "<= w_addr_next;"),
                2 * pe,
                "{tag}: address copies"
            );
        }
        let design = write_block(&mut block, &scratch(&format!("conv_{tag}"))).unwrap();
        lint_all(&design);
        let model = verilate(&design);
        let mut fresh = Vec::new();
        for stalls in [Stalls::random(21), Stalls::NONE, Stalls::choked(7)] {
            let mut dut = VerilatedStreams::new(&model, &["s_axis"], "m_axis").unwrap();
            let v = drive(
                &mut dut,
                &[&flat],
                &[layer.input.len()],
                n_frames,
                layer.output.len(),
                stalls,
                50_000,
            )
            .unwrap();
            assert_eq!(
                v.frames, want,
                "{tag}: Verilog output differs from the reference ({stalls:?})"
            );
            let mut hdl = ConvEngine::from_layer(layer, q, pe, simd, 0)
                .unwrap()
                .with_pairs(pairs)
                .with_mul_ecp5(block.geom().mul_ecp5)
                .with_lb_reg(block.geom().lb_reg);
            let h = run_stream(
                &mut hdl,
                &[&flat],
                &[layer.input.len()],
                n_frames,
                layer.output.len(),
                stalls,
                50_000,
            )
            .unwrap();
            assert_eq!(h.frames, want);
            assert_eq!(
                v.frame_done, h.frame_done,
                "{tag}: Verilog and Rust model differ in timing"
            );
            fresh.push(v.frame_done);
        }
        // A reset in the middle of a frame (its second, half streamed in, with the output FIFO
        // filled by a consumer that mostly refuses; `drive` resets first): afterwards the
        // engine streams as it does from power-up, byte and cycle.
        let mut dut = VerilatedStreams::new(&model, &["s_axis"], "m_axis").unwrap();
        let n = layer.input.len();
        let lanes = dut.input_lanes()[0];
        drive(
            &mut dut,
            &[&flat[..n + n / 2 / lanes * lanes]],
            &[n],
            1,
            layer.output.len(),
            Stalls::choked(3),
            50_000,
        )
        .unwrap();
        let v = drive(
            &mut dut,
            &[&flat],
            &[n],
            n_frames,
            layer.output.len(),
            Stalls::random(21),
            50_000,
        )
        .unwrap();
        assert_eq!(v.frames, want, "{tag}: output after a reset mid-frame");
        assert_eq!(
            v.frame_done, fresh[0],
            "{tag}: timing after a reset mid-frame"
        );
    }
}

/// How often `pat` occurs in the engine's Verilog body.
fn design_text_count(e: &ConvEngine, pat: &str) -> usize {
    e.verilog_body().matches(pat).count()
}

/// Weights in RAM filled through the load port: after loading, the Verilog and the Rust model
/// equal the reference (with the same timing); words for another engine's memory or past the
/// end of the memory change nothing; without the load, the output is wrong.
#[test]
fn conv_engine_with_loaded_weights_equals_reference() {
    check_loaded(8, "conv_load");
    // Codebook indices in the loaded RAMs (10-bit words), decoded after them.
    check_loaded(5, "conv_load_cb");
}

fn check_loaded(bits: u8, tag: &str) {
    use squeezeflow_hw::harness::{drive_loaded, HdlDut};
    use squeezeflow_hw::load::{read_words, LoadWord};
    let mut layer =
        ConvLayer::new("fire2.expand3x3".into(), Shape::new(5, 6, 4), 6, 3, 1, 1).unwrap();
    layer.weight_bits = bits;
    let (pe, simd, base) = (3, 2, 7u16);
    let q = QConv::random_for(&layer, 11);
    let mut r = SplitMix64::new(3);
    let frames: Vec<Vec<u8>> = (0..2)
        .map(|_| (0..layer.input.len()).map(|_| r.next_u64() as u8).collect())
        .collect();
    let want: Vec<Vec<u8>> = frames.iter().map(|f| naive::conv(f, &layer, &q)).collect();
    let flat = frames.concat();
    let engine = || {
        ConvEngine::from_layer(&layer, &q, pe, simd, 0)
            .unwrap()
            .with_pairs(true)
            .with_load(Some(base))
            .unwrap()
    };
    let mut block = engine();
    let mems = block.load_memories();
    assert_eq!(mems.len(), pe);
    assert_eq!(
        mems.iter().map(|m| m.sel).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    let files = block.mem_files();
    let mut words = Vec::new();
    for m in &mems {
        let text = &files.iter().find(|(n, _)| n == &m.file).unwrap().1;
        words.extend(read_words(m, text).unwrap());
    }
    assert_eq!(words.len(), pe * block.geom().rom_depth());
    assert!(mems.iter().all(|m| m.width == simd * bits as usize));
    // Stray words: another engine's memories (just outside this one's numbers) and an
    // address past the end; they must not land anywhere.
    let depth = block.geom().rom_depth() as u16;
    let stray = [
        LoadWord {
            sel: base - 1,
            addr: 0,
            data: u64::MAX,
        },
        LoadWord {
            sel: base + pe as u16,
            addr: 1,
            data: u64::MAX,
        },
        LoadWord {
            sel: base,
            addr: depth,
            data: u64::MAX,
        },
    ];
    let mut all = stray.to_vec();
    all.extend(&words);
    all.extend(stray);
    // The weight memories are RAMs behind the load port (sqf_wmem_loaded holds an sqf_ram),
    // beside the control's line-buffer RAM.
    assert_eq!(
        design_text_count(&block, "sqf_wmem_loaded #"),
        pe,
        "weight RAMs"
    );
    assert_eq!(design_text_count(&block, "sqf_conv_ctrl #"), 1);
    assert_eq!(design_text_count(&block, "sqf_rom #(.WIDTH(16)"), 0);
    let design = write_block(&mut block, &scratch(tag)).unwrap();
    lint_verilator(&design);
    lint_iverilog(&design);
    let model = verilate(&design);
    let run = |load: &[LoadWord], verilog: bool, stalls: Stalls| {
        let args = (
            &[&flat[..]][..],
            &[layer.input.len()][..],
            2,
            layer.output.len(),
        );
        if verilog {
            let mut dut = VerilatedStreams::new(&model, &["s_axis"], "m_axis").unwrap();
            drive_loaded(
                &mut dut, load, args.0, args.1, args.2, args.3, stalls, 50_000,
            )
            .unwrap()
        } else {
            let mut e = engine();
            drive_loaded(
                &mut HdlDut(&mut e),
                load,
                args.0,
                args.1,
                args.2,
                args.3,
                stalls,
                50_000,
            )
            .unwrap()
        }
    };
    for stalls in [Stalls::random(5), Stalls::NONE] {
        let v = run(&all, true, stalls);
        assert_eq!(v.frames, want, "Verilog with loaded weights ({stalls:?})");
        let h = run(&all, false, stalls);
        assert_eq!(
            h.frames, want,
            "Rust model with loaded weights ({stalls:?})"
        );
        assert_eq!(v.frame_done, h.frame_done, "timing");
    }
    // Nothing loaded: every weight reads 0, and the output is not the reference's.
    let v = run(&[], true, Stalls::NONE);
    let h = run(&[], false, Stalls::NONE);
    assert_eq!(v.frames, h.frames);
    assert_ne!(
        v.frames, want,
        "an engine without its weights cannot be right"
    );
}
