//! Device targets: the resource estimate against Yosys' memory mapping, and the fit/refuse logic
//! for every device.

use squeezeflow_hw::bundle::write_bundle;
use squeezeflow_hw::device::{
    find_device, fit, place_loaded_weights, place_roms, resources, FitError, DEVICES,
};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_model::builtin;
use squeezeflow_model::config::NetworkConfig;
use squeezeflow_model::{Network, QuantModel};

fn budget(b: usize) -> HardwareConfig {
    HardwareConfig {
        mac_budget: Some(b),
        ..Default::default()
    }
}

#[test]
fn devices_by_part_or_board_and_unknown_names_list_them() {
    assert_eq!(find_device("XC7A200T").unwrap().board, "nexys_video");
    assert_eq!(find_device("zcu104").unwrap().name, "xczu7ev");
    assert_eq!(find_device("Nexys-Video").unwrap().name, "xc7a200t");
    assert_eq!(find_device("xc7k325tffg900-2").unwrap().name, "xc7k325t");
    let e = find_device("xc7z020").unwrap_err().to_string();
    for d in DEVICES {
        assert!(e.contains(d.name), "{e}");
    }
}

#[test]
fn block_ram_shapes_pick_the_cheapest_aspect_ratio() {
    let a7 = find_device("xc7a200t").unwrap();
    // 64 x 288: one RAMB36 at 512x72 (Yosys: 1 RAMB36E1).
    assert_eq!(a7.blocks_for(64, 288), 1.0);
    // 32 x 2048: two RAMB36 at 1024x36 (Yosys: 2 RAMB36E1).
    assert_eq!(a7.blocks_for(32, 2048), 2.0);
    // 8 x 2048: one RAMB18 at 2048x9.
    assert_eq!(a7.blocks_for(8, 2048), 0.5);
    let ecp5 = find_device("lfe5u-85f").unwrap();
    assert_eq!(ecp5.blocks_for(64, 512), 2.0);
}

#[test]
fn the_default_folding_estimate_is_consistent() {
    let m = builtin::default_model();
    let p = plan(&m.network, &budget(256)).unwrap();
    let a7 = find_device("xc7a200t").unwrap();
    let r = resources(&m.network, &p, a7).unwrap();
    // One DSP48E1 per lane pair of two PEs (sqf_mac2; an odd last PE keeps its own lanes), two
    // per requantizer, two for the average pool's. An engine's PEs share requantizers in
    // chains: the longest chain length that divides pe and is at most the group's MAC cycles.
    assert!(p.dsp_pairs);
    let pes: usize = p.fold.values().map(|f| f.pe).sum();
    let rqs: usize = m
        .network
        .convs()
        .iter()
        .map(|l| {
            let f = p.fold[&l.name];
            let cycles = l.kernel * l.kernel * l.in_channels() / f.simd;
            let chain = (1..=f.pe)
                .filter(|c| f.pe.is_multiple_of(*c) && *c <= cycles)
                .max()
                .unwrap();
            f.pe / chain
        })
        .sum();
    assert!(2 * rqs < pes, "{rqs} requantizers for {pes} PEs");
    let mults: usize = p.fold.values().map(|f| f.pe.div_ceil(2) * f.simd).sum();
    assert_eq!(r.dsp as usize, mults + 2 * rqs + 2);
    assert!(mults < p.mac_lanes());
    // On ECP5 a pair would take two MULT18X18D: one per product there.
    let ecp5 = resources(&m.network, &p, find_device("lfe5u-85f").unwrap()).unwrap();
    assert_eq!(ecp5.dsp as usize, p.mac_lanes() + 2 * rqs + 2);
    // Every weight bit is in block RAM or in logic; block RAM holds at least its bits.
    let w = m.network.weight_bytes() * 8;
    assert!(r.bram_bits + r.rom_logic_bits >= w);
    assert!(r.bram * 36.0 * 1024.0 >= r.bram_bits as f64);
    eprintln!(
        "v1.1 at 256: {} lanes, {} DSP, {:.1} RAMB36 ({:.1} line buffers), {:.2} Mbit in BRAM, {} ROM bits in logic",
        r.mac_lanes,
        r.dsp,
        r.bram,
        r.line_buffer_bram,
        r.bram_bits as f64 / 1e6,
        r.rom_logic_bits
    );
}

