//! `cargo bench -p squeezeflow-model`: the integer reference's cost on one full SqueezeNet v1.1
//! 224x224 frame (fast path, one core), and the float reference's. Prints a table and a JSON line.
//! Set `SQUEEZEFLOW_BENCH_FRAMES` to change the number of timed frames (default 20).

use std::time::Instant;

use squeezeflow_model::float::{synthetic_frame, FloatModel};
use squeezeflow_model::reference::Prepared;
use squeezeflow_model::{Network, NetworkConfig, QuantModel};

fn main() {
    let frames: usize = std::env::var("SQUEEZEFLOW_BENCH_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let cfg = NetworkConfig::squeezenet1_1();
    let macs = Network::new(&cfg).unwrap().macs();
    let t = Instant::now();
    let model = QuantModel::synthetic(&cfg, 1).unwrap();
    let synth_s = t.elapsed().as_secs_f64();
    let prepared = Prepared::new(&model);
    let inputs: Vec<Vec<u8>> = (0..4)
        .map(|i| synthetic_frame(model.network.input_shape(), i))
        .collect();
    // Warm up.
    let _ = prepared.run(&inputs[0]).unwrap();
    let t = Instant::now();
    let mut checksum = 0u64;
    for i in 0..frames {
        let tr = prepared.run(&inputs[i % inputs.len()]).unwrap();
        checksum = checksum.wrapping_add(tr.logits.iter().map(|&l| l as u64).sum::<u64>());
    }
    let int_ms = t.elapsed().as_secs_f64() * 1e3 / frames as f64;

    let fm = FloatModel::synthetic(&cfg, 1).unwrap();
    let f: Vec<f32> = inputs[0].iter().map(|&v| v as f32).collect();
    let _ = fm.run(&f).unwrap();
    let fframes = frames.div_ceil(4).max(1);
    let t = Instant::now();
    for _ in 0..fframes {
        let _ = fm.run(&f).unwrap();
    }
    let float_ms = t.elapsed().as_secs_f64() * 1e3 / fframes as f64;

    println!("squeezenet1_1 224x224, {macs} MACs, {frames} frames, one core");
    println!(
        "  integer reference (fast path): {int_ms:8.1} ms/frame  ({:.2} GMAC/s)",
        macs as f64 / int_ms / 1e6
    );
    println!("  float reference:               {float_ms:8.1} ms/frame");
    println!("  synthetic model build (calibration included): {synth_s:.2} s");
    println!(
        "{{\"bench\":\"reference\",\"network\":\"squeezenet1_1\",\"frames\":{frames},\"int_ms_per_frame\":{int_ms:.2},\"float_ms_per_frame\":{float_ms:.2},\"macs\":{macs},\"checksum\":{checksum}}}"
    );
}
