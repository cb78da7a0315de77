//! The command line, run as a user runs it.

use std::process::Command;

fn squeezeflow(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
        .args(args)
        .output()
        .expect("run squeezeflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn info_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["info", "--json"];
    a.extend_from_slice(args);
    let (ok, out, err) = squeezeflow(&a);
    assert!(ok, "{err}");
    serde_json::from_str(&out).expect("info --json prints JSON")
}

#[test]
fn info_reproduces_the_published_counts() {
    let v = info_json(&["--preset", "squeezenet1_1"]);
    assert_eq!(v["params"], 1_235_496);
    assert_eq!(v["macs"], 349_151_936u64);
    assert!(v["weight_bytes"].as_u64().unwrap() > 1_200_000);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers[0]["name"], "conv1");
    assert_eq!(layers.last().unwrap()["name"], "avgpool");
    let macs: u64 = layers.iter().map(|l| l["macs"].as_u64().unwrap()).sum();
    assert_eq!(macs, 349_151_936);

    let v = info_json(&["--preset", "squeezenet1_1", "--input-size", "227"]);
    assert_eq!(v["macs"], 387_747_520u64);

    let v = info_json(&["--preset", "squeezenet1_0"]);
    assert_eq!(v["params"], 1_248_424);
    assert_eq!(v["macs"], 818_924_576u64);
    assert_eq!(format!("{:.1}", v["fp32_mib"].as_f64().unwrap()), "4.8");

    // The default network is squeezenet1_1.
    assert_eq!(info_json(&[])["params"], 1_235_496);
}

