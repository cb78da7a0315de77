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
