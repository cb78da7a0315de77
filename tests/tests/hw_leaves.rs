//! Each leaf primitive's hand-written Verilog (sqf_lib.v) against its Rust model, cycle by cycle
//! in Verilator, on random values and the extremes (-128 weights, 255 activations, i32 limits,
//! multipliers 0 and 65535, every shift 1..=47), and the Rust model against the contract.

use rust_hdl::prelude::*;
use squeezeflow_hw::bundle::write_design;
use squeezeflow_hw::harness::settle;
use squeezeflow_hw::leaf::{self, MacLane, MacPair, Requantizer, WeightRom};
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::quant::{Requant, MAX_SHIFT, MIN_SHIFT};
use squeezeflow_tests::{lint_iverilog, lint_verilator, scratch, verilate};

/// Clocks a rust-hdl leaf once.
fn hdl_tick<B: Block>(b: &mut B, clock: impl Fn(&mut B) -> &mut Signal<In, Clock>) {
    clock(b).next = true.into();
    settle(b);
    clock(b).next = false.into();
    settle(b);
}

fn design_of<B: Block>(
    b: &mut B,
    tag: &str,
    mems: &[(String, String)],
) -> squeezeflow_hw::bundle::WrittenDesign {
    b.connect_all();
    let d = write_design(&generate_verilog(b), mems, &scratch(tag)).unwrap();
    lint_verilator(&d);
    lint_iverilog(&d);
    d
}

#[test]
fn requantizer_verilog_equals_model_and_contract() {
    let mut r = SplitMix64::new(1);
    let mut vectors: Vec<(i32, u16, u8)> = Vec::new();
    for shift in MIN_SHIFT..=MAX_SHIFT {
        for acc in [i32::MIN, i32::MAX, -1, 0, 1, 255, 1 << 20] {
            for mult in [0u16, 1, 32768, u16::MAX] {
                vectors.push((acc, mult, shift));
            }
        }
    }
    for _ in 0..3000 {
        vectors.push((
            r.next_u64() as i32 >> (r.next_u64() % 31),
            r.next_u64() as u16,
            MIN_SHIFT + (r.next_u64() % 47) as u8,
        ));
    }
    // The engines' chains use the fourth stage (ROUND_REG): one more cycle; on ECP5 their
    // products are in sqf_mul_ecp5 (its simulation branch here; the MULT18X18D one is checked
    // in hw_synth.rs).
    for (out_bits, round_reg, ecp5) in [
        (8u32, false, false),
        (16, false, false),
        (8, true, false),
        (8, true, true),
    ] {
        let mut hdl = Requantizer::new(out_bits)
            .with_round_reg(round_reg)
            .with_ecp5(ecp5);
        let d = design_of(
            &mut hdl,
            &format!(
                "leaf_requant{out_bits}_{}_{}",
                u8::from(round_reg),
                u8::from(ecp5)
            ),
            &[],
        );
        let model = verilate(&d);
        let mut v = model.instance();
        let (clock, acc, mult, shift, y) = (
            model.port("clock").unwrap(),
            model.port("acc").unwrap(),
            model.port("mult").unwrap(),
            model.port("shift").unwrap(),
            model.port("y").unwrap(),
        );
        let mut hdl = Requantizer::new(out_bits).with_round_reg(round_reg);
        hdl.connect_all();
        let lag = 2 + usize::from(round_reg);
        for (i, &(a, m, s)) in vectors.iter().enumerate() {
            v.set(acc, a as u32 as u64);
            v.set(mult, m as u64);
            v.set(shift, s as u64);
            v.tick(clock);
            hdl.acc.next = (a as u32 as u64).into();
            hdl.mult.next = (m as u64).into();
            hdl.shift.next = (s as u64).into();
            settle(&mut hdl);
            hdl_tick(&mut hdl, |b| &mut b.clock);
            // Latency 3 (4): after this edge, y holds the result of vector i - 2 (i - 3).
            let got_v = v.get(y);
            let got_h = hdl.y.val().to_u64();
            assert_eq!(
                got_v, got_h,
                "vector {i}: Verilog {got_v} vs Rust model {got_h}"
            );
            if i >= lag {
                let (a, m, s) = vectors[i - lag];
                let want = Requant { mult: m, shift: s }.apply(a, (1 << out_bits) - 1) as u64;
                assert_eq!(
                    got_h,
                    want,
                    "vector {}: model vs contract for {:?}",
                    i - lag,
                    (a, m, s)
                );
            }
        }
    }
}

