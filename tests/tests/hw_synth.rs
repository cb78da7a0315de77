//! Yosys maps a Fire module's weight memories to block RAM and its multipliers to DSPs.
//! The module has fire4's channel counts (SqueezeNet v1.1: 128 -> 32 -> 128 + 128) on a small
//! map (the map size changes only the line buffers), with a folding of 128 MAC lanes.

use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::device::{find_device, resources};
use squeezeflow_hw::fire::{fire_block, FireFold, Fold};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::synth::{run_yosys, Family};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::QuantModel;
use squeezeflow_tests::scratch;

#[test]
fn fire4_shaped_module_maps_to_bram_and_dsp() {
    let cfg = NetworkConfig {
        name: "fire4-shaped".into(),
        input_size: 31,
        num_classes: 4,
        conv1: Conv1Spec {
            channels: 128,
            kernel: 3,
            stride: 2,
        },
        fires: vec![FireSpec {
            squeeze: 32,
            expand1x1: 128,
            expand3x3: 128,
        }],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::None,
        meta: None,
        quantization: Default::default(),
    };
    let m = QuantModel::synthetic(&cfg, 4).unwrap();
    let f = m.network.fires().next().unwrap().clone();
    let fold = FireFold {
        squeeze: Fold { pe: 4, simd: 8 },
        expand1x1: Fold { pe: 4, simd: 8 },
        expand3x3: Fold { pe: 8, simd: 8 },
        bypass: None,
        cat_lanes: 4,
    };
    let mut g = fire_block(&f, &m, &fold, 8).unwrap();
    let dir = scratch("synth_fire4");
    write_block(&mut g, &dir).unwrap();
    let c = run_yosys(&dir, Family::Xilinx7).unwrap();
    eprintln!("fire4-shaped module, synth_xilinx -flatten: {:?}", c.cells);
    eprintln!(
        "BRAM36 {:.1}, DSP {}, LUT {}, FF {}",
        c.bram36(),
        c.dsp(),
        c.luts(),
        c.ffs()
    );
    // The 3x3 expand's eight weight ROMs (576 x 64 bits each) are block RAM.
    assert!(
        c.bram36() >= 8.0,
        "weight ROMs not in block RAM: {:?}",
        c.cells
    );
    // 128 MAC lanes in PE pairs (sqf_mac2): one DSP48E1 per lane pair, 64; plus two per
    // requantizer: each engine's PEs share one (chains of 4, 4 and 8 PEs; 16, 4 and 36 MAC
    // cycles per group), 3 instead of 16.
    let rqs: u64 = squeezeflow_hw::fire::fire_geoms(&f, &fold)
        .unwrap()
        .iter()
        .map(|g| g.requantizers() as u64)
        .sum();
    assert_eq!(rqs, 3);
    assert_eq!(c.dsp(), 128 / 2 + 2 * rqs, "DSPs: {:?}", c.cells);
    // The LUT estimate of these three engines (their layers in a plan with this folding)
    // is within 15% of Yosys' count.
    let mut hw = HardwareConfig::default();
    for (l, fd) in [
        (&f.squeeze, fold.squeeze),
        (&f.expand1x1, fold.expand1x1),
        (&f.expand3x3, fold.expand3x3),
    ] {
        hw.fold.insert(l.name.clone(), fd);
    }
    let p = plan(&m.network, &hw).unwrap();
    let dev = find_device("xc7a200t").unwrap();
    let est: u64 = resources(&m.network, &p, dev)
        .unwrap()
        .layers
        .iter()
        .filter(|l| l.name.starts_with(&format!("{}.", f.name)))
        .map(|l| l.luts)
        .sum();
    let got = c.luts();
    eprintln!("LUT estimate {est}, Yosys {got}");
    assert!(
        est.abs_diff(got) * 100 <= 15 * got,
        "LUT estimate {est} against Yosys {got}"
    );
}

/// A register written from two processes on the same clock (a mistake Verilator and Yosys for
/// Xilinx accept, and nextpnr-ecp5 refuses) is refused by `run_yosys` with the net's name, for
/// Xilinx and ECP5 alike; the same design with one process passes.
#[test]
fn a_register_with_two_drivers_is_refused_by_name() {
    let two = "module top(input wire clock, input wire reset, input wire a, output wire y);\n\
               reg twice;\n\
               always @(posedge clock) if (reset) twice <= 1'b0; else twice <= a;\n\
               always @(posedge clock) if (!reset) twice <= !a;\n\
               assign y = twice;\nendmodule\n";
    let one = two.replace("always @(posedge clock) if (!reset) twice <= !a;\n", "");
    for fam in [Family::Xilinx7, Family::Ecp5] {
        let dir = scratch(&format!("synth_two_drivers_{fam:?}"));
        std::fs::write(dir.join("sqf_lib.v"), "").unwrap();
        std::fs::write(dir.join("top.v"), two).unwrap();
        let err = run_yosys(&dir, fam).unwrap_err().to_string();
        assert!(
            err.contains("more than one driver") && err.contains("twice"),
            "{fam:?}: {err}"
        );
        std::fs::write(dir.join("top.v"), &one).unwrap();
        let c = run_yosys(&dir, fam).unwrap();
        assert!(c.ffs() >= 1, "{fam:?}: {:?}", c.cells);
    }
}
