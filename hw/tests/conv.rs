//! The convolution engine in rust-hdl's simulator against the integer reference, with random
//! stalls on both streams, and its steady-state cycles per frame against the estimate.

use squeezeflow_hw::conv::ConvEngine;
use squeezeflow_hw::harness::{run_stream, Stalls};
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::network::{ConvLayer, Shape};
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::reference::naive;

fn frames(shape: Shape, n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut r = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            (0..shape.len())
                .map(|i| match r.next_u64() % 8 {
                    0 => 0,
                    1 => 255,
                    _ => (r.next_u64() as u8) ^ (i as u8),
                })
                .collect()
        })
        .collect()
}

/// Runs one layer; returns the measured steady-state cycles per frame without stalls.
fn check(layer: ConvLayer, pe: usize, simd: usize, seed: u64) -> (u64, u64) {
    // Random int8 weights, or from a random codebook when the layer stores indices.
    let q = QConv::random_for(&layer, seed);
    let ins = frames(layer.input, 3, seed + 1);
    let want: Vec<Vec<u8>> = ins.iter().map(|f| naive::conv(f, &layer, &q)).collect();
    let flat: Vec<u8> = ins.concat();
    for stalls in [Stalls::random(seed), Stalls::NONE] {
        let mut e = ConvEngine::from_layer(&layer, &q, pe, simd, 0).unwrap();
        let run = run_stream(
            &mut e,
            &[&flat],
            &[layer.input.len()],
            ins.len(),
            layer.output.len(),
            stalls,
            100_000,
        )
        .unwrap();
        for (i, (got, want)) in run.frames.iter().zip(&want).enumerate() {
            assert_eq!(
                got, want,
                "{}: frame {i} differs (pe {pe}, simd {simd}, {stalls:?})",
                layer.name
            );
        }
        if stalls.input == 0.0 {
            let est = e.geom().cycles_per_frame();
            return (run.steady_cycles_per_frame().unwrap(), est);
        }
    }
    unreachable!()
}

fn layer(h: usize, w: usize, cin: usize, cout: usize, k: usize, s: usize, p: usize) -> ConvLayer {
    ConvLayer::new("t.conv".into(), Shape::new(h, w, cin), cout, k, s, p).unwrap()
}

#[test]
fn conv3x3_pad1_matches_reference_and_estimate() {
    let (measured, est) = check(layer(7, 9, 4, 6, 3, 1, 1), 2, 2, 1);
    let tol = est / 100 + 4;
    assert!(
        measured.abs_diff(est) <= tol,
        "measured {measured}, estimated {est}"
    );
}

#[test]
fn conv1x1_fully_parallel_is_output_bound() {
    // simd = cin: one cycle per output group; the output stream (one beat a cycle) bounds it.
    let (measured, est) = check(layer(5, 6, 8, 8, 1, 1, 0), 2, 8, 2);
    assert!(
        measured.abs_diff(est) <= est / 100 + 4,
        "measured {measured}, estimated {est}"
    );
}

#[test]
fn conv_stride2_no_pad_like_conv1() {
    let (measured, est) = check(layer(11, 10, 3, 4, 3, 2, 0), 4, 3, 3);
    assert!(
        measured.abs_diff(est) <= est / 100 + 4,
        "measured {measured}, estimated {est}"
    );
}

#[test]
fn conv7x7_stride2_like_squeezenet1_0() {
    let (measured, est) = check(layer(13, 13, 3, 2, 7, 2, 0), 1, 1, 4);
    assert!(
        measured.abs_diff(est) <= est / 100 + 4,
        "measured {measured}, estimated {est}"
    );
}

#[test]
fn random_geometries() {
    let mut r = SplitMix64::new(77);
    for case in 0..12 {
        let k = [1, 3, 3, 5][(r.next_u64() % 4) as usize];
        let s = 1 + (r.next_u64() % 2) as usize;
        let p = (r.next_u64() % (k as u64 / 2 + 1)) as usize;
        let h = k + (r.next_u64() % 6) as usize;
        let w = k + (r.next_u64() % 6) as usize;
        let cin = [1, 2, 3, 4, 6, 8][(r.next_u64() % 6) as usize];
        let cout = [1, 2, 4, 5, 6][(r.next_u64() % 5) as usize];
        let simd = (1..=cin)
            .filter(|d| cin % d == 0)
            .nth((r.next_u64() % 2) as usize)
            .unwrap_or(1);
        let pe = (1..=cout).rfind(|d| cout % d == 0).unwrap();
        let l = layer(h, w, cin, cout, k, s, p);
        let (m, e) = check(l.clone(), pe, simd, 100 + case);
        assert!(
            m.abs_diff(e) <= e / 100 + 6,
            "case {case} {l:?}: measured {m}, estimated {e}"
        );
    }
}

