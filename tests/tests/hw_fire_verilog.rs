//! A Fire module with a simple bypass, as Verilog in Verilator: equal to the integer reference
//! and to its Rust model cycle for cycle, with random stalls; lint-clean.

use squeezeflow_hw::fire::{fire_block, FireFold, Fold};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::reference::{run, Path};
use squeezeflow_model::QuantModel;
use squeezeflow_tests::check_block_verilog;

#[test]
fn fire_with_bypass_verilog() {
    let cfg = NetworkConfig {
        name: "tiny".into(),
        input_size: 32,
        num_classes: 4,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![
            FireSpec {
                squeeze: 4,
                expand1x1: 4,
                expand3x3: 4,
            },
            FireSpec {
                squeeze: 4,
                expand1x1: 4,
                expand3x3: 4,
            },
        ],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::Simple,
        meta: None,
        quantization: Default::default(),
    };
    let m = QuantModel::synthetic(&cfg, 8).unwrap();
    let f = m
        .network
        .fires()
        .find(|f| f.name == "fire3")
        .unwrap()
        .clone();
    let (mut ins, mut want) = (Vec::new(), Vec::new());
    for seed in 0..2 {
        let t = run(
            &m,
            &synthetic_frame(m.network.input_shape(), seed),
            Path::Fast,
        )
        .unwrap();
        ins.push(t.tensor("fire2").unwrap().data.clone());
        want.push(t.tensor("fire3").unwrap().data.clone());
    }
    let fold = FireFold {
        squeeze: Fold { pe: 2, simd: 4 },
        expand1x1: Fold { pe: 2, simd: 2 },
        expand3x3: Fold { pe: 4, simd: 4 },
        bypass: None,
        cat_lanes: 2,
    };
    check_block_verilog(
        "fire3",
        || fire_block(&f, &m, &fold, 4).unwrap(),
        &[ins.concat()],
        &[f.input.len()],
        &want,
        f.output.len(),
    );
}
