//! `gen --device/--board`, `synth` on a small bundle (Yosys, about a minute), `build` (a ULX3S
//! bitstream with the open flow, minutes) and `dse`.

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

/// A SqueezeNet of one Fire module on 16x16 frames: a bundle Yosys maps in about a minute.
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

fn mini_config(dir: &Path) -> String {
    let p = dir.join("mini.toml");
    std::fs::write(&p, MINI).unwrap();
    p.display().to_string()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn unknown_devices_and_boards_are_refused_with_the_list() {
    let d = scratch("gen_bad_device");
    let cfg = mini_config(&d);
    let out = d.join("b").display().to_string();
    let (ok, _, err) = squeezeflow(&["gen", "--config", &cfg, "--device", "xc7z020", "-o", &out]);
    assert!(!ok);
    for name in ["xc7a200t", "xc7k325t", "xczu7ev", "lfe5u-85f"] {
        assert!(err.contains(name), "{err}");
    }
    let (ok, _, err) = squeezeflow(&["gen", "--config", &cfg, "--board", "arty", "-o", &out]);
    assert!(
        !ok && err.contains("unknown board 'arty'") && err.contains("zcu104"),
        "{err}"
    );
    let (ok, _, err) = squeezeflow(&[
        "gen", "--config", &cfg, "--board", "kc705", "--device", "xczu7ev", "-o", &out,
    ]);
    assert!(!ok && err.contains("disagree"), "{err}");
    // The help lists the devices.
    let (_, help, _) = squeezeflow(&["gen", "--help"]);
    assert!(
        help.contains("xczu7ev") && help.contains("nexys_video"),
        "{help}"
    );
}

#[test]
fn the_full_v1_1_is_refused_by_the_ecp5_with_the_shortfall() {
    let d = scratch("gen_ecp5_refusal");
    let out = d.join("b").display().to_string();
    let (ok, _, err) = squeezeflow(&["gen", "--device", "lfe5u-85f", "-o", &out]);
    assert!(!ok);
    assert!(
        err.contains("does not fit the lfe5u-85f") && err.contains("EBR needed, 208 available"),
        "{err}"
    );
}

#[test]
fn rom_logic_layers_get_lut_roms() {
    let d = scratch("gen_rom_logic");
    let cfg = d.join("v11.toml");
    std::fs::write(
        &cfg,
        "preset = \"squeezenet1_1\"\n[hardware]\nmac_budget = 300\nrom_logic = [\"fire4.expand3x3\"]\n",
    )
    .unwrap();
    let out = d.join("b");
    let (ok, _, err) = squeezeflow(&[
        "gen",
        "--config",
        &cfg.display().to_string(),
        "--device",
        "xc7k325t",
        "-o",
        &out.display().to_string(),
    ]);
    assert!(ok, "{err}");
    let m = manifest(&out);
    assert_eq!(
        m["folding"]["rom_logic"],
        serde_json::json!(["fire4.expand3x3"])
    );
    assert_eq!(
        m["resources"]["rom_logic_roms"],
        serde_json::json!(["fire4.expand3x3"])
    );
    assert!(m["resources"]["luts"].as_u64().unwrap() > 0);
    // Exactly that layer's weight ROMs are sqf_rom_lut instances, one per PE.
    let src = |i: usize| out.join(m["rtl"][i].as_str().unwrap());
    let top = std::fs::read_to_string(src(1)).unwrap();
    let pe = m["folding"]["fold"]["fire4.expand3x3"]["pe"]
        .as_u64()
        .unwrap();
    assert_eq!(top.matches("sqf_rom_lut #").count() as u64, pe);
    assert!(top
        .lines()
        .any(|ln| ln.contains("sqf_rom_lut #") && ln.contains("\"mem/fire4_expand3x3_w0.mem\"")));
    let lib = std::fs::read_to_string(src(0)).unwrap();
    assert!(
        lib.lines()
            .any(|l| l.starts_with("module ") && l.ends_with("sqf_rom_lut #("))
            && lib.contains("rom_style = \"logic\"")
    );
}

#[test]
fn gen_board_puts_the_constraints_in_the_bundle_and_synth_reads_it_in_place() {
    let d = scratch("gen_board_synth");
    let cfg = mini_config(&d);
    let b = d.join("bundle");
    let bs = b.display().to_string();
    let (ok, out, err) =
        squeezeflow(&["gen", "--config", &cfg, "--board", "nexys-video", "-o", &bs]);
    assert!(ok, "{err}");
    assert!(out.contains("xc7a200t (nexys_video)"), "{out}");
    assert!(
        out.contains(
            "constraints: constraints/nexys_video.xdc, constraints/nexys_video_accel.xdc, \
             constraints/nexys_video_accel_top.v"
        ),
        "{out}"
    );
    let m = manifest(&b);
    assert_eq!(m["board"], "nexys_video");
    assert_eq!(m["device"]["name"], "xc7a200t");
    assert_eq!(m["clock_mhz"], 150.0);
    let files: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for c in m["constraints"].as_array().unwrap() {
        let c = c.as_str().unwrap();
        assert!(b.join(c).is_file(), "{c} not in the bundle");
        assert!(files.contains(&c), "{c} not in the manifest's files");
    }
    let xdc = std::fs::read_to_string(b.join("constraints/nexys_video_accel.xdc")).unwrap();
    assert!(xdc.contains("PACKAGE_PIN R4") && xdc.contains("get_ports { sysclk }"));
    // vivado.tcl: the accelerator's constraints and wrapper (not the shell's), the wrapper on
    // top, the part from the device, a bitstream.
    let tcl = std::fs::read_to_string(b.join("vivado.tcl")).unwrap();
    for want in [
        "read_xdc constraints/nexys_video_accel.xdc",
        "read_verilog constraints/nexys_video_accel_top.v",
        "synth_design -top nexys_video_accel_top -part $part",
        "\"xc7a200tsbg484-1\"",
        "write_bitstream",
    ] {
        assert!(tcl.contains(want), "vivado.tcl lacks {want}:\n{tcl}");
    }
    assert!(
        !tcl.contains("read_xdc constraints/nexys_video.xdc"),
        "{tcl}"
    );

    // Yosys from the bundle's own directory (`$readmemh` names relative to it), against the
    // device and the estimate.
    let (ok, out, err) = squeezeflow(&["synth", &bs, "--json"]);
    assert!(ok, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = |name: &str| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["resource"] == name)
            .unwrap()
            .clone()
    };
    eprintln!("{}", serde_json::to_string(&r["rows"]).unwrap());
    let dsp = row("DSP");
    assert_eq!(
        dsp["yosys"], dsp["estimate"],
        "DSP: Yosys against the estimate"
    );
    assert_eq!(dsp["capacity"], 740.0);
    assert!(row("LUT")["yosys"].as_f64().unwrap() > 0.0);
    let bram = row("BRAM36");
    assert!(
        (bram["yosys"].as_f64().unwrap() - bram["estimate"].as_f64().unwrap()).abs() <= 1.0,
        "{bram}"
    );
    // Per layer: every DSP is attributed to its layer, and equals the layer's estimate.
    for l in r["layers"].as_array().unwrap() {
        if let Some(e) = l["estimate_dsp"].as_u64() {
            assert_eq!(l["dsp"].as_u64().unwrap(), e, "{l}");
        }
    }
    assert!(b.join("yosys.log").is_file());
}