/// Layers of codebook indices: the engine decodes them (`sqf_codebook`'s model) to the
/// reference's bytes, with the same cycles a frame as int8 weights (the estimate).
#[test]
fn codebook_layers_match_reference_and_estimate() {
    for (case, (bits, k, s, p, cin, cout, pe, simd)) in [
        (4u8, 3, 1, 1, 4, 6, 3, 2),
        (5, 1, 1, 0, 8, 4, 2, 8),
        (6, 3, 2, 0, 3, 4, 4, 3),
        (7, 1, 1, 0, 6, 5, 5, 6),
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = layer(6, 7, cin, cout, k, s, p);
        l.weight_bits = bits;
        let g = squeezeflow_hw::conv::ConvGeom::new(&l, pe, simd, 0).unwrap();
        assert_eq!(g.weight_word_bits(), bits as usize * simd);
        let (m, e) = check(l.clone(), pe, simd, 300 + case as u64);
        let mut dense = l.clone();
        dense.weight_bits = 8;
        let ge = squeezeflow_hw::conv::ConvGeom::new(&dense, pe, simd, 0).unwrap();
        assert_eq!(e, ge.cycles_per_frame());
        assert!(
            m.abs_diff(e) <= e / 100 + 6,
            "{l:?}: measured {m}, estimated {e}"
        );
    }
}

/// A codebook layer stored decoded (the fit's choice where decoders would overflow the LUTs):
/// int8 words, no decoder, the same bytes.
#[test]
fn a_codebook_layer_stored_decoded_equals_the_reference() {
    let mut l = layer(6, 7, 4, 6, 3, 1, 1);
    l.weight_bits = 5;
    let q = QConv::random_for(&l, 9);
    let ins = frames(l.input, 2, 10);
    let e = ConvEngine::from_layer(&l, &q, 3, 2, 0)
        .unwrap()
        .with_decoded_weights(true);
    assert_eq!(e.geom().wbits, 8);
    assert!(!e.verilog_body().contains("sqf_codebook"));
    let w0 = e
        .mem_files()
        .into_iter()
        .find(|f| f.0.ends_with("_w0.mem"))
        .unwrap();
    assert_eq!(
        w0.1.lines().next().unwrap().len(),
        4,
        "int8 words of 2 lanes"
    );
    let mut e = e;
    let run = run_stream(
        &mut e,
        &[&ins.concat()],
        &[l.input.len()],
        2,
        l.output.len(),
        Stalls::random(4),
        100_000,
    )
    .unwrap();
    for (got, f) in run.frames.iter().zip(&ins) {
        assert_eq!(got, &naive::conv(f, &l, &q));
    }
}

#[test]
fn requantizers_shared_along_chains() {
    // pe 6 with 3 and 2 MAC cycles per group: chains of 3 (two requantizers) and of 2 (three).
    for (cin, share, rqs) in [(12, 3, 2), (8, 2, 3)] {
        let l = layer(5, 6, cin, 6, 1, 1, 0);
        let g = squeezeflow_hw::conv::ConvGeom::new(&l, 6, 4, 0).unwrap();
        assert_eq!((g.rq_share(), g.requantizers()), (share, rqs));
        let (m, e) = check(l, 6, 4, 5 + cin as u64);
        assert!(m.abs_diff(e) <= e / 100 + 4, "measured {m}, estimated {e}");
    }
    // A share is a divisor of pe, at most the group's MAC cycles: 1x1 over 16 channels in
    // groups of 8 (2 cycles) with pe 5 cannot share (5 has no divisor 2).
    let g = squeezeflow_hw::conv::ConvGeom::new(&layer(3, 3, 16, 5, 1, 1, 0), 5, 8, 0).unwrap();
    assert_eq!((g.rq_share(), g.requantizers()), (1, 5));
    let g = squeezeflow_hw::conv::ConvGeom::new(&layer(3, 3, 16, 10, 3, 1, 1), 10, 8, 0).unwrap();
    assert_eq!((g.rq_share(), g.requantizers()), (10, 1));
}