#[test]
fn info_table_and_paper_sizes_from_a_config_file() {
    let dir = std::env::temp_dir().join(format!("sqf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sizes: Vec<(f64, f64)> = [0.125, 0.5, 0.75]
        .iter()
        .map(|sr| {
            let p = dir.join(format!("sr{sr}.toml"));
            std::fs::write(&p, format!("[meta]\nsr = {sr}\n")).unwrap();
            let v = info_json(&["--config", p.to_str().unwrap()]);
            (
                v["fp32_mib"].as_f64().unwrap(),
                v["fp32_mb"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(format!("{:.1}", sizes[0].0), "4.8"); // MiB
    assert_eq!(format!("{:.0}", sizes[1].0), "13"); // MiB
    assert_eq!(format!("{:.0}", sizes[2].1), "19"); // MB

    let (ok, out, _) = squeezeflow(&["info"]);
    assert!(ok);
    assert!(
        out.contains("fire9.expand3x3") && out.contains("349151936"),
        "{out}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "preset = \"squeezenet1_1\"\n[meta]\nsr = 0.001\n").unwrap();
    let (ok, _, err) = squeezeflow(&["info", "--config", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("meta.sr") && err.contains("bad.toml"), "{err}");
    let (ok, _, err) = squeezeflow(&["info", "--config", "/nonexistent.toml"]);
    assert!(!ok && err.contains("/nonexistent.toml"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `../shared` beside the checkout; `None` (with a loud message) when absent, a failure under CI.
fn shared() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("../shared is missing beside the checkout, and CI is set");
    }
    eprintln!("\n*** SKIPPED: ../shared is not beside this checkout; this test did not run ***\n");
    None
}

fn squeezeflow_stdin(args: &[&str], input: &[u8]) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run squeezeflow");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn classify_sees_the_cat_with_the_built_in_model() {
    let Some(shared) = shared() else { return };
    let chelsea = shared.join("frames/chelsea.png");
    let (ok, out, err) = squeezeflow(&["classify", "--json", chelsea.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["label"], "chelsea");
    assert_eq!(v[0]["top"][0]["index"], 285);
    assert_eq!(v[0]["top"][0]["name"], "Egyptian cat");
    assert_eq!(v[0]["top"].as_array().unwrap().len(), 5);
    let (ok, out, _) = squeezeflow(&["classify", chelsea.to_str().unwrap()]);
    assert!(ok && out.contains("Egyptian cat"), "{out}");
}

#[test]
fn classify_reads_y4m_from_stdin_frame_by_frame() {
    // Two full 224x224 4:2:0 frames, then a truncated one.
    let frame = 224 * 224 * 3 / 2;
    let mut y4m = b"YUV4MPEG2 W224 H224 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n".to_vec();
    for _ in 0..2 {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend(std::iter::repeat_n(128u8, frame));
    }
    y4m.extend_from_slice(b"FRAME\n");
    y4m.extend(std::iter::repeat_n(128u8, 1000));
    let (ok, out, err) = squeezeflow_stdin(&["classify", "--top", "1", "-"], &y4m);
    assert!(!ok);
    assert!(
        out.contains("stdin[0]") && out.contains("stdin[1]"),
        "{out}"
    );
    assert!(
        err.contains("frame 2 is truncated: 1000 of 75264 bytes"),
        "{err}"
    );
    let (ok, _, err) = squeezeflow_stdin(&["classify", "-"], b"YUV4MPEG2 W2 H2 C420p10\n");
    assert!(!ok && err.contains("C420p10"), "{err}");
}

#[test]
fn import_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("sqf-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("m.safetensors");
    let (ok, _, err) = squeezeflow(&[
        "import",
        "/nonexistent/net.onnx",
        "--calibrate",
        "synthetic",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("/nonexistent/net.onnx"), "{err}");
    let bad = dir.join("bad.onnx");
    std::fs::write(&bad, b"\x08\x07\x12\xff\xff").unwrap();
    let (ok, _, err) = squeezeflow(&[
        "import",
        bad.to_str().unwrap(),
        "--calibrate",
        "synthetic",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("bad.onnx") && err.contains("ONNX"),
        "{err}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_then_accuracy_on_the_real_model() {
    let Some(shared) = shared() else { return };
    let dir = std::env::temp_dir().join(format!("sqf-import-ok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("m.safetensors");
    let onnx = shared.join("models/squeezenet1_1.onnx");
    let chelsea = shared.join("frames/chelsea.png");
    let (ok, stdout, err) = squeezeflow(&[
        "import",
        onnx.to_str().unwrap(),
        "--calibrate",
        shared
            .join("frames/calibration/rocket.png")
            .to_str()
            .unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--score",
        chelsea.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["summary"]["frames"], 1);
    assert_eq!(v["frames"][0]["label"], "chelsea");
    assert!(v["frames"][0]["cosine"].as_f64().unwrap() > 0.99);
    let (ok, table, err) = squeezeflow(&[
        "accuracy",
        "--model",
        out.to_str().unwrap(),
        "--onnx",
        onnx.to_str().unwrap(),
        chelsea.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        table.contains("mean cosine") && table.contains("chelsea"),
        "{table}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn frames_writes_what_the_network_sees() {
    let dir = std::env::temp_dir().join(format!("sqf-frames-cli-{}", std::process::id()));
    let (ok, out, err) = squeezeflow(&[
        "frames",
        "synthetic:2",
        "--input-size",
        "16",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let png = dir.join("synthetic_1.png");
    assert!(png.is_file(), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sim_with_a_bundle_refuses_the_generation_options_it_would_ignore() {
    for flag in [
        ["--mac-budget", "64"],
        ["--device", "xc7a200t"],
        ["--preset", "squeezenet1_0"],
        ["--clock-mhz", "100"],
    ] {
        let (ok, _, err) = squeezeflow(&["sim", "--bundle", "some/bundle", flag[0], flag[1]]);
        assert!(!ok, "{flag:?} was accepted");
        assert!(
            err.contains("--bundle") && err.contains(flag[0]) && err.contains("cannot be used"),
            "{flag:?}: {err}"
        );
    }
    let (_, out, _) = squeezeflow(&["--help"]);
    assert!(out.contains("3 a logit mismatch"), "{out}");
}

/// Model sizes at k bits: `info` gives the dense sizes beside int8 and fp32, the stored size of
/// a network's `[quantization]`, and says what the paper's compressed sizes need; `dse` gives
/// the stored size of every design point at `--weight-bits`.
#[test]
fn info_and_dse_report_sizes_at_k_bits() {
    let dir = std::env::temp_dir().join(format!("sqf-cli-bits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let v = info_json(&[]);
    let (weights, params) = (1_231_552u64, 1_235_496u64);
    assert_eq!(v["weight_bytes"], weights);
    let sizes = v["sizes"].as_array().unwrap();
    let at = |bits: u64| {
        sizes
            .iter()
            .find(|s| s["bits"] == bits)
            .unwrap_or_else(|| panic!("no size at {bits} bits"))["bytes"]
            .as_u64()
            .unwrap()
    };
    for bits in 4..=8u64 {
        assert_eq!(at(bits), (weights * bits).div_ceil(8) + (params - weights));
    }
    assert_eq!(v["stored_weight_bytes"], weights);
    // A network file storing 6-bit indices, conv1 at 8: 26 codebooks of 64 bytes.
    let p = dir.join("q6.toml");
    std::fs::write(
        &p,
        "preset = \"squeezenet1_1\"\n[quantization]\nweight_bits = 6\n[quantization.layers]\nconv1 = 8\n",
    )
    .unwrap();
    let v = info_json(&["--config", p.to_str().unwrap()]);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers[0]["weight_bits"], 8);
    assert_eq!(layers[0]["stored_bytes"], 1728);
    let c10 = layers.iter().find(|l| l["name"] == "conv10").unwrap();
    assert_eq!(c10["weight_bits"], 6);
    assert_eq!(c10["stored_bytes"], 512_000 * 6 / 8 + 64);
    let n_coded = layers
        .iter()
        .filter(|l| l["kind"] == "conv" && l["name"] != "conv1")
        .count() as u64;
    assert_eq!(n_coded, 25);
    let want = 1728 + ((weights - 1728) * 6).div_ceil(8) + 64 * n_coded;
    let got = v["stored_weight_bytes"].as_u64().unwrap();
    // Per-layer rounding up to whole bytes: within a byte a layer.
    assert!(got >= want && got <= want + n_coded, "{got} vs {want}");
    let (ok, out, _) = squeezeflow(&["info", "--config", p.to_str().unwrap()]);
    assert!(ok);
    assert!(
        out.contains("pruning") && out.contains("6 bits 0.928 MB"),
        "{out}"
    );

    let (ok, out, err) = squeezeflow(&["dse", "--no-hardware", "--weight-bits", "6", "--json"]);
    assert!(ok, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["weight_bits"], 6);
    for pt in d["points"].as_array().unwrap() {
        let (i8b, st) = (
            pt["int8_bytes"].as_u64().unwrap(),
            pt["stored_bytes"].as_u64().unwrap(),
        );
        // Weights at 6 of 8 bits (biases unchanged, 64-byte codebooks added).
        assert!(st < i8b && st as f64 > 0.7 * i8b as f64, "{st} vs {i8b}");
    }
    let (ok, _, err) = squeezeflow(&["dse", "--no-hardware", "--weight-bits", "3"]);
    assert!(!ok && err.contains("quantization.weight_bits"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