/// `synth --pnr` says what is missing before any Yosys run: no open flow for a Xilinx part, and
/// no nextpnr (with the script that installs it) for an ECP5 bundle.
#[test]
fn synth_pnr_refuses_clearly_without_a_flow() {
    let d = scratch("synth_pnr_refusals");
    let cfg = mini_config(&d);
    for (board, dir) in [("kc705", "x"), ("ulx3s", "e")] {
        let out = d.join(dir).display().to_string();
        let (ok, _, err) = squeezeflow(&["gen", "--config", &cfg, "--board", board, "-o", &out]);
        assert!(ok, "{err}");
    }
    let x = d.join("x").display().to_string();
    let (ok, _, err) = squeezeflow(&["synth", &x, "--pnr"]);
    assert!(
        !ok && err.contains("no open place-and-route flow for the xc7k325t")
            && err.contains("Vivado"),
        "{err}"
    );
    assert!(
        !d.join("x/yosys.log").exists(),
        "Yosys ran before the refusal"
    );
    let empty = d.join("empty_cache");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
        .args(["synth", &d.join("e").display().to_string(), "--pnr"])
        .env("PATH", &empty)
        .env("SQUEEZEFLOW_CACHE", &empty)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("scripts/setup-ecp5.sh"),
        "{err}"
    );
    assert!(
        !d.join("e/yosys.log").exists(),
        "Yosys ran before the refusal"
    );
}

