//! Small whole networks (each bypass kind) as Verilog in Verilator, fed frame after frame with
//! random stalls on both streams: every logit equals the integer reference, and the measured
//! cycles per frame match the estimate.

use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::harness::{drive, run_stream, Stalls};
use squeezeflow_hw::network::{estimate, network_graph};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::reference::{run, Path};
use squeezeflow_model::QuantModel;
use squeezeflow_sim::stream::VerilatedTop;
use squeezeflow_tests::{lint_iverilog, lint_verilator, scratch, verilate};

fn tiny(bypass: Bypass, input: usize) -> NetworkConfig {
    NetworkConfig {
        name: format!("tiny-{bypass:?}").to_lowercase(),
        input_size: input,
        num_classes: 10,
        conv1: Conv1Spec {
            channels: 16,
            kernel: 3,
            stride: 2,
        },
        fires: vec![
            FireSpec {
                squeeze: 4,
                expand1x1: 8,
                expand3x3: 8,
            },
            FireSpec {
                squeeze: 4,
                expand1x1: 8,
                expand3x3: 8,
            },
            FireSpec {
                squeeze: 8,
                expand1x1: 16,
                expand3x3: 16,
            },
            FireSpec {
                squeeze: 8,
                expand1x1: 16,
                expand3x3: 16,
            },
        ],
        pool_after: vec!["conv1".into(), "fire3".into()],
        bypass,
        meta: None,
        quantization: Default::default(),
    }
}

fn logits_bytes(l: &[u16]) -> Vec<u8> {
    l.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn check_network(bypass: Bypass, input: usize, budget: usize) {
    check_config(
        tiny(bypass, input),
        budget,
        &[],
        &format!("{bypass:?}"),
        false,
    );
}

/// Codebook weights through the whole network: 5-bit indices, conv1 dense, fire2.expand3x3 at
/// 4 bits and fire3.squeeze stored decoded (the fit's LUT fallback) in one design.
#[test]
fn small_network_with_codebook_weights() {
    let mut cfg = tiny(Bypass::Complex, 32);
    cfg.quantization.weight_bits = 5;
    cfg.quantization.layers.insert("conv1".into(), 8);
    cfg.quantization.layers.insert("fire2.expand3x3".into(), 4);
    check_config(cfg, 64, &["fire3.squeeze"], "codebook", false);
}

/// The network of `cfg` at a MAC-lane `budget`, the layers `decoded` stored decoded, with or
/// without `link_slices`, in rust-hdl's simulator and in Verilator (`name` tags the scratch
/// directory and the messages).
fn check_config(
    cfg: NetworkConfig,
    budget: usize,
    decoded: &[&str],
    name: &str,
    link_slices: bool,
) {
    let bypass = name;
    let m = QuantModel::synthetic(&cfg, 21).unwrap();
    let hw = HardwareConfig {
        mac_budget: Some(budget),
        decoded_weights: decoded.iter().map(|s| s.to_string()).collect(),
        link_slices: Some(link_slices),
        ..Default::default()
    };
    let p = plan(&m.network, &hw).unwrap();
    let est = estimate(&m, &p).unwrap();
    let frames: Vec<Vec<u8>> = (0..4)
        .map(|i| synthetic_frame(m.network.input_shape(), 100 + i))
        .collect();
    let want: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| logits_bytes(&run(&m, f, Path::Fast).unwrap().logits))
        .collect();
    let flat = frames.concat();
    let frame_bytes = m.network.input_shape().len();
    let out_bytes = 2 * m.network.config.num_classes;

    // rust-hdl's simulator, on the graph.
    let mut g = network_graph(&m, &p).unwrap();
    let r = run_stream(
        &mut g,
        &[&flat],
        &[frame_bytes],
        4,
        out_bytes,
        Stalls::random(2),
        200_000,
    )
    .unwrap();
    assert_eq!(
        r.frames, want,
        "{bypass}: rust-hdl simulation differs from the reference"
    );

    // The exported Verilog, in Verilator.
    let tag = format!("net_{bypass}").to_lowercase();
    let design = squeezeflow_hw::ip::write_rtl(&m, &p, &Default::default(), "0", &scratch(&tag))
        .unwrap()
        .design;
    if !decoded.is_empty() {
        // Decoders (and their codebook files) for the codebook layers only.
        let mut names = Vec::new();
        for d in [design.dir.clone(), design.dir.join("mem")] {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                names.push(e.file_name().to_string_lossy().to_string());
            }
        }
        let has = |f: &str| names.iter().any(|n| n == f);
        assert!(
            has("fire2_expand3x3_cb.mem") && has("fire5_expand3x3_cb.mem"),
            "{names:?}"
        );
        assert!(
            !has("conv1_cb.mem") && !has("fire3_squeeze_cb.mem"),
            "{names:?}"
        );
    }
    lint_verilator(&design);
    lint_iverilog(&design);
    let model = verilate(&design);
    for stalls in [Stalls::random(5), Stalls::NONE] {
        let mut dut = VerilatedTop::new(&model).unwrap();
        let v = drive(
            &mut dut,
            &[&flat],
            &[frame_bytes],
            4,
            out_bytes,
            stalls,
            200_000,
        )
        .unwrap();
        for (i, (got, want)) in v.frames.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "{bypass}: frame {i} logits differ ({stalls:?})");
        }
        if stalls.input == 0.0 {
            let measured = v.steady_cycles_per_frame().unwrap();
            let e = est.cycles_per_frame;
            eprintln!(
                "{bypass}: {measured} cycles/frame measured, {e} estimated, {} lanes",
                est.mac_lanes
            );
            assert!(
                measured.abs_diff(e) * 50 <= e,
                "{bypass}: measured {measured} vs estimate {e} (over 2%)"
            );
        }
    }
}

