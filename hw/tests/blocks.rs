//! The streaming blocks in rust-hdl's simulator against the integer reference, with random
//! stalls on every stream, and their steady-state cycles per frame against the estimates.

use squeezeflow_hw::blocks::{AvgPool, BypassAdd, Concat, Gearbox, MaxPool, StreamFifo};
use squeezeflow_hw::harness::{run_stream, Stalls, StreamBlock, StreamRun};
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::network::{PoolLayer, Shape};
use squeezeflow_model::quant::{gap_requant, AddParams};
use squeezeflow_model::reference::naive;

/// Runs `make()` with stalls and without; checks every frame; returns the stall-free run.
fn check<B: StreamBlock>(
    mut make: impl FnMut() -> B,
    inputs: &[Vec<Vec<u8>>],
    want: &[Vec<u8>],
    out_frame: usize,
) -> StreamRun {
    let flat: Vec<Vec<u8>> = inputs.iter().map(|f| f.concat()).collect();
    let refs: Vec<&[u8]> = flat.iter().map(|v| v.as_slice()).collect();
    let sizes: Vec<usize> = inputs.iter().map(|f| f[0].len()).collect();
    let mut last = None;
    for stalls in [
        Stalls::random(3),
        Stalls {
            input: 0.6,
            output: 0.1,
            seed: 4,
        },
        Stalls::NONE,
    ] {
        let mut b = make();
        let run = run_stream(&mut b, &refs, &sizes, want.len(), out_frame, stalls, 20_000).unwrap();
        assert_eq!(run.frames, want, "{stalls:?}");
        last = Some(run);
    }
    last.unwrap()
}

fn near(measured: u64, est: u64) {
    assert!(
        measured.abs_diff(est) <= est / 100 + 4,
        "measured {measured} cycles/frame, estimated {est}"
    );
}

#[test]
fn maxpool_matches_reference_odd_and_even_maps() {
    for (h, w, c, lanes) in [
        (7, 9, 4, 2),
        (6, 8, 3, 3),
        (5, 4, 2, 1),
        (3, 3, 4, 4),
        (11, 10, 6, 2),
    ] {
        let input = Shape::new(h, w, c);
        let p = PoolLayer::max3x3("pool", input).unwrap();
        let frames: Vec<Vec<u8>> = (0..3)
            .map(|i| SplitMix64::new(10 + i).bytes(input.len()))
            .collect();
        let want: Vec<Vec<u8>> = frames.iter().map(|f| naive::maxpool(f, &p)).collect();
        let run = check(
            || MaxPool::new(&p, lanes).unwrap(),
            &[frames],
            &want,
            p.output.len(),
        );
        near(
            run.steady_cycles_per_frame().unwrap(),
            MaxPool::new(&p, lanes).unwrap().geom().cycles_per_frame(),
        );
    }
}

#[test]
fn maxpool_refuses_an_input_smaller_than_its_window() {
    // A layer built by hand (PoolLayer::max3x3 refuses it): 2 columns for a 3x3 window.
    let mut p = PoolLayer::max3x3("tiny", Shape::new(3, 3, 2)).unwrap();
    p.input = Shape::new(3, 2, 2);
    let e = MaxPool::new(&p, 1).err().expect("a 3x2 input is refused");
    assert!(e.to_string().contains("smaller than the 3x3 window"), "{e}");
}

#[test]
fn avgpool_matches_reference() {
    for (h, w, c, lanes) in [(3, 3, 10, 2), (4, 5, 6, 3), (1, 1, 4, 1), (13, 13, 8, 8)] {
        let shape = Shape::new(h, w, c);
        let r = gap_requant(shape.pixels());
        let frames: Vec<Vec<u8>> = (0..3)
            .map(|i| SplitMix64::new(20 + i).bytes(shape.len()))
            .collect();
        let want: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                naive::avgpool(f, shape, &r)
                    .iter()
                    .flat_map(|l| l.to_le_bytes())
                    .collect()
            })
            .collect();
        let make = || AvgPool::new("avgpool", shape.pixels(), c, lanes, r).unwrap();
        let run = check(make, &[frames], &want, 2 * c);
        near(
            run.steady_cycles_per_frame().unwrap(),
            make().geom().cycles_per_frame(),
        );
    }
}

#[test]
fn bypass_add_matches_reference() {
    let p = AddParams::from_scales(0.05, 0.11, 0.09);
    let a: Vec<Vec<u8>> = (0..3).map(|i| SplitMix64::new(30 + i).bytes(48)).collect();
    let b: Vec<Vec<u8>> = (0..3).map(|i| SplitMix64::new(40 + i).bytes(48)).collect();
    let want: Vec<Vec<u8>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| naive::add(x, y, &p))
        .collect();
    let run = check(|| BypassAdd::new("fire3.add", 4, p), &[a, b], &want, 48);
    near(run.steady_cycles_per_frame().unwrap(), 12);
}

#[test]
fn concat_matches_reference() {
    // 6 pixels: 4 channels from a, 6 from b, 2 lanes.
    let a: Vec<Vec<u8>> = (0..3).map(|i| SplitMix64::new(50 + i).bytes(24)).collect();
    let b: Vec<Vec<u8>> = (0..3).map(|i| SplitMix64::new(60 + i).bytes(36)).collect();
    let want: Vec<Vec<u8>> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| naive::concat(x, 4, y, 6))
        .collect();
    let run = check(|| Concat::new(2, 4, 6).unwrap(), &[a, b], &want, 60);
    near(run.steady_cycles_per_frame().unwrap(), 30);
}

#[test]
fn gearbox_and_fifo_pass_bytes_unchanged() {
    for (wi, wo) in [(1, 4), (4, 1), (2, 3), (3, 2), (4, 4)] {
        let frame = 48;
        let frames: Vec<Vec<u8>> = (0..3)
            .map(|i| SplitMix64::new(70 + i).bytes(frame))
            .collect();
        let run = check(
            || Gearbox::new(wi, wo, frame).unwrap(),
            std::slice::from_ref(&frames),
            &frames,
            frame,
        );
        near(
            run.steady_cycles_per_frame().unwrap(),
            (frame / wi.min(wo)) as u64,
        );
    }
    let frames: Vec<Vec<u8>> = (0..3).map(|i| SplitMix64::new(80 + i).bytes(40)).collect();
    check(
        || StreamFifo::new(2, 16),
        std::slice::from_ref(&frames),
        &frames,
        40,
    );
}