/// Opt-in (minutes; needs scripts/setup-ecp5.sh): a small network on the ECP5 through Yosys
/// and nextpnr: the routed design reports an fmax, and nextpnr's cell counts agree with Yosys'.
#[test]
#[ignore = "needs nextpnr-ecp5 (scripts/setup-ecp5.sh) and several minutes"]
fn ecp5_bundle_places_and_routes_with_an_fmax() {
    let d = scratch("synth_pnr_ecp5");
    let cfg = mini_config(&d);
    let b = d.join("b").display().to_string();
    let (ok, _, err) = squeezeflow(&["gen", "--config", &cfg, "--board", "ulx3s", "-o", &b]);
    assert!(ok, "{err}");
    let (ok, out, err) = squeezeflow(&["synth", &b, "--pnr", "--json"]);
    assert!(ok, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fmax = r["pnr"]["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 1.0 && fmax < 1000.0, "{fmax}");
    let dsp = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["resource"] == "DSP")
        .unwrap()["yosys"]
        .as_f64()
        .unwrap();
    assert_eq!(
        r["pnr"]["utilization"]["MULT18X18D"][0].as_f64().unwrap(),
        dsp
    );
    assert!(d.join("b/top.config").is_file());
    let lpf = std::fs::read_to_string(d.join("b/pnr.lpf")).unwrap();
    let clock = manifest(&d.join("b"))["clock_mhz"].as_f64().unwrap();
    assert!(
        lpf.contains(&format!("FREQUENCY PORT \"aclk\" {clock} MHZ;"))
            && lpf.contains("SITE \"G2\""),
        "{lpf}"
    );
}

#[test]
fn the_board_wrappers_fit_the_bundle_top() {
    if Command::new("yosys").arg("-V").output().is_err() {
        panic!("yosys is not installed (run scripts/setup.sh)");
    }
    let d = scratch("gen_board_wrappers");
    let cfg = mini_config(&d);
    for (board, wrapper) in [
        ("kc705", "kc705_accel_top"),
        ("zcu104", "zcu104_accel_top"),
        ("nexys_video", "nexys_video_accel_top"),
        ("ulx3s", "ulx3s_accel_top"),
    ] {
        let b = d.join(board);
        let bs = b.display().to_string();
        let (ok, _, err) = squeezeflow(&["gen", "--config", &cfg, "--board", board, "-o", &bs]);
        assert!(ok, "{err}");
        // Elaborate the wrapper over the bundle (ports and names checked; no synthesis).
        let m = manifest(&b);
        let rtl: Vec<&str> = m["rtl"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        // The family's primitives as black boxes: an ECP5 bundle instantiates MULT18X18Ds.
        let cells = if board == "ulx3s" {
            "+/ecp5/cells_bb.v"
        } else {
            "+/xilinx/cells_sim.v +/xilinx/cells_xtra.v"
        };
        let script = format!(
            "read_verilog -lib {cells}; read_verilog -defer {} constraints/{wrapper}.v; hierarchy -check -top {wrapper}",
            rtl.join(" ")
        );
        let out = Command::new("yosys")
            .current_dir(&b)
            .args(["-q", "-p", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{board}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if board == "zcu104" {
            // URAM device: the line buffers are marked for UltraRAM.
            let lib = std::fs::read_to_string(b.join(rtl[0])).unwrap();
            assert!(lib.contains("(* ram_style = \"ultra\" *)"));
        }
    }
}

fn dse_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["dse", "--json"];
    a.extend_from_slice(args);
    let (ok, out, err) = squeezeflow(&a);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn at<'a>(d: &'a serde_json::Value, sweep: &str, sr: f64, pct: f64) -> &'a serde_json::Value {
    d["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sweep"] == sweep && p["sr"] == sr && p["pct_3x3"] == pct)
        .unwrap()
}

#[test]
fn the_sweep_reproduces_the_papers_model_sizes() {
    let d = dse_json(&["--no-hardware"]);
    assert_eq!(d["points"].as_array().unwrap().len(), 17);
    // SR = 0.125 is SqueezeNet v1.0 itself: 4.8 MB in the paper, which is MiB.
    let p = at(&d, "sr", 0.125, 0.5);
    assert_eq!(p["params"], 1_248_424);
    assert_eq!(format!("{:.1}", p["fp32_mib"].as_f64().unwrap()), "4.8");
    // SR = 0.5: 13 MB (MiB); SR = 0.75: 19 MB (10^6 bytes).
    let p = at(&d, "sr", 0.5, 0.5);
    assert_eq!(format!("{:.0}", p["fp32_mib"].as_f64().unwrap()), "13");
    let p = at(&d, "sr", 0.75, 0.5);
    assert_eq!(format!("{:.0}", p["fp32_mb"].as_f64().unwrap()), "19");
    // int8: a quarter of the weights' fp32 bytes, plus 4-byte biases.
    assert!(p["int8_bytes"].as_u64().unwrap() < p["params"].as_u64().unwrap() * 2);
    // Both sweeps meet at SR = 0.5, pct_3x3 = 0.5.
    assert_eq!(
        at(&d, "pct_3x3", 0.5, 0.5)["params"],
        at(&d, "sr", 0.5, 0.5)["params"]
    );
}

#[test]
fn the_sweep_costs_hardware_and_plots_it() {
    let dir = scratch("dse_plots");
    let svg = dir.display().to_string();
    let d = dse_json(&["--fps", "100", "--clock-mhz", "200", "--svg", &svg]);
    let lanes = |sr: f64| at(&d, "sr", sr, 0.5)["mac_lanes"].as_u64().unwrap();
    assert!(lanes(0.125) < lanes(0.5) && lanes(0.5) < lanes(1.0));
    for p in d["points"].as_array().unwrap() {
        assert!(p["fps"].as_f64().unwrap() >= 100.0, "{p}");
        assert!(p["bram"].as_f64().unwrap() > 0.0);
    }
    for f in [
        "dse_sr_fp32_mib.svg",
        "dse_sr_mac_lanes.svg",
        "dse_pct_3x3_bram36.svg",
    ] {
        let s = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(
            s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
            "{f}"
        );
        assert!(s.contains("<polyline"), "{f}");
    }
    // On a device: the points that do not fit say why.
    let d = dse_json(&["--device", "xc7a200t", "--no-hardware"]);
    assert!(d["points"][0]["fps"].is_null());
    let d = dse_json(&["--device", "xczu7ev", "--input-size", "64"]);
    let p = at(&d, "sr", 0.125, 0.5);
    assert!(p["fps"].as_f64().is_some() || p["note"].is_string(), "{p}");
    let p = at(&d, "sr", 1.0, 0.5);
    assert!(p["note"].as_str().unwrap().contains("RAMB36 needed"), "{p}");
}

/// Every frame rate on a device says what its clock rests on: a place-and-route result for the
/// ECP5, a target for the Xilinx parts (no open place and route for them), and there also the
/// clock the delay model supports.
#[test]
fn frame_rates_on_a_device_name_their_clocks_evidence() {
    let d = scratch("clock_evidence");
    let cfg = mini_config(&d);
    for (board, words) in [
        ("ulx3s", "nextpnr"),
        ("nexys_video", "a target, not a timing result"),
    ] {
        let b = d.join(board).display().to_string();
        let (ok, out, err) = squeezeflow(&["gen", "--config", &cfg, "--board", board, "-o", &b]);
        assert!(ok, "{err}");
        assert!(out.contains(words), "{board}: {out}");
        assert_eq!(
            manifest(Path::new(&b))["device"]["clock_evidence"]
                .as_str()
                .map(|e| e.contains(words)),
            Some(true)
        );
    }
    let v = dse_json(&["--device", "xczu7ev"]);
    assert!(
        v["clock_evidence"].as_str().unwrap().contains("target"),
        "{v}"
    );
    assert!(dse_json(&[])["clock_evidence"].is_null());
    // Where no place and route exists, the frame rates also come at the clock the delay model
    // supports, which says what it rests on.
    let (ok, out, err) = squeezeflow(&[
        "gen",
        "--config",
        &cfg,
        "--board",
        "nexys_video",
        "-o",
        &d.join("model").display().to_string(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("the clock the delay model supports"), "{out}");
    let a = dse_json(&["--device", "xc7a200t"]);
    let m = a["modelled_mhz"].as_f64().expect("a modelled clock");
    assert!(m > 0.0, "{a}");
    assert!(
        a["modelled_evidence"]
            .as_str()
            .unwrap()
            .contains("timing.md"),
        "{a}"
    );
    for p in a["points"].as_array().unwrap() {
        if let Some(c) = p["cycles_per_frame"].as_f64() {
            let fm = p["fps_modelled"]
                .as_f64()
                .expect("fps at the modelled clock");
            assert!((fm - m * 1e6 / c).abs() < 1e-6 * fm, "{p}");
        }
    }
}

/// `gen` of the one-Fire network into `dir/b` with `extra` arguments.
fn gen_mini(dir: &Path, extra: &[&str]) -> String {
    let cfg = mini_config(dir);
    let out = dir.join("b").display().to_string();
    let mut args = vec!["gen", "--config", &cfg, "-o", &out];
    args.extend_from_slice(extra);
    let (ok, _, err) = squeezeflow(&args);
    assert!(ok, "{err}");
    out
}

/// `build`, the whole open flow on the ULX3S at 50 MHz (about 8 minutes; scripts/test.sh runs
/// scripts/setup-ecp5.sh): the PLL makes 50 MHz from the board's 25 MHz
/// (25 / 1 x 2), nextpnr meets it, and ecppack writes an ECP5 bitstream.
#[test]
fn a_ulx3s_bundle_builds_to_a_bitstream() {
    let d = scratch("build_ulx3s");
    let b = gen_mini(&d, &["--board", "ulx3s", "--clock-mhz", "50"]);
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
    // The text report says how to program it. With two placements, nextpnr's default seed and
    // seed 1, both are listed and the faster kept (its fmax the report's).
    let _ = std::fs::remove_file(&bit);
    let (ok, text, err) = squeezeflow(&["build", &b, "--seeds", "2", "-o", bit.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(text.contains("openFPGALoader -b ulx3s"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("placer seeds"))
        .unwrap_or_else(|| panic!("no seeds line: {text}"));
    let runs: Vec<(&str, f64)> = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split(", ")
        .map(|x| {
            let (seed, f) = x.split_once(' ').unwrap();
            (seed, f.parse().unwrap())
        })
        .collect();
    let seeds: Vec<&str> = runs.iter().map(|r| r.0).collect();
    assert_eq!(seeds, ["default", "1"], "{line}");
    let fmax: Vec<f64> = runs.iter().map(|r| r.1).collect();
    let best = fmax.iter().cloned().fold(f64::MIN, f64::max);
    assert!(
        text.contains(&format!("fmax {best:.1} MHz")),
        "{line}\n{text}"
    );
    for s in ["build_s1.config", "nextpnr_report_s1.json"] {
        assert!(Path::new(&b).join("build").join(s).is_file(), "{s}");
    }
    assert!(!Path::new(&b).join("build/build_s2.config").exists());
    assert!(std::fs::read(&bit).unwrap().len() > 100_000);
    // A time limit no placement meets: each one is stopped, and the build says so.
    let (ok, _, err) = squeezeflow(&["build", &b, "--seeds", "2", "--pnr-minutes", "0.001"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("no placement finished within --pnr-minutes 0.001 (2 tried"),
        "{err}"
    );
    assert!(err.contains("nextpnr stopped after"), "{err}");
}

#[test]
fn bundles_without_an_open_flow_are_refused_before_any_tool_runs() {
    let d = scratch("build_refused");
    let b = gen_mini(&d, &[]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(!ok && err.contains("without --board"), "{err}");
    assert!(!Path::new(&b).join("build").exists());
    let d = scratch("build_refused_xilinx");
    let b = gen_mini(&d, &["--board", "nexys_video"]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(
        !ok && err.contains("nexys_video") && err.contains("vivado.tcl"),
        "{err}"
    );
    // A clock the PLL cannot make.
    let d = scratch("build_refused_clock");
    let b = gen_mini(&d, &["--board", "ulx3s", "--clock-mhz", "450"]);
    let (ok, _, err) = squeezeflow(&["build", &b]);
    assert!(!ok && err.contains("450 MHz"), "{err}");
    // Not a bundle.
    let (ok, _, err) = squeezeflow(&["build", d.join("nothing").to_str().unwrap()]);
    assert!(!ok && err.contains("nothing"), "{err}");
    // No placement at all.
    let (ok, _, err) = squeezeflow(&["build", &b, "--seeds", "0"]);
    assert!(!ok && err.contains("--seeds"), "{err}");
    // A time limit that is no number of minutes, refused before any tool runs.
    for m in ["0", "-1", "NaN"] {
        let (ok, _, err) = squeezeflow(&["build", &b, &format!("--pnr-minutes={m}")]);
        assert!(!ok && err.contains("--pnr-minutes"), "{m}: {err}");
    }
    let (ok, _, err) = squeezeflow(&["build", &b, "--pnr-minutes", "soon"]);
    assert!(!ok && err.contains("soon"), "{err}");
    assert!(!Path::new(&b).join("build").exists());
}
