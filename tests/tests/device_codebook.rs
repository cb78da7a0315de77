//! Codebook weights on devices: index memories free block RAM, which the fit spends on MAC
//! lanes; where the decoders would overflow the LUTs the fit stores layers decoded, so a
//! codebook network never fits worse than its int8 twin.

use squeezeflow_hw::device::{find_device, fit_network, memories, resources, rom_in_logic};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_model::config::NetworkConfig;
use squeezeflow_model::Network;

fn v11(bits: u8) -> Network {
    let mut c = NetworkConfig::squeezenet1_1();
    c.quantization.weight_bits = bits;
    if bits < 8 {
        c.quantization.layers.insert("conv1".into(), 8);
    }
    Network::new(&c).unwrap()
}

/// Block RAM of the weight memories of a plan, by the estimate's shapes.
fn weight_blocks(net: &Network, p: &squeezeflow_hw::folding::Plan, dev: &str) -> f64 {
    let d = find_device(dev).unwrap();
    memories(net, p)
        .unwrap()
        .iter()
        .filter(|m| m.role == "weights" && !rom_in_logic(m.width, m.depth))
        .map(|m| d.blocks_for(m.width, m.depth) * m.count as f64)
        .sum()
}

#[test]
fn index_memories_are_narrower_and_count_their_decoders() {
    let hw = HardwareConfig {
        mac_budget: Some(586),
        ..Default::default()
    };
    let (n8, n6) = (v11(8), v11(6));
    let (p8, p6) = (plan(&n8, &hw).unwrap(), plan(&n6, &hw).unwrap());
    assert_eq!(
        p8.fold, p6.fold,
        "the folding does not depend on the weight width"
    );
    let m8 = memories(&n8, &p8).unwrap();
    let m6 = memories(&n6, &p6).unwrap();
    for (a, b) in m8.iter().zip(&m6) {
        if a.role == "weights" && a.layer != "conv1" {
            // Every PE's words at 6 of 8 bits; PEs may share one wider memory.
            assert_eq!(b.width * b.count * 8, a.width * a.count * 6, "{}", a.layer);
            assert_eq!(a.depth, b.depth);
            assert!(b.count <= a.count && a.count % b.count == 0, "{}", a.layer);
        } else {
            assert_eq!((a.width, a.depth), (b.width, b.depth));
        }
    }
    assert!(weight_blocks(&n6, &p6, "xc7a200t") < weight_blocks(&n8, &p8, "xc7a200t"));
    // Decoders: 8 LUTs a lane of every codebook layer (every layer but conv1).
    let a7 = find_device("xc7a200t").unwrap();
    let (r8, r6) = (
        resources(&n8, &p8, a7).unwrap(),
        resources(&n6, &p6, a7).unwrap(),
    );
    let conv1_lanes = p8.fold["conv1"].pe * p8.fold["conv1"].simd;
    let decoders = 8 * (r8.mac_lanes - conv1_lanes) as u64;
    let rom_logic_change = r6.luts as i64 - r8.luts as i64 - decoders as i64;
    // The rest of the LUT change is ROMs Yosys would put in logic at the narrower width.
    assert!(rom_logic_change.unsigned_abs() < 6000, "{rom_logic_change}");
    assert!(r6.bram < r8.bram);
}

#[test]
fn the_fit_spends_freed_block_ram_and_never_does_worse_than_int8() {
    // The second: the XCZU7EV's DSPs and block RAM with 180,000 LUTs, LUT bound at int8 (as the
    // XCZU7EV itself was until the MACs' sums were narrowed on 2026-12-02: 86% of its LUTs
    // estimated then, 71% now).
    for (dev, luts) in [("xc7a200t", None), ("xczu7ev", Some(180_000))] {
        let mut d = find_device(dev).unwrap().clone();
        if let Some(l) = luts {
            d.luts = l;
        }
        let d = &d;
        let hw = HardwareConfig::default();
        let (_, p8, r8) = fit_network(&v11(8), d, &hw).unwrap();
        let (_, p6, r6) = fit_network(&v11(6), d, &hw).unwrap();
        let c = |n: &Network, p| squeezeflow_hw::device::planned_cycles(n, p).unwrap();
        let (c8, c6) = (c(&v11(8), &p8), c(&v11(6), &p6));
        assert!(c6 <= c8, "{dev}: {c6} cycles at 6 bits, {c8} at int8");
        assert!(r6.overflows(d).is_empty(), "{dev}: {:?}", r6.overflows(d));
        if dev == "xc7a200t" {
            // Block RAM bound at int8: the freed block RAM buys lanes.
            assert!(r6.mac_lanes as f64 > 1.5 * r8.mac_lanes as f64, "{dev}");
            assert!(r8.bram > 0.95 * d.brams as f64);
        } else {
            // LUT bound at int8 already: every decoder that does not fit is stored decoded.
            assert!(!r6.decoded_weights.is_empty());
            assert!(r6.load_weights.len() <= r8.load_weights.len());
        }
        for l in &r6.decoded_weights {
            assert!(p6.decoded_weights.contains(l));
        }
    }
}

/// A whole v1.1 bundle with 6-bit codebook weights (synthetic weights from a network file):
/// its shared index ROMs have words wider than 64 bits, and the bundle check that `sim` and
/// `board` run first accepts every memory file, codebooks included.
#[test]
fn a_codebook_bundle_passes_the_bundle_check() {
    let dir = squeezeflow_tests::scratch("codebook_bundle");
    let cfg = dir.join("q6.toml");
    std::fs::write(
        &cfg,
        "preset = \"squeezenet1_1\"\n[quantization]\nweight_bits = 6\n[quantization.layers]\nconv1 = 8\n",
    )
    .unwrap();
    let out = std::process::Command::new(squeezeflow_tests::squeezeflow_bin())
        .args(["gen", "--config", cfg.to_str().unwrap(), "-o"])
        .arg(dir.join("b"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mems: Vec<String> = std::fs::read_dir(dir.join("b/mem"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let wide = mems
        .iter()
        .filter(|m| m.contains("_wg"))
        .map(|m| std::fs::read_to_string(dir.join("b/mem").join(m)).unwrap())
        .filter(|t| t.lines().next().unwrap().len() > 16)
        .count();
    assert!(wide > 0, "no index ROM wider than 64 bits: {mems:?}");
    assert_eq!(mems.iter().filter(|m| m.ends_with("_cb.mem")).count(), 25);
    squeezeflow_sim::network::Bundle::open(&dir.join("b")).unwrap();
}

/// Where Yosys 0.23 puts a ROM (`synth_xilinx`, measured on whole XC7A200T bundles of
/// 2026-12-02): fire3.squeeze's int8 64x256 (16 kbit) in logic, conv10's 4-bit 4x4096 (16 kbit)
/// in one RAMB18 each (125 of them: 62.5 RAMB36), and 64x288 in block RAM.
#[test]
fn roms_go_where_yosys_puts_them() {
    assert!(rom_in_logic(64, 256));
    assert!(rom_in_logic(54, 256));
    assert!(rom_in_logic(16, 512));
    assert!(!rom_in_logic(4, 4096));
    assert!(!rom_in_logic(64, 288));
}
