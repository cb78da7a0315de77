//! `build`: a ULX3S bundle to a bitstream with the open flow (Yosys, nextpnr-ecp5 and ecppack
//! from scripts/setup-ecp5.sh), a few minutes on a network of one Fire module; the bundles it
//! cannot build are refused before any tool runs.

use std::path::{Path, PathBuf};
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

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/squeezeflow-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A SqueezeNet of one Fire module on 16x16 frames (as in synth_dse.rs).
const MINI: &str = r#"
preset = "squeezenet1_1"
input_size = 16
num_classes = 4
pool_after = ["conv1"]
[conv1]
channels = 4
kernel = 3
stride = 2
[[fire]]
squeeze = 2
expand1x1 = 4
expand3x3 = 4
"#;

fn gen(dir: &Path, extra: &[&str]) -> String {
    let cfg = dir.join("mini.toml");
    std::fs::write(&cfg, MINI).unwrap();
    let out = dir.join("b").display().to_string();
    let mut args = vec!["gen", "--config", cfg.to_str().unwrap(), "-o", &out];
    args.extend_from_slice(extra);
    let (ok, _, err) = squeezeflow(&args);
    assert!(ok, "{err}");
    out
}

/// The whole flow on the ULX3S at 50 MHz: the PLL makes 50 MHz from the board's 25 MHz
/// (25 / 1 x 2), nextpnr meets it, and ecppack writes an ECP5 bitstream.
#[test]
fn a_ulx3s_bundle_builds_to_a_bitstream() {
    let d = scratch("build_ulx3s");
    let b = gen(&d, &["--board", "ulx3s", "--clock-mhz", "50"]);
    let bit = d.join("mini.bit");
    let (ok, out, err) = squeezeflow(&["build", &b, "--json", "-o", bit.to_str().unwrap()]);
    assert!(ok, "{err}\n{out}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["board"], "ulx3s");
    assert_eq!(r["built_clock_mhz"].as_f64(), Some(50.0));
    let pll = r["pll"].as_str().unwrap();
    assert!(pll.contains("25 MHz / 1 x 2"), "{pll}");
    // 50 MHz / 115,200 baud
    assert_eq!(r["divisor"].as_u64(), Some(434));
    assert_eq!(r["timing_met"], true);
    let fmax = r["pnr"]["fmax_mhz"].as_f64().unwrap();
    assert!(fmax >= 50.0, "{fmax}");
    // The placed design: the PLL, the multipliers of the engines, the shell's four pins.
    let used = |c: &str| r["pnr"]["utilization"][c][0].as_u64().unwrap_or(0);
    assert_eq!(used("EHXPLLL"), 1);
    assert_eq!(used("TRELLIS_IO"), 4);
    assert!(used("MULT18X18D") > 0);
    assert!(r["pnr"]["critical_path"]["from"].as_str().is_some());
    // An ECP5 bitstream: its sync word 0xFFFFBDB3 after the comment header.
    let bytes = std::fs::read(&bit).unwrap();
    assert!(bytes.len() > 100_000, "{}", bytes.len());
    assert!(
        bytes.windows(4).any(|w| w == [0xFF, 0xFF, 0xBD, 0xB3]),
        "no ECP5 sync word in {}",
        bit.display()
    );
    assert_eq!(r["bitstream"].as_str(), bit.to_str());
    // The text report says how to program it.
    let (ok, text, err) = squeezeflow(&["build", &b, "-o", bit.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(text.contains("openFPGALoader -b ulx3s"), "{text}");
}

#[test]
fn bundles_without_an_open_flow_are_refused_before_any_tool_runs() {
    let d = scratch("build_refused");
    let b = gen(&d, &[]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(!ok && err.contains("without --board"), "{err}");
    assert!(!Path::new(&b).join("build").exists());
    let d = scratch("build_refused_xilinx");
    let b = gen(&d, &["--board", "nexys_video"]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(
        !ok && err.contains("nexys_video") && err.contains("vivado.tcl"),
        "{err}"
    );
    // A clock the PLL cannot make.
    let d = scratch("build_refused_clock");
    let b = gen(&d, &["--board", "ulx3s", "--clock-mhz", "450"]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(!ok && err.contains("450 MHz"), "{err}");
    // Not a bundle.
    let (ok, _, err) = squeezeflow(&["build", d.join("nothing").to_str().unwrap()]);
    assert!(!ok && err.contains("nothing"), "{err}");
}