#[test]
fn v1_1_fits_each_xilinx_device_and_uses_it() {
    let m = builtin::default_model();
    for name in ["xc7a200t", "xc7k325t", "xczu7ev"] {
        let d = find_device(name).unwrap();
        let f = fit(&m, d, &HardwareConfig::default()).unwrap();
        let r = &f.resources;
        eprintln!(
            "{name}: budget {}, {} MAC lanes, {} cycles/frame, {:.1} fps at {} MHz, DSP {}/{} ({:.0}%), {} {:.1}/{} ({:.1} line buffers), LUT {}/{} ({:.0}%; weight ROMs in LUTs: {:?}), MAC utilisation {:.2}",
            f.mac_budget,
            r.mac_lanes,
            f.cycles_per_frame,
            f.frames_per_second,
            f.clock_mhz,
            r.dsp,
            d.dsps,
            100.0 * r.dsp as f64 / d.dsps as f64,
            d.bram_unit,
            r.bram,
            d.brams,
            r.line_buffer_bram,
            r.luts,
            d.luts,
            100.0 * r.luts as f64 / d.luts as f64,
            r.rom_logic_roms,
            m.network.macs() as f64 / (r.mac_lanes as f64 * f.cycles_per_frame as f64)
        );
        assert!(r.overflows(d).is_empty());
        // The chosen folding is the largest that fits: one more lane of budget does not fit,
        // or does not plan anything faster.
        let mut more = plan(&m.network, &budget(f.mac_budget + 1)).unwrap();
        let r2 = place_loaded_weights(&m.network, &mut more, d).unwrap();
        if more != f.plan {
            assert!(!r2.overflows(d).is_empty(), "{name}: budget +1 also fits");
        }
        // And it uses the device: well past the default 256 lanes.
        assert!(r.mac_lanes > 256, "{name}: {} lanes", r.mac_lanes);
        if d.urams > 0 {
            assert!(r.uram > 0 && r.line_buffer_bram == 0.0);
            // Block RAM cannot hold this folding's weights: some layers' weights are RAMs
            // loaded at start-up, in UltraRAM; with them in ROM, block RAM overflows.
            assert!(!f.plan.load_weights.is_empty(), "{name}: nothing loaded");
            let mut rom_only = f.plan.clone();
            rom_only.load_weights.clear();
            let r0 = resources(&m.network, &rom_only, d).unwrap();
            assert!(
                r0.bram > d.brams as f64 && r0.uram < r.uram,
                "{name}: {r0:?}"
            );
        } else {
            assert!(
                f.plan.load_weights.is_empty(),
                "{name}: no UltraRAM to load"
            );
        }
    }
}

#[test]
fn v1_1_is_refused_by_the_ecp5_with_the_shortfall() {
    let m = builtin::default_model();
    let d = find_device("lfe5u-85f").unwrap();
    let e = fit(&m, d, &HardwareConfig::default()).unwrap_err();
    assert!(matches!(e, FitError::TooBig { .. }), "{e}");
    let msg = e.to_string();
    eprintln!("{msg}");
    assert!(msg.contains("EBR needed, 208 available"), "{msg}");
    assert!(msg.contains("over"), "{msg}");
}