#[test]
fn mac_lane_verilog_equals_model_and_contract() {
    // The fabric multipliers, the ECP5 ones (sqf_mul_ecp5's simulation branch; its
    // MULT18X18D branch is checked in hw_synth.rs), a stage longer (their input registers),
    // and the DSP48E2 ones (sqf_mul_dsp48e2's simulation branch, likewise).
    for (simd, ecp5, dsp) in [
        (1usize, false, false),
        (3, false, false),
        (8, false, false),
        (1, true, false),
        (3, true, false),
        (3, false, true),
    ] {
        let mut hdl = MacLane::new(simd).with_dsp48e2(dsp);
        if ecp5 {
            hdl = hdl.with_ecp5();
        }
        let d = design_of(&mut hdl, &format!("leaf_mac{simd}_{ecp5}_{dsp}"), &[]);
        let model = verilate(&d);
        let mut v = model.instance();
        let p = |n: &str| model.port(n).unwrap();
        let (clock, en, first, x, w, bias, acc) = (
            p("clock"),
            p("en"),
            p("first"),
            p("x"),
            p("w"),
            p("bias"),
            p("acc"),
        );
        let mut hdl = MacLane::new(simd);
        if ecp5 {
            hdl = hdl.with_ecp5();
        }
        hdl.connect_all();
        let mut r = SplitMix64::new(simd as u64);
        let mut expect = 0i32;
        let mut pending: std::collections::VecDeque<(bool, bool, i32, i32)> = Default::default();
        for i in 0..4000 {
            let extreme = i % 7 == 0;
            let xs: Vec<u8> = (0..simd)
                .map(|_| if extreme { 255 } else { r.next_u64() as u8 })
                .collect();
            let ws: Vec<i8> = (0..simd)
                .map(|_| if extreme { -128 } else { r.next_u64() as i8 })
                .collect();
            let pack = |b: &mut dyn Iterator<Item = u8>| {
                b.enumerate()
                    .fold(0u64, |a, (l, v)| a | (v as u64) << (8 * l))
            };
            let xw = pack(&mut xs.iter().copied());
            let ww = pack(&mut ws.iter().map(|&w| w as u8));
            let (e, f) = (
                !r.next_u64().is_multiple_of(4),
                r.next_u64().is_multiple_of(9),
            );
            let b = if i % 11 == 0 {
                i32::MIN
            } else {
                r.next_u64() as i32
            };
            for (port, val) in [
                (en, e as u64),
                (first, f as u64),
                (x, xw),
                (w, ww),
                (bias, b as u32 as u64),
            ] {
                v.set(port, val);
            }
            v.tick(clock);
            hdl.en.next = e;
            hdl.first.next = f;
            hdl.x.next = xw.into();
            hdl.w.next = ww.into();
            hdl.bias.next = (b as u32 as u64).into();
            settle(&mut hdl);
            hdl_tick(&mut hdl, |b| &mut b.clock);
            // Latency 6 (7 on ECP5): after this edge the accumulator has taken the inputs of
            // five (six) cycles ago.
            let sum: i32 = xs.iter().zip(&ws).map(|(&a, &b)| a as i32 * b as i32).sum();
            pending.push_back((e, f, b, sum));
            if pending.len() > 5 + usize::from(ecp5) {
                let (e, f, b, sum) = pending.pop_front().unwrap();
                if e {
                    expect = (if f { b } else { expect }).wrapping_add(sum);
                }
            }
            assert_eq!(v.get(acc), expect as u32 as u64, "Verilog, cycle {i}");
            assert_eq!(
                hdl.acc.val().to_u64(),
                expect as u32 as u64,
                "Rust model, cycle {i}"
            );
        }
    }
}

/// The registered stage of `sqf_mac2`: (en, first, biases, sums of products).
type PairStage = (bool, bool, (i32, i32), (i32, i32));

