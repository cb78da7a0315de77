//! Input a user may feed the command line by mistake: a clear error and a defined exit status,
//! never a panic (exit 101).

use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
}

/// Standard output on a full device: an error naming standard output, exit 1.
#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    for args in [
        &["info"][..],
        &["info", "--json"],
        &["info", "--preset", "squeezenet1_0"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = bin().args(args).stdout(full).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("writing to standard output"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Standard output closed before anything is written (`squeezeflow info | true`): the output
/// ends there, exit 0, nothing on standard error.
#[test]
fn a_closed_stdout_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin()
        .arg("info")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// `--baud` and `--retries` out of their bounds are usage errors (exit 2), before anything runs.
#[test]
fn board_link_settings_are_bounded() {
    for (flag, value) in [("--baud", "0"), ("--baud", "1"), ("--retries", "1000000")] {
        let out = bin()
            .args(["board", "--bundle", "no-such-bundle", "--sim", flag, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(
            err.contains(flag) && !err.contains("panicked"),
            "{flag} {value}: {err}"
        );
    }
}

/// Every file below `dir`, as paths relative to it (`mem/conv1_w0.mem`).
fn files_below(dir: &std::path::Path, prefix: &str) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            v.extend(files_below(&e.path(), &format!("{name}/")));
        } else {
            v.push(name);
        }
    }
    v
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sizes past the bounds of `squeezeflow_model::limits` are refused before memory is spent:
/// an endless config or model file, an input size of 100,000, a 372-byte PNG of 100,000 x 1.
#[test]
fn oversized_input_is_refused_before_it_is_read() {
    let (code, err) = run(&["info", "--config", "/dev/zero"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("larger than"),
        "{err}"
    );
    let (code, err) = run(&["classify", "--model", "/dev/zero", "synthetic:1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("larger than"), "{err}");
    let (code, err) = run(&["info", "--input-size", "100000"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("input_size"), "{err}");

    let dir = std::env::temp_dir().join(format!("squeezeflow-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("line.png");
    image::RgbImage::new(100_000, 1).save(&png).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() < 4096);
    let (code, err) = run(&["classify", png.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("100000x1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A network's name is data: `gen` without `-o` writes under `out/` whatever the name says, and
/// `classify` with no frames is an error, not an empty success.
#[test]
fn names_are_not_paths_and_no_frames_is_an_error() {
    let dir = std::env::temp_dir().join(format!("squeezeflow-names-{}", std::process::id()));
    let work = dir.join("a").join("b");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("net.toml"),
        "preset = \"squeezenet1_1\"\nname = \"../../escape\"\ninput_size = 32\n",
    )
    .unwrap();
    let out = bin()
        .args(["gen", "--config", "net.toml"])
        .current_dir(&work)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(work
        .join("out")
        .join("_.._escape")
        .join("manifest.json")
        .is_file());
    // `out/../../escape` from `a/b` would have been `a/escape`.
    assert!(!dir.join("a").join("escape").exists());

    let (code, err) = run(&["classify", "synthetic:0"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no frames"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bundle whose manifest contradicts its model, or holds impossible values, is refused before
/// anything runs (a tampered logit scale printed logits 42,000x too large beside "match"; a clock
/// of 0 gave negative frames per second; 0 cycles gave "+inf%").
#[test]
fn a_manifest_cannot_contradict_its_model() {
    let dir = std::env::temp_dir().join(format!("squeezeflow-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("net.toml"),
        "preset = \"squeezenet1_1\"\nname = \"tiny\"\ninput_size = 32\n",
    )
    .unwrap();
    let bundle = dir.join("bundle");
    let out = bin()
        .args(["gen", "--config", "net.toml", "-o", "bundle"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = bundle.join("manifest.json");
    let good = std::fs::read_to_string(&path).unwrap();
    let tamper = |key: &str, value: serde_json::Value| {
        let mut m: serde_json::Value = serde_json::from_str(&good).unwrap();
        m[key] = value;
        std::fs::write(&path, serde_json::to_string(&m).unwrap()).unwrap();
        run(&["sim", "--bundle", bundle.to_str().unwrap(), "synthetic:1"])
    };
    let scale = serde_json::from_str::<serde_json::Value>(&good).unwrap()["logit_scale"]
        .as_f64()
        .unwrap();
    for (key, value, says) in [
        (
            "logit_scale",
            serde_json::json!(scale * 42_000.0),
            "logit scale",
        ),
        ("num_classes", serde_json::json!(10), "classes"),
        ("clock_mhz", serde_json::json!(0.0), "clock_mhz"),
        ("clock_mhz", serde_json::json!(-5.0), "clock_mhz"),
        ("cycles_per_frame", serde_json::json!(0), "cycles_per_frame"),
    ] {
        let (code, err) = tamper(key, value.clone());
        assert_eq!(code, Some(1), "{key} = {value}: {err}");
        assert!(err.contains(says), "{key} = {value}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two `gen` runs of different networks into the same folder at once leave one whole bundle:
/// its manifest's files are exactly the folder's, and its model hash is its model file's (the
/// runs used to interleave their files). A folder holding other things is never replaced.
#[test]
fn concurrent_gens_leave_a_whole_bundle() {
    let dir = std::env::temp_dir().join(format!("squeezeflow-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("bundle");
    for round in 0..3 {
        let gens: Vec<_> = ["squeezenet1_0", "squeezenet1_1"]
            .iter()
            .map(|preset| {
                bin()
                    .args(["gen", "--preset", preset, "--input-size", "64", "-o"])
                    .arg(&out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for g in gens {
            let o = g.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        let mut listed: Vec<String> = m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        let mut present = files_below(&out, "");
        listed.sort();
        present.sort();
        assert_eq!(listed, present, "round {round}");
        let model = std::fs::read(out.join("model.safetensors")).unwrap();
        let hash = format!("{:016x}", squeezeflow_hw::bundle::fnv1a64(&model));
        assert_eq!(m["model_hash"], hash.as_str(), "round {round}");
    }
    // Nothing left beside it, and a folder of other files is refused, not replaced.
    let beside: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep").unwrap();
    let o = bin().args(["gen", "-o"]).arg(&mine).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a squeezeflow bundle"));
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--top-name` must be a plain Verilog name (it names the top module and prefixes every module
/// below it); `--pixel-format` takes rgb24 or rgbx32. A good name reaches the bundle.
#[test]
fn top_names_are_verilog_names() {
    for bad in ["9lives", "a-b", "a$b", "module", "../x"] {
        let (code, err) = run(&[
            "gen",
            "--preset",
            "squeezenet1_1",
            "--input-size",
            "32",
            "--top-name",
            bad,
            "-o",
            "never-written",
        ]);
        assert_eq!(code, Some(1), "{bad}: {err}");
        assert!(
            err.contains("--top-name") && err.contains(bad),
            "{bad}: {err}"
        );
        assert!(!std::path::Path::new("never-written").exists());
    }
    let (code, err) = run(&["gen", "--pixel-format", "rgb16"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("rgbx32"), "{err}");
    let dir = std::env::temp_dir().join(format!("squeezeflow-topname-{}", std::process::id()));
    let (code, err) = run(&[
        "gen",
        "--input-size",
        "32",
        "--top-name",
        "cam_net",
        "--pixel-format",
        "rgbx32",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let top = std::fs::read_to_string(dir.join("rtl").join("cam_net.v")).unwrap();
    assert!(top.contains("module cam_net (") && top.contains("input  wire [31:0] s_axis_tdata"));
    let lib = std::fs::read_to_string(dir.join("rtl").join("cam_net_lib.v")).unwrap();
    assert!(lib.contains("module cam_net_sqf_mac ") || lib.contains("module cam_net_sqf_mac2 "));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bundle's memory files are checked before Verilator reads them: a word that is not hex (which
/// stopped Verilator with a fatal error that took the process down), a file cut in half (which
/// passed a one-frame sim), each named with the file, even when edits are allowed.
#[test]
fn malformed_memory_files_are_named_before_verilator_runs() {
    let dir = std::env::temp_dir().join(format!("squeezeflow-memcheck-{}", std::process::id()));
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tiny.toml");
    let (code, err) = run(&["gen", "--config", data, "-o", dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let mem = dir.join("mem").join("conv10_w0.mem");
    let good = std::fs::read_to_string(&mem).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let bundle = dir.to_str().unwrap();
    let mut bad_word = lines.clone();
    bad_word[1] = "0x7g";
    let half = lines[..lines.len() / 2].to_vec();
    for (what, text, want) in [
        (
            "bad word",
            bad_word,
            "line 2: `0x7g` is not a hexadecimal word",
        ),
        ("half", half, "the memory holds"),
    ] {
        std::fs::write(&mem, text.join("\n") + "\n").unwrap();
        for extra in [&[][..], &["--allow-edited"]] {
            let mut args = vec!["sim", "--bundle", bundle];
            args.extend_from_slice(extra);
            args.push("synthetic:1");
            let (code, err) = run(&args);
            assert_eq!(code, Some(1), "{what} {extra:?}: {err}");
            let named = err.contains("mem/conv10_w0.mem");
            let why = err.contains(want) || (extra.is_empty() && err.contains("--allow-edited"));
            assert!(
                named && why && !err.contains("Aborting"),
                "{what} {extra:?}: {err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Frames named wrongly get the reason: `-` twice (standard input is read once), a symlink loop
/// (not "no such file"), a JPEG cut in half (it decoded, grey below the cut, without a word).
#[test]
fn frame_arguments_say_what_is_wrong() {
    let (code, err) = run(&["classify", "-", "-"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("standard input") && err.contains("2 times"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("squeezeflow-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.png");
    let b = dir.join("b.png");
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let (code, err) = run(&["classify", a.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        !err.contains("no such file") && err.to_lowercase().contains("symbolic links"),
        "{err}"
    );

    let jpg = dir.join("cut.jpg");
    let mut img = image::RgbImage::new(64, 64);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x ^ y) * 4) as u8]);
    }
    img.save(&jpg).unwrap();
    let (code, err) = run(&["classify", jpg.to_str().unwrap()]);
    assert_eq!(code, Some(0), "the whole JPEG reads: {err}");
    let bytes = std::fs::read(&jpg).unwrap();
    std::fs::write(&jpg, &bytes[..bytes.len() / 2]).unwrap();
    let (code, err) = run(&["classify", jpg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cut.jpg") && err.contains("end-of-image"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
