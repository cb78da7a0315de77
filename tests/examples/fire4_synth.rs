//! Synthesizes fire4 of SqueezeNet v1.1 (the built-in model, the default folding) with Yosys and
//! prints its cycles per frame, MAC lanes and cell counts: `cargo run --release -p
//! squeezeflow-tests --example fire4_synth [MAC_BUDGET]`.
use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::fire::fire_block;
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::synth::{run_yosys, Family};

fn main() {
    let budget: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let m = squeezeflow_model::builtin::default_model();
    let p = plan(
        &m.network,
        &HardwareConfig {
            mac_budget: Some(budget),
            ..Default::default()
        },
    )
    .unwrap();
    let f = m
        .network
        .fires()
        .find(|f| f.name == "fire4")
        .unwrap()
        .clone();
    let fold = p.fire_fold(&f);
    let in_lanes = p.lanes["pool2"];
    let mut g = fire_block(&f, &m, &fold, in_lanes).unwrap();
    let lanes = fold.squeeze.pe * fold.squeeze.simd
        + fold.expand1x1.pe * fold.expand1x1.simd
        + fold.expand3x3.pe * fold.expand3x3.simd;
    println!(
        "fire4 (budget {budget}): folding {fold:?}, {lanes} MAC lanes, {} cycles/frame estimated",
        g.cycles_per_frame()
    );
    let dir = std::path::PathBuf::from(format!("target/fire4_synth_{budget}"));
    write_block(&mut g, &dir).unwrap();
    let t = std::time::Instant::now();
    let c = run_yosys(&dir, Family::Xilinx7).unwrap();
    println!(
        "yosys synth_xilinx -flatten ({:.0} s): BRAM36 {:.1}, DSP48E1 {}, LUT {}, FF {}",
        t.elapsed().as_secs_f64(),
        c.bram36(),
        c.dsp(),
        c.luts(),
        c.ffs()
    );
    println!("{:?}", c.cells);
}