/// `sqf_mac2` (two PEs, two products per multiplier): Verilog, Rust model and two plain MACs
/// agree cycle by cycle, with the extremes (255 x -128 and 255 x 127 in either PE, i32 limits).
#[test]
fn mac_pair_verilog_equals_model_and_two_macs() {
    // The fabric registers, and the DSP48E2 ones (sqf_mul_dsp48e2's simulation branch; its
    // DSP48E2 branch is checked in hw_synth.rs).
    for (simd, dsp) in [(1usize, false), (3, false), (8, false), (3, true)] {
        let mut hdl = MacPair::new(simd).with_dsp48e2(dsp);
        let d = design_of(&mut hdl, &format!("leaf_mac2_{simd}_{dsp}"), &[]);
        let model = verilate(&d);
        let mut v = model.instance();
        let p = |n: &str| model.port(n).unwrap();
        let ports = [
            p("en"),
            p("first"),
            p("x"),
            p("w0"),
            p("w1"),
            p("bias0"),
            p("bias1"),
        ];
        let (clock, acc0, acc1) = (p("clock"), p("acc0"), p("acc1"));
        let mut hdl = MacPair::new(simd);
        hdl.connect_all();
        let mut r = SplitMix64::new(100 + simd as u64);
        let mut expect = (0i32, 0i32);
        let mut pending: std::collections::VecDeque<PairStage> = Default::default();
        let pack = |b: &[u8]| {
            b.iter()
                .enumerate()
                .fold(0u64, |a, (l, &v)| a | (v as u64) << (8 * l))
        };
        for i in 0..4000 {
            let (xs, w0s, w1s): (Vec<u8>, Vec<i8>, Vec<i8>) = match i % 5 {
                0 => (vec![255; simd], vec![-128; simd], vec![127; simd]),
                1 => (vec![255; simd], vec![127; simd], vec![-128; simd]),
                _ => (
                    (0..simd).map(|_| r.next_u64() as u8).collect(),
                    (0..simd).map(|_| r.next_u64() as i8).collect(),
                    (0..simd).map(|_| r.next_u64() as i8).collect(),
                ),
            };
            let xw = pack(&xs);
            let w0 = pack(&w0s.iter().map(|&w| w as u8).collect::<Vec<_>>());
            let w1 = pack(&w1s.iter().map(|&w| w as u8).collect::<Vec<_>>());
            let (e, f) = (
                !r.next_u64().is_multiple_of(4),
                r.next_u64().is_multiple_of(9),
            );
            let (b0, b1) = if i % 11 == 0 {
                (i32::MIN, i32::MAX)
            } else {
                (r.next_u64() as i32, r.next_u64() as i32)
            };
            let vals = [
                e as u64,
                f as u64,
                xw,
                w0,
                w1,
                b0 as u32 as u64,
                b1 as u32 as u64,
            ];
            for (port, val) in ports.iter().zip(vals) {
                v.set(*port, val);
            }
            v.tick(clock);
            hdl.en.next = e;
            hdl.first.next = f;
            hdl.x.next = xw.into();
            hdl.w0.next = w0.into();
            hdl.w1.next = w1.into();
            hdl.bias0.next = (b0 as u32 as u64).into();
            hdl.bias1.next = (b1 as u32 as u64).into();
            settle(&mut hdl);
            hdl_tick(&mut hdl, |b| &mut b.clock);
            // Latency 6: after this edge the accumulators have taken the inputs of five cycles ago.
            let dot =
                |ws: &[i8]| -> i32 { xs.iter().zip(ws).map(|(&a, &b)| a as i32 * b as i32).sum() };
            pending.push_back((e, f, (b0, b1), (dot(&w0s), dot(&w1s))));
            if pending.len() > 5 {
                let (e, f, (b0, b1), (d0, d1)) = pending.pop_front().unwrap();
                if e {
                    expect = (
                        (if f { b0 } else { expect.0 }).wrapping_add(d0),
                        (if f { b1 } else { expect.1 }).wrapping_add(d1),
                    );
                }
            }
            let want = (expect.0 as u32 as u64, expect.1 as u32 as u64);
            assert_eq!((v.get(acc0), v.get(acc1)), want, "Verilog, cycle {i}");
            assert_eq!(
                (hdl.acc0.val().to_u64(), hdl.acc1.val().to_u64()),
                want,
                "Rust model, cycle {i}"
            );
        }
    }
}

