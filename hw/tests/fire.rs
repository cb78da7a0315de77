//! Fire modules (none, simple and complex bypass) in rust-hdl's simulator against the integer
//! reference, with random stalls, and their cycles per frame against the estimate.

use squeezeflow_hw::fire::{bypass_fifo_pixels, fire_block, fire_block_sized, FireFold, Fold};
use squeezeflow_hw::harness::{run_stream, Stalls};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::network::FireBypass;
use squeezeflow_model::reference::{run, Path};
use squeezeflow_model::QuantModel;

fn config(bypass: Bypass) -> NetworkConfig {
    NetworkConfig {
        name: "tiny".into(),
        input_size: 44,
        num_classes: 4,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![
            FireSpec {
                squeeze: 4,
                expand1x1: 6,
                expand3x3: 6,
            },
            FireSpec {
                squeeze: 4,
                expand1x1: 6,
                expand3x3: 6,
            },
        ],
        pool_after: vec!["conv1".into()],
        bypass,
        meta: None,
        quantization: Default::default(),
    }
}

fn check_fire(bypass: Bypass, name: &str, fold: FireFold, in_lanes: usize) -> (u64, u64) {
    let m = QuantModel::synthetic(&config(bypass), 3).unwrap();
    let f = m.network.fires().find(|f| f.name == name).unwrap().clone();
    let mut inputs = Vec::new();
    let mut want = Vec::new();
    for seed in 0..3 {
        let t = run(
            &m,
            &synthetic_frame(m.network.input_shape(), seed),
            Path::Fast,
        )
        .unwrap();
        let prev = m
            .network
            .stages
            .iter()
            .position(|s| s.name() == name)
            .unwrap()
            - 1;
        inputs.push(
            t.tensor(m.network.stages[prev].name())
                .unwrap()
                .data
                .clone(),
        );
        want.push(t.tensor(name).unwrap().data.clone());
    }
    assert!(matches!(
        (bypass, &f.bypass),
        (Bypass::None, FireBypass::None)
            | (Bypass::Simple, FireBypass::Identity)
            | (Bypass::Complex, FireBypass::Conv(_))
    ));
    let flat = inputs.concat();
    let mut steady = 0;
    for stalls in [Stalls::random(7), Stalls::NONE] {
        let mut g = fire_block(&f, &m, &fold, in_lanes).unwrap();
        let r = run_stream(
            &mut g,
            &[&flat],
            &[f.input.len()],
            3,
            f.output.len(),
            stalls,
            20_000,
        )
        .unwrap();
        assert_eq!(r.frames, want, "{name} {bypass:?} {stalls:?}");
        steady = r.steady_cycles_per_frame().unwrap();
    }
    let est = fire_block(&f, &m, &fold, in_lanes)
        .unwrap()
        .cycles_per_frame();
    (steady, est)
}

const FOLD: FireFold = FireFold {
    squeeze: Fold { pe: 2, simd: 4 },
    expand1x1: Fold { pe: 3, simd: 2 },
    expand3x3: Fold { pe: 2, simd: 4 },
    bypass: Some(Fold { pe: 4, simd: 4 }),
    cat_lanes: 2,
};

#[test]
fn fire_without_bypass() {
    let (m, e) = check_fire(Bypass::None, "fire2", FOLD, 4);
    assert!(m.abs_diff(e) <= e / 50 + 8, "measured {m}, estimated {e}");
}

#[test]
fn fire_with_simple_bypass() {
    let (m, e) = check_fire(Bypass::Simple, "fire3", FOLD, 4);
    assert!(m.abs_diff(e) <= e / 50 + 8, "measured {m}, estimated {e}");
}

#[test]
fn fire_with_complex_bypass() {
    let (m, e) = check_fire(Bypass::Complex, "fire2", FOLD, 8);
    assert!(m.abs_diff(e) <= e / 50 + 8, "measured {m}, estimated {e}");
}

/// The bypass FIFO is sized from the geometry; one row's worth is too small and deadlocks.
#[test]
fn undersized_bypass_fifo_deadlocks() {
    let m = QuantModel::synthetic(&config(Bypass::Simple), 3).unwrap();
    let f = m
        .network
        .fires()
        .find(|f| f.name == "fire3")
        .unwrap()
        .clone();
    let frame = synthetic_frame(m.network.input_shape(), 1);
    let t = run(&m, &frame, Path::Fast).unwrap();
    let input = t.tensor("fire2").unwrap().data.clone();
    let w = f.input.w;
    assert!(bypass_fifo_pixels(w) > w);
    let mut g = fire_block_sized(&f, &m, &FOLD, 4, w).unwrap();
    let e = run_stream(
        &mut g,
        &[&input],
        &[f.input.len()],
        1,
        f.output.len(),
        Stalls::NONE,
        5_000,
    )
    .unwrap_err();
    assert!(e.to_string().contains("deadlock"), "{e}");
}