#[test]
fn a_small_network_fits_the_ecp5() {
    // SqueezeNet v1.1's layout with a quarter of the channels.
    let mut text = String::from(
        "preset = \"squeezenet1_1\"\ninput_size = 64\nnum_classes = 10\n[conv1]\nchannels = 16\nkernel = 3\nstride = 2\n",
    );
    for (s, e) in [
        (4, 16),
        (4, 16),
        (8, 32),
        (8, 32),
        (12, 48),
        (12, 48),
        (16, 64),
        (16, 64),
    ] {
        text += &format!("[[fire]]\nsqueeze = {s}\nexpand1x1 = {e}\nexpand3x3 = {e}\n");
    }
    let cfg = NetworkConfig::from_toml_str(&text).unwrap();
    let m = QuantModel::synthetic(&cfg, 1).unwrap();
    let d = find_device("lfe5u-85f").unwrap();
    let f = fit(&m, d, &HardwareConfig::default()).unwrap();
    assert!(f.resources.overflows(d).is_empty());
    assert!(f.resources.dsp <= d.dsps);
    let _ = Network::new(&cfg).unwrap();
    // On ECP5 every MAC lane's product and every requantizer's (the engines', the average
    // pool's) are in MULT18X18Ds' output registers (sqf_mul_ecp5), and no PEs are paired; a Xilinx fit of the same network keeps
    // the fabric multiply. The weight ROMs deeper than one block RAM are split into banks of
    // one (sqf_bank_pick) there too, not on Xilinx. On UltraScale+ alone the paired lanes'
    // registers are their DSP48E2s' (sqf_mul_dsp48e2).
    assert!(f.plan.mul_ecp5 && !f.plan.dsp_pairs && f.plan.rom_banks && !f.plan.dsp48e2);
    // And a register slice between every two blocks on ECP5 alone.
    assert!(f.plan.link_slices);
    let x = fit(
        &m,
        find_device("xc7a200t").unwrap(),
        &HardwareConfig::default(),
    )
    .unwrap();
    assert!(!x.plan.mul_ecp5 && !x.plan.rom_banks && !x.plan.dsp48e2 && x.plan.dsp_pairs);
    assert!(!x.plan.link_slices);
    let u = fit(
        &m,
        find_device("xczu7ev").unwrap(),
        &HardwareConfig::default(),
    )
    .unwrap();
    assert!(!u.plan.mul_ecp5 && !u.plan.rom_banks && u.plan.dsp48e2 && u.plan.dsp_pairs);
    assert!(!u.plan.link_slices);
    for (plan, tag) in [(&f.plan, "ecp5"), (&x.plan, "xc7"), (&u.plan, "xcup")] {
        let dir = squeezeflow_tests::scratch(&format!("device_mul_{tag}"));
        let man = write_bundle(&m, plan, &Default::default(), &dir).unwrap();
        let core = std::fs::read_to_string(dir.join(&man.rtl[1])).unwrap();
        // The instance lines of a module, and those of them with a parameter.
        let count = |module: &str, param: &str| {
            let lines = core.lines().filter(|l| l.contains(&format!("{module} #(")));
            let all: Vec<&str> = lines.collect();
            let with = all.iter().filter(|l| l.contains(param)).count();
            (all.len(), with)
        };
        let (macs, macs_ecp5) = count("sqf_mac", ".ECP5_MUL(1)");
        let (chains, chains_ecp5) = count("sqf_conv_chain", ".ECP5_MUL(1)");
        let (pairs, pairs_dsp) = count("sqf_mac2", ".DSP48E2(1)");
        let (gaps, gaps_ecp5) = count("sqf_avg_pool", ".ECP5_MUL(1)");
        assert!(chains > 0 && gaps == 1, "{tag}");
        if tag == "ecp5" {
            assert!(macs > 0 && pairs == 0, "{tag}");
            assert_eq!(
                (macs_ecp5, chains_ecp5, gaps_ecp5),
                (macs, chains, 1),
                "{tag}"
            );
        } else {
            assert!(pairs > 0, "{tag}");
            assert_eq!((macs_ecp5, chains_ecp5, gaps_ecp5), (0, 0, 0), "{tag}");
            assert_eq!(pairs_dsp, if tag == "xcup" { pairs } else { 0 }, "{tag}");
            assert_eq!(core.matches("sqf_bank_pick #(").count(), 0, "{tag}");
        }
    }
}

#[test]
fn a_budget_caps_the_fit_and_a_tiny_budget_is_an_error() {
    let m = builtin::default_model();
    let d = find_device("xc7k325t").unwrap();
    let f = fit(&m, d, &budget(300)).unwrap();
    assert!(f.resources.mac_lanes <= 300);
    assert!(fit(&m, d, &budget(3)).is_err());
}