#[test]
fn weight_rom_verilog_reads_its_mem_file() {
    let mut r = SplitMix64::new(5);
    for (width, depth) in [(8usize, 37usize), (64, 300)] {
        let words: Vec<u64> = (0..depth)
            .map(|i| match i {
                0 => 0,
                1 => u64::MAX,
                _ => r.next_u64(),
            } & if width == 64 { u64::MAX } else { (1 << width) - 1 })
            .collect();
        let file = format!("rom{width}.mem");
        let mut hdl = WeightRom::new(words.clone(), width, &file);
        let d = design_of(
            &mut hdl,
            &format!("leaf_rom{width}"),
            &[(file.clone(), leaf::mem_text(&words, width))],
        );
        let model = verilate(&d);
        let mut v = model.instance();
        let (clock, addr, data) = (
            model.port("clock").unwrap(),
            model.port("addr").unwrap(),
            model.port("data").unwrap(),
        );
        let mut hdl = WeightRom::new(words.clone(), width, &file);
        hdl.connect_all();
        for i in 0..depth * 2 {
            let a = (i * 7919) % depth;
            v.set(addr, a as u64);
            v.tick(clock);
            hdl.addr.next = (a as u64).into();
            settle(&mut hdl);
            hdl_tick(&mut hdl, |b| &mut b.clock);
            assert_eq!(v.get(data), words[a], "Verilog word {a}");
            assert_eq!(hdl.data.val().to_u64(), words[a], "Rust model word {a}");
        }
    }
}

/// A memory of codebook indices and its decoder (`sqf_rom` + `sqf_codebook`), Verilog against
/// the Rust model and against decoding by hand: every index of every lane, 4 to 7 bits, with a
/// codebook shorter than `2^bits` (its unused indices read 0).
#[test]
fn codebook_rom_verilog_equals_model_and_decodes_every_index() {
    let mut r = SplitMix64::new(8);
    for (bits, simd) in [(4usize, 8usize), (5, 3), (6, 4), (7, 8)] {
        let n = (1usize << bits) - 3;
        let mut entries: Vec<i8> = (0..n)
            .map(|i| (i as i32 * 251 / n as i32 - 128) as i8)
            .collect();
        entries.sort_unstable();
        entries.dedup();
        // Every index in every lane, then random words.
        let depth = 1usize << bits;
        let mut words: Vec<u64> = (0..depth)
            .map(|i| (0..simd).fold(0u64, |w, l| w | ((((i + l) % depth) as u64) << (bits * l))))
            .collect();
        let mask = if bits * simd == 64 {
            u64::MAX
        } else {
            (1u64 << (bits * simd)) - 1
        };
        words.extend((0..40).map(|_| r.next_u64() & mask));
        let files = (format!("cbi{bits}.mem"), format!("cb{bits}.mem"));
        let mk = || {
            leaf::CodebookRom::new(
                words.clone(),
                simd,
                bits,
                entries.clone(),
                (&files.0, &files.1),
            )
        };
        let mut hdl = mk();
        let mems = hdl.mem_files();
        let d = design_of(&mut hdl, &format!("leaf_cb{bits}"), &mems);
        let model = verilate(&d);
        let mut v = model.instance();
        let (clock, addr, data) = (
            model.port("clock").unwrap(),
            model.port("addr").unwrap(),
            model.port("data").unwrap(),
        );
        let mut hdl = mk();
        hdl.connect_all();
        for (a, &word) in words.iter().enumerate() {
            // By hand: lane l's index, looked up (0 past the codebook's end).
            let want = (0..simd).fold(0u64, |acc, l| {
                let i = ((word >> (bits * l)) & ((1 << bits) - 1)) as usize;
                let w = if i < entries.len() {
                    entries[i] as u8
                } else {
                    0
                };
                acc | ((w as u64) << (8 * l))
            });
            v.set(addr, a as u64);
            v.tick(clock);
            hdl.addr.next = (a as u64).into();
            settle(&mut hdl);
            hdl_tick(&mut hdl, |b| &mut b.clock);
            assert_eq!(v.get(data), want, "{bits} bits: Verilog word {a}");
            assert_eq!(hdl.data.val().to_u64(), want, "{bits} bits: model word {a}");
        }
    }
}