#[test]
fn small_network_no_bypass() {
    check_network(Bypass::None, 40, 48);
}

#[test]
fn small_network_simple_bypass() {
    check_network(Bypass::Simple, 36, 40);
}

#[test]
fn small_network_complex_bypass() {
    check_network(Bypass::Complex, 32, 64);
}

/// The complex-bypass network with a register slice (a two-beat FIFO) on every stream between
/// two blocks (ECP5's `link_slices`): same logits, same cycles a frame, in both simulators.
/// And the slices are where they should be: every stream between two nodes has a two-beat
/// FIFO at one end, and the graph has more nodes than without.
#[test]
fn small_network_with_link_slices() {
    let m = QuantModel::synthetic(&tiny(Bypass::Complex, 32), 21).unwrap();
    let graph = |on: bool| {
        let hw = HardwareConfig {
            mac_budget: Some(64),
            link_slices: Some(on),
            ..Default::default()
        };
        network_graph(&m, &plan(&m.network, &hw).unwrap()).unwrap()
    };
    let (g, plain) = (graph(true), graph(false));
    use squeezeflow_hw::graph::{End, Node};
    let slice = |e: End| matches!(e, End::Node { node, .. } if matches!(&g.nodes[node], Node::Fifo(f) if f.depth() == 2));
    let mut between = 0;
    for e in g.edges() {
        if let (End::Node { .. }, End::Node { .. }) = (e.from, e.to) {
            assert!(slice(e.from) || slice(e.to), "no slice on {e:?}");
            between += 1;
        }
    }
    assert!(
        between > plain.edges().len(),
        "{between} streams between nodes"
    );
    assert!(
        g.nodes.len() > plain.nodes.len() + 20,
        "{} nodes",
        g.nodes.len()
    );
    check_config(tiny(Bypass::Complex, 32), 64, &[], "slices", true);
}

