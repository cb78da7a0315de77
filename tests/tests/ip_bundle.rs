//! A bundle in a user's tools, without squeezeflow's Rust: the golden-vector testbench passes in
//! Icarus (and fails when one memory word is altered), FuseSoC runs the core's `lint` and `sim`
//! targets, the filelist elaborates in Verilator and Icarus, `vivado.tcl` names exactly the
//! bundle's files, and two bundles of different networks elaborate together.

use std::path::{Path, PathBuf};
use std::process::Command;

use squeezeflow_hw::bundle::{write_bundle, Manifest};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::ip::{IpOptions, PixelFormat};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::QuantModel;
use squeezeflow_tests::scratch;

fn net(name: &str, input: usize, classes: usize, fires: usize) -> QuantModel {
    let fire = FireSpec {
        squeeze: 4,
        expand1x1: 4,
        expand3x3: 4,
    };
    let cfg = NetworkConfig {
        name: name.into(),
        input_size: input,
        num_classes: classes,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![fire; fires],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::None,
        meta: None,
        quantization: Default::default(),
    };
    QuantModel::synthetic(&cfg, 3).unwrap()
}

/// Bundle A: defaults (`alpha_top`, rgb24, every weight in ROM). Bundle B: another network,
/// `--top-name beta_accel`, rgbx32, conv10's weights loaded over the weight stream.
fn bundles(tag: &str) -> [(PathBuf, Manifest); 2] {
    let a = net("alpha", 16, 5, 1);
    let pa = plan(&a.network, &HardwareConfig::default()).unwrap();
    let da = scratch(&format!("{tag}_a"));
    let ma = write_bundle(&a, &pa, &IpOptions::default(), &da).unwrap();
    let b = net("beta", 12, 4, 2);
    let mut pb = plan(&b.network, &HardwareConfig::default()).unwrap();
    pb.load_weights.insert("conv10".into());
    let db = scratch(&format!("{tag}_b"));
    let opt = IpOptions {
        top_name: Some("beta_accel".into()),
        pixel_format: PixelFormat::Rgbx32,
        ..Default::default()
    };
    let mb = write_bundle(&b, &pb, &opt, &db).unwrap();
    assert_eq!(ma.top_module, "alpha_top");
    assert_eq!(mb.top_module, "beta_accel");
    assert!(!mb.load.is_empty(), "beta loads conv10's weights");
    [(da, ma), (db, mb)]
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Icarus on the filelist and the testbench, run in the bundle.
fn golden(dir: &Path, m: &Manifest) -> (bool, String) {
    let t = &m.top_module;
    let (ok, text) = run(Command::new("iverilog")
        .current_dir(dir)
        .args(["-g2005", "-o", "tb.vvp", "-f"])
        .arg(format!("{t}.f"))
        .arg(format!("sim/tb_{t}.v")));
    assert!(ok, "iverilog: {text}");
    run(Command::new("vvp").current_dir(dir).args(["-n", "tb.vvp"]))
}

#[test]
fn golden_vectors_pass_and_catch_one_altered_memory_word() {
    for (dir, m) in bundles("ip_golden") {
        let (ok, text) = golden(&dir, &m);
        let passes = text
            .lines()
            .filter(|l| l.contains(": PASS (latency"))
            .count();
        assert!(
            ok && passes == 3 && text.lines().any(|l| l == "PASS"),
            "{}: {text}",
            m.top_module
        );
        // One word of the last layer's biases (in ROM in both bundles), altered.
        let p = dir.join("mem/conv10_p0.mem");
        let text0 = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<String> = text0.lines().map(String::from).collect();
        let x = u32::from_str_radix(&lines[0], 16).unwrap() ^ 0x0010_0000;
        lines[0] = format!("{x:08x}");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let (ok, text) = golden(&dir, &m);
        assert!(
            !ok && text.contains("FAIL") && !text.lines().any(|l| l == "PASS"),
            "{}: an altered weight must fail: {text}",
            m.top_module
        );
    }
}

#[test]
fn filelists_elaborate_and_two_bundles_live_in_one_project() {
    let [(da, ma), (db, mb)] = bundles("ip_two");
    let files = |d: &Path, m: &Manifest| -> Vec<PathBuf> {
        let f = std::fs::read_to_string(d.join(format!("{}.f", m.top_module))).unwrap();
        assert_eq!(
            f.lines().collect::<Vec<_>>(),
            m.rtl,
            "the filelist is the sources in order"
        );
        f.lines().map(|l| d.join(l)).collect()
    };
    for (d, m) in [(&da, &ma), (&db, &mb)] {
        let (ok, text) = run(Command::new("verilator")
            .current_dir(d)
            .args(["--lint-only", "-Wall", "-Wno-DECLFILENAME", "--top-module"])
            .arg(&m.top_module)
            .arg("-f")
            .arg(format!("{}.f", m.top_module)));
        assert!(ok && !text.contains("%Warning"), "{}: {text}", m.top_module);
        let names = std::fs::read_to_string(d.join(m.rtl.last().unwrap())).unwrap()
            + &std::fs::read_to_string(d.join(&m.rtl[1])).unwrap();
        assert!(
            !names.contains('$'),
            "{}: no `$` in the generated names",
            m.top_module
        );
    }
    // Both bundles under one top module, in Verilator and Icarus.
    let both = scratch("ip_two_both").join("both.v");
    std::fs::write(
        &both,
        "module both(input wire aclk, input wire aresetn);\n\
         alpha_top a (.aclk(aclk), .aresetn(aresetn), .s_axis_tdata(24'd0), .s_axis_tvalid(1'b0),\n\
           .s_axis_tlast(1'b0), .m_axis_tready(1'b1), .s_axis_weights_tdata(64'd0),\n\
           .s_axis_weights_tvalid(1'b0), .s_axis_weights_tlast(1'b0));\n\
         beta_accel b (.aclk(aclk), .aresetn(aresetn), .s_axis_tdata(32'd0), .s_axis_tvalid(1'b0),\n\
           .s_axis_tlast(1'b0), .m_axis_tready(1'b1), .s_axis_weights_tdata(64'd0),\n\
           .s_axis_weights_tvalid(1'b0), .s_axis_weights_tlast(1'b0));\nendmodule\n",
    )
    .unwrap();
    let mut all = files(&da, &ma);
    all.extend(files(&db, &mb));
    all.push(both.clone());
    let (ok, text) = run(Command::new("verilator")
        .args([
            "--lint-only",
            "-Wno-fatal",
            "-Wno-PINMISSING",
            "--top-module",
            "both",
        ])
        .args(&all));
    assert!(
        ok && !text.contains("%Error"),
        "verilator, two bundles: {text}"
    );
    let (ok, text) = run(Command::new("iverilog")
        .args(["-g2005", "-s", "both", "-o"])
        .arg(both.with_extension("vvp"))
        .args(&all));
    assert!(ok, "iverilog, two bundles: {text}");
}

#[test]
fn vivado_tcl_names_exactly_the_bundles_files() {
    for (dir, m) in bundles("ip_vivado") {
        let tcl = std::fs::read_to_string(dir.join("vivado.tcl")).unwrap();
        let named = |cmd: &str| -> Vec<String> {
            tcl.lines()
                .filter_map(|l| l.strip_prefix(cmd))
                .map(|f| f.trim().to_string())
                .collect()
        };
        assert_eq!(named("read_verilog "), m.rtl, "{}: sources", m.top_module);
        let mems: Vec<String> = m
            .files
            .iter()
            .filter(|f| f.starts_with("mem/"))
            .cloned()
            .collect();
        assert_eq!(named("read_mem "), mems, "{}: memories", m.top_module);
        for f in named("read_verilog ").iter().chain(&named("read_mem ")) {
            assert!(dir.join(f).is_file(), "{f} is in the bundle");
        }
        assert!(tcl.contains(&format!("synth_design -top {} -part $part", m.top_module)));
    }
}

#[test]
fn fusesoc_runs_the_cores_lint_and_sim_targets() {
    let fusesoc = squeezeflow_hw::synth::find_fusesoc()
        .expect("fusesoc is installed (scripts/setup-fusesoc.sh, run by scripts/test.sh)");
    for (dir, m) in bundles("ip_fusesoc") {
        let vlnv = format!(
            "squeezeflow:bundle:{}:{}",
            m.top_module,
            env!("CARGO_PKG_VERSION")
        );
        for target in ["lint", "sim"] {
            let (ok, text) = run(Command::new(&fusesoc)
                .current_dir(&dir)
                .arg("--cores-root")
                .arg(&dir)
                .args(["run", "--build-root"])
                // Outside the cores root, which FuseSoC searches for core files.
                .arg(dir.with_extension("fusesoc"))
                .args(["--target", target])
                .arg(&vlnv));
            assert!(ok, "{}: fusesoc {target}: {text}", m.top_module);
            if target == "sim" {
                assert!(
                    text.lines().any(|l| l.trim() == "PASS"),
                    "{}: {text}",
                    m.top_module
                );
            }
        }
    }
}
