//! `squeezeflow gen` and `squeezeflow sim` as a user runs them, on a small network, including
//! the failures a user can cause: a truncated video, an unreadable image, a bundle with a missing
//! or altered memory file, and a machine without Verilator.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tiny network (shared with the regress tests).
const TINY: &str = include_str!("data/tiny.toml");

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run squeezeflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn workdir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gen(dir: &Path) -> PathBuf {
    let cfg = dir.join("tiny.toml");
    std::fs::write(&cfg, TINY).unwrap();
    let bundle = dir.join("bundle");
    let (ok, out, err) = run(bin()
        .args(["gen", "--config"])
        .arg(&cfg)
        .arg("-o")
        .arg(&bundle));
    assert!(ok, "gen failed: {err}");
    assert!(out.contains("tiny") && out.contains("MAC lanes"), "{out}");
    bundle
}

#[test]
fn gen_then_sim_matches_the_reference_with_stalls() {
    let dir = workdir("sim_ok");
    let bundle = gen(&dir);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["num_classes"], 8);
    assert!(manifest["mac_lanes"].as_u64().unwrap() <= 24);
    // Every .mem file the manifest lists is in the bundle, named relative to it.
    for f in manifest["files"].as_array().unwrap() {
        assert!(bundle.join(f.as_str().unwrap()).is_file(), "{f}");
    }
    let report = dir.join("report.json");
    let (ok, out, err) = run(bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .args(["synthetic:4", "--stall", "0.3", "--report"])
        .arg(&report));
    assert!(ok, "sim failed:\n{out}\n{err}");
    assert!(out.contains("4 of 4 frames match"), "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["matched"], 4);
    assert_eq!(r["frame_reports"].as_array().unwrap().len(), 4);

    // Without stalls the steady-state cycles per frame equal the estimate within 2%.
    let (ok, out, err) = run(bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .args(["synthetic:3", "--report"])
        .arg(&report));
    assert!(ok, "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let dev = r["deviation"].as_f64().unwrap();
    assert!(dev.abs() <= 0.02, "deviation {dev}: {out}");
}

#[test]
fn bad_frames_are_clear_errors() {
    let dir = workdir("sim_bad_frames");
    let bundle = gen(&dir);
    // A Y4M whose second frame is cut short.
    let mut y4m = b"YUV4MPEG2 W24 H24 F30:1 C420jpeg XCOLORRANGE=FULL\n".to_vec();
    for _ in 0..2 {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend(std::iter::repeat_n(128u8, 24 * 24 * 3 / 2));
    }
    y4m.truncate(y4m.len() - 100);
    let clip = dir.join("cut.y4m");
    std::fs::write(&clip, &y4m).unwrap();
    let (ok, _, err) = run(bin().args(["sim", "--bundle"]).arg(&bundle).arg(&clip));
    assert!(!ok);
    assert!(err.contains("frame 1 is truncated"), "{err}");
    // Unsupported chroma.
    let bad = dir.join("p10.y4m");
    std::fs::write(&bad, b"YUV4MPEG2 W24 H24 F30:1 C420p10\nFRAME\n").unwrap();
    let (ok, _, err) = run(bin().args(["sim", "--bundle"]).arg(&bundle).arg(&bad));
    assert!(!ok && err.contains("C420p10"), "{err}");
    // An image that cannot be read.
    let img = dir.join("broken.png");
    std::fs::write(&img, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let (ok, _, err) = run(bin().args(["sim", "--bundle"]).arg(&bundle).arg(&img));
    assert!(!ok && err.contains("broken.png"), "{err}");
}

#[test]
fn a_missing_or_altered_memory_file_is_caught() {
    let dir = workdir("sim_bad_bundle");
    let bundle = gen(&dir);
    let mem = std::fs::read_dir(bundle.join("mem"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("fire3_expand3x3_w0")
        })
        .unwrap();
    let text = std::fs::read_to_string(&mem).unwrap();
    std::fs::remove_file(&mem).unwrap();
    let (ok, _, err) = run(bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:1"));
    assert!(!ok);
    assert!(
        err.contains("memory file") && err.contains("fire3_expand3x3_w0"),
        "{err}"
    );

    // Alter one weight: sim refuses the edited bundle, naming the file; allowed, the hardware
    // no longer computes the model, and sim says where.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let w = u64::from_str_radix(&lines[0], 16).unwrap() ^ 0x40;
    lines[0] = format!("{w:0width$x}", width = lines[0].len());
    std::fs::write(&mem, lines.join("\n") + "\n").unwrap();
    let (ok, _, err) = run(bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:1"));
    assert!(
        !ok && err.contains("fire3_expand3x3_w0") && err.contains("--allow-edited"),
        "{err}"
    );
    let (ok, out, err) = run(bin()
        .args(["sim", "--allow-edited", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:2"));
    assert!(!ok, "an altered weight went unnoticed:\n{out}");
    assert!(out.contains("MISMATCH"), "{out}");
    assert!(
        err.contains("differ from the reference")
            && err.contains("expected")
            && err.contains("look at"),
        "{err}"
    );
    // A mismatch has its own exit status (3), apart from errors (1).
    let code = bin()
        .args(["sim", "--allow-edited", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:2")
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(3), "a logit mismatch exits with 3");
}

#[test]
fn a_machine_without_verilator_gets_a_clear_error() {
    let dir = workdir("sim_no_verilator");
    let bundle = gen(&dir);
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, _, err) = run(bin()
        .env("PATH", &empty)
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:1"));
    assert!(!ok);
    assert!(
        err.contains("verilator") && err.contains("not installed"),
        "{err}"
    );
}

#[test]
fn sim_reads_y4m_from_stdin_and_writes_a_vcd() {
    use std::io::Write;
    let dir = workdir("sim_stdin_vcd");
    let bundle = gen(&dir);
    let mut y4m = b"YUV4MPEG2 W24 H24 F30:1 C420jpeg XCOLORRANGE=FULL\n".to_vec();
    for i in 0..2u8 {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend((0..24 * 24 * 3 / 2).map(|k| (k as u8).wrapping_mul(7).wrapping_add(i * 40)));
    }
    let vcd = dir.join("run.vcd");
    let mut child = bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .arg("-")
        .arg("--vcd")
        .arg(&vcd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&y4m).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("stdin[1]") && stdout.contains("2 of 2 frames match"),
        "{stdout}"
    );
    let wave = std::fs::read_to_string(&vcd).unwrap();
    assert!(
        wave.contains("$enddefinitions") && wave.contains("m_axis_tdata"),
        "not a VCD of the design"
    );
}

#[test]
fn board_command_against_the_simulated_shell() {
    let dir = workdir("board_sim");
    let bundle = gen(&dir);
    let (ok, out, err) = run(bin()
        .args(["board", "--sim", "--bundle"])
        .arg(&bundle)
        .arg("synthetic:2"));
    assert!(ok, "board --sim failed:\n{out}\n{err}");
    assert!(out.contains("2 of 2 frames match"), "{out}");
    assert!(out.contains("cycles per byte"), "{out}");
}

/// A run that stops (here: its VCD cannot be written, a full disk) is squeezeflow's own error,
/// exit 1, and `--report` still holds what was done and why it stopped; an unwritable VCD path
/// is an error too (it wrote nothing and said nothing).
#[test]
fn a_stopped_run_is_an_error_with_its_report() {
    let dir = workdir("sim_stopped");
    let bundle = gen(&dir);
    let report = dir.join("r.json");
    let out = bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .args(["synthetic:2", "--vcd", "/dev/full", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("No space left") && !err.contains("Aborting"),
        "{err}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        r["error"].as_str().unwrap().contains("No space left"),
        "{r}"
    );
    let out = bin()
        .args(["sim", "--bundle"])
        .arg(&bundle)
        .args(["synthetic:1", "--vcd", "/nonexistent-dir/x.vcd"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write the VCD file /nonexistent-dir/x.vcd"),
        "{err}"
    );
}