/// A bundle whose weights of several layers (conv1, a 3x3 expand, a bypass convolution) are
/// RAMs filled through the weight-load port: the manifest lists them, the host's streaming
/// path loads them from the bundle's files, and every logit equals the reference in Verilator
/// and in rust-hdl's simulator; without the load the logits are wrong.
#[test]
fn small_network_with_loaded_weights() {
    use squeezeflow_hw::bundle::write_bundle;
    use squeezeflow_hw::harness::drive_loaded;
    use squeezeflow_hw::ip::clocked;
    use squeezeflow_sim::network::{stream_frames, Bundle, RunOptions};
    use squeezeflow_sim::verilator::BuildOptions;
    let m = QuantModel::synthetic(&tiny(Bypass::Complex, 32), 23).unwrap();
    let convs: Vec<String> = m.network.convs().iter().map(|l| l.name.clone()).collect();
    let loaded: std::collections::BTreeSet<String> = convs
        .iter()
        .filter(|n| *n == "conv1" || n.ends_with("fire3.expand3x3") || n.contains("bypass"))
        .cloned()
        .collect();
    assert!(loaded.len() >= 3, "layers to load: {loaded:?} of {convs:?}");
    let hw = HardwareConfig {
        mac_budget: Some(64),
        load_weights: loaded.clone(),
        ..Default::default()
    };
    let p = plan(&m.network, &hw).unwrap();
    let dir = scratch("net_loaded");
    let manifest = write_bundle(&m, &p, &clocked(100.0), &dir).unwrap();
    // One RAM a PE of each loaded layer, numbered from 0 in network order.
    let pes: usize = loaded.iter().map(|n| p.fold[n].pe).sum();
    assert_eq!(manifest.load.len(), pes);
    assert!(manifest
        .load
        .iter()
        .enumerate()
        .all(|(i, l)| l.sel as usize == i));
    let words = manifest.load_words(&dir).unwrap();
    assert_eq!(
        words.len(),
        manifest.load.iter().map(|l| l.depth).sum::<usize>()
    );
    let frames: Vec<Vec<u8>> = (0..3)
        .map(|i| synthetic_frame(m.network.input_shape(), 300 + i))
        .collect();
    let want: Vec<Vec<u16>> = frames
        .iter()
        .map(|f| run(&m, f, Path::Fast).unwrap().logits)
        .collect();

    // rust-hdl's simulator, on the graph.
    let flat = frames.concat();
    let mut g = network_graph(&m, &p).unwrap();
    let out_bytes = 2 * m.network.config.num_classes;
    let r = drive_loaded(
        &mut squeezeflow_hw::harness::HdlDut(&mut g),
        &words,
        &[&flat],
        &[m.network.input_shape().len()],
        3,
        out_bytes,
        Stalls::random(4),
        200_000,
    )
    .unwrap();
    let want_bytes: Vec<Vec<u8>> = want.iter().map(|l| logits_bytes(l)).collect();
    assert_eq!(
        r.frames, want_bytes,
        "rust-hdl simulation with loaded weights"
    );

    // The bundle in Verilator, through the host's streaming path.
    let b = Bundle::open(&dir).unwrap();
    let model = b.build(&BuildOptions::default()).unwrap();
    let sim = |load: Vec<squeezeflow_hw::load::LoadWord>| -> Result<Vec<Vec<u16>>, _> {
        let mut got = Vec::new();
        let opt = RunOptions {
            stalls: Stalls::random(8),
            load,
            ..Default::default()
        };
        stream_frames(
            &model,
            &b.manifest,
            frames.iter().cloned().map(Ok),
            &opt,
            |f| {
                got.push(f.logits);
                Ok(())
            },
        )
        .map(|_| got)
    };
    assert_eq!(
        sim(words.clone()).unwrap(),
        want,
        "Verilator with loaded weights"
    );
    // Without its weights the network cannot be right: its frames are refused and flagged.
    let err = sim(Vec::new()).unwrap_err().to_string();
    assert!(err.contains("weights were never loaded"), "{err}");
}
