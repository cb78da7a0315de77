//! Folding chosen for a MAC budget: within budget, balanced (utilisation), overrides kept.

use squeezeflow_hw::fire::Fold;
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::network::estimate;
use squeezeflow_model::{NetworkConfig, QuantModel};

#[test]
fn squeezenet1_1_default_folding_is_balanced() {
    let m = QuantModel::synthetic(&NetworkConfig::squeezenet1_1(), 1).unwrap();
    for budget in [128usize, 256, 512, 1024, 2048] {
        let hw = HardwareConfig {
            mac_budget: Some(budget),
            ..Default::default()
        };
        let p = plan(&m.network, &hw).unwrap();
        let e = estimate(&m, &p).unwrap();
        eprintln!(
            "budget {budget}: {} lanes, {} cycles/frame, utilisation {:.3}",
            e.mac_lanes, e.cycles_per_frame, e.mac_utilization
        );
        assert!(e.mac_lanes <= budget);
        if budget == 256 {
            for l in &e.layers {
                eprintln!(
                    "  {:<20} {:?} {:?} {:?} lanes {:>4} cycles {:>9}",
                    l.name, l.pe, l.simd, l.lanes, l.mac_lanes, l.cycles_per_frame
                );
            }
            assert!(
                e.mac_utilization >= 0.8,
                "utilisation {}",
                e.mac_utilization
            );
        }
    }
}

#[test]
fn overrides_are_kept_and_checked() {
    let m = QuantModel::synthetic(&NetworkConfig::squeezenet1_1(), 1).unwrap();
    let hw = HardwareConfig::from_toml_str(
        "[hardware]\nmac_budget = 300\n[hardware.fold]\n\"fire2.squeeze\" = { pe = 2, simd = 8 }\n",
    )
    .unwrap();
    let p = plan(&m.network, &hw).unwrap();
    assert_eq!(p.fold["fire2.squeeze"], Fold { pe: 2, simd: 8 });
    let bad = HardwareConfig::from_toml_str(
        "[hardware.fold]\n\"fire2.squeeze\" = { pe = 3, simd = 8 }\n",
    )
    .unwrap();
    let e = plan(&m.network, &bad).unwrap_err().to_string();
    assert!(e.contains("fire2.squeeze") && e.contains("pe = 3"), "{e}");
    let e = HardwareConfig::from_toml_str("[hardware]\nmac_budgett = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("mac_budgett"), "{e}");
}

#[test]
fn rom_logic_names_a_convolution() {
    let m = QuantModel::synthetic(&NetworkConfig::squeezenet1_1(), 1).unwrap();
    let hw = HardwareConfig::from_toml_str("[hardware]\nrom_logic = [\"conv10\"]\n").unwrap();
    let p = plan(&m.network, &hw).unwrap();
    assert!(p.rom_logic.contains("conv10"));
    let bad = HardwareConfig::from_toml_str("[hardware]\nrom_logic = [\"pool1\"]\n").unwrap();
    let e = plan(&m.network, &bad).unwrap_err().to_string();
    assert!(e.contains("rom_logic") && e.contains("pool1"), "{e}");
}