#[test]
fn weight_roms_leave_block_ram_when_it_runs_out() {
    let m = builtin::default_model();
    let d = find_device("xczu7ev").unwrap();
    // 2,052 lanes: the weight ROMs alone need more block RAM than the part has.
    let mut p = plan(&m.network, &budget(2052)).unwrap();
    let before = resources(&m.network, &p, d).unwrap();
    assert!(before.bram > d.brams as f64, "{}", before.bram);
    assert!(p.rom_logic.is_empty());
    let r = place_roms(&m.network, &mut p, d).unwrap();
    assert!(!p.rom_logic.is_empty());
    assert!(r.bram <= d.brams as f64, "{}", r.bram);
    assert!(r.overflows(d).is_empty(), "{:?}", r.overflows(d));
    // The moved layers' weights are ROM bits in logic now, and cost LUTs.
    let moved: u64 = m
        .network
        .convs()
        .iter()
        .filter(|l| p.rom_logic.contains(&l.name))
        .map(|l| l.weights() as u64 * 8)
        .sum();
    assert!(r.rom_logic_bits >= before.rom_logic_bits + moved);
    assert!(r.luts > before.luts);
    assert_eq!(
        r.rom_logic_roms,
        p.rom_logic.iter().cloned().collect::<Vec<_>>()
    );
    // With too few LUTs nothing moves, and the overflow is reported.
    let mut small = d.clone();
    small.luts = 60_000;
    let mut p = plan(&m.network, &budget(2052)).unwrap();
    let r = place_roms(&m.network, &mut p, &small).unwrap();
    assert!(p.rom_logic.is_empty(), "{:?}", p.rom_logic);
    let over = r.overflows(&small).join("; ");
    assert!(
        over.contains("RAMB36 needed") && over.contains("LUTs needed"),
        "{over}"
    );
}

/// `[hardware] load_weights` names convolutions of the network, and a layer's weights are
/// either a ROM in logic or a loaded RAM, not both; on a part without UltraRAM loaded
/// weights are block RAM.
#[test]
fn load_weights_names_layers_and_is_counted() {
    let m = builtin::default_model();
    let net = &m.network;
    let toml = |s: &str| HardwareConfig::from_toml_str(s).unwrap();
    let e = plan(net, &toml("[hardware]\nload_weights = [\"conv99\"]\n")).unwrap_err();
    assert!(e.to_string().contains("load_weights names 'conv99'"), "{e}");
    let e = plan(
        net,
        &toml("[hardware]\nload_weights = [\"conv10\"]\nrom_logic = [\"conv10\"]\n"),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("both rom_logic and load_weights"),
        "{e}"
    );
    let hw = toml("[hardware]\nmac_budget = 512\nload_weights = [\"conv10\"]\n");
    let p = plan(net, &hw).unwrap();
    assert!(p.load_weights.contains("conv10"));
    let mut rom = p.clone();
    rom.load_weights.clear();
    for name in ["xczu7ev", "xc7a200t"] {
        let d = find_device(name).unwrap();
        let (with, without) = (
            resources(net, &p, d).unwrap(),
            resources(net, &rom, d).unwrap(),
        );
        if d.urams > 0 {
            // conv10's weights leave block RAM for UltraRAM.
            assert!(
                with.bram < without.bram && with.uram > without.uram,
                "{name}"
            );
        } else {
            // The same block RAM either way (a RAM and a ROM of one shape).
            assert_eq!(with.bram, without.bram, "{name}");
        }
    }
}

#[test]
fn an_unknown_device_is_its_own_error_listing_the_known_ones() {
    let e = squeezeflow_hw::device::find_device("xc9z999").unwrap_err();
    assert!(
        matches!(&e, squeezeflow_hw::HwError::UnknownDevice { name, .. } if name == "xc9z999"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(!msg.starts_with("folding"), "{msg}");
    for d in squeezeflow_hw::device::DEVICES {
        assert!(msg.contains(d.name) && msg.contains(d.board), "{msg}");
    }
}
