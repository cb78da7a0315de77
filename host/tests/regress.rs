//! `squeezeflow regress` as a user runs it, on small networks: cases on two workers, JUnit XML
//! checked against the JUnit schema, resuming, a mismatch found, re-run with a waveform and
//! re-run after the fix, shards merged equal to one run, a killed worker, and a real SLURM.

use std::path::{Path, PathBuf};
use std::process::Command;

use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::reference::{run, Path as RefPath};
use squeezeflow_model::{NetworkConfig, QuantModel};

/// A tiny network (shared with the sim tests).
const TINY: &str = include_str!("data/tiny.toml");

/// Two stall settings and two foldings of the tiny network, plus a simple-bypass variant.
const SPEC: &str = r#"
[defaults]
config = "tiny.toml"
frames = ["synthetic:6"]
frames_per_job = 2

[[case]]
name = "tiny"
stall = [0.0, 0.4]
seed = 5

[[case]]
name = "narrow"
mac_budget = 8

[[case]]
name = "bypass"
config = "tiny_bypass.toml"
frames = ["synthetic:3"]
"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_squeezeflow"))
}

fn workdir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    std::fs::write(
        d.join("tiny_bypass.toml"),
        TINY.replace(
            "name = \"tiny\"",
            "name = \"tiny-bypass\"\nbypass = \"simple\"",
        ),
    )
    .unwrap();
    std::fs::write(d.join("spec.toml"), SPEC).unwrap();
    d
}

/// Runs squeezeflow; returns (exit code, stdout, stderr).
fn sqf(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// FNV-1a 64 of little-endian u16 logits, computed here from the reference model directly.
fn digest(logits: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in logits.iter().flat_map(|v| v.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn junit_validates(file: &Path) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint (libxml2-utils; scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{} does not validate: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cases_run_on_workers_resume_and_find_a_corrupted_weight() {
    let dir = workdir("regress_main");
    let (code, out, err) = sqf(&["regress", "spec.toml", "-o", "r", "-j", "2"], &dir);
    assert_eq!(code, 0, "{out}\n{err}");
    let r = dir.join("r");
    let recs = records(&r);
    // 2 stall cases x 6 + 6 + 3 frames, every one matching.
    assert_eq!(recs.len(), 21, "{recs:?}");
    assert!(recs.iter().all(|x| x["verdict"] == "pass"), "{recs:?}");
    let cases: std::collections::BTreeSet<&str> =
        recs.iter().map(|x| x["case"].as_str().unwrap()).collect();
    assert_eq!(
        cases.into_iter().collect::<Vec<_>>(),
        ["bypass", "narrow", "tiny.stall=0", "tiny.stall=0.4"]
    );
    // The logits digests are those of the integer reference, computed here independently.
    let cfg = NetworkConfig::from_toml_str(TINY).unwrap();
    let m = QuantModel::synthetic(&cfg, 1).unwrap();
    for x in recs.iter().filter(|x| x["case"] == "narrow") {
        let i = x["frame"].as_u64().unwrap();
        // `synthetic:N` frames use seeds 1, 2, ...
        let f = synthetic_frame(m.network.input_shape(), 1 + i);
        let want = run(&m, &f, RefPath::Naive).unwrap().logits;
        assert_eq!(x["logits_digest"], digest(&want), "frame {i}");
    }
    // Steady-state cycles equal the estimate in the summary; the first of a unit is longer.
    let rep = report(&r);
    assert_eq!(rep["totals"]["passed"], 21);
    let narrow = &rep["cases"][2];
    assert_eq!(narrow["name"], "narrow");
    let est = narrow["estimated_cycles"].as_u64().unwrap();
    assert_eq!(narrow["frames"][1]["cycles"].as_u64().unwrap(), est);
    assert!(narrow["frames"][0]["cycles"].as_u64().unwrap() > est);
    junit_validates(&r.join("junit.xml"));
    let junit = std::fs::read_to_string(r.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 21);
    assert!(std::fs::read_to_string(r.join("summary.txt"))
        .unwrap()
        .contains("21 passed"));

    // Again into the same folder: nothing runs again.
    let (code, _, err) = sqf(&["regress", "spec.toml", "-o", "r"], &dir);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 units run, 11 passed earlier"), "{err}");
    assert_eq!(records(&r).len(), 21);

    // An interrupted run: the last records lost, the last line cut short. The resume runs only
    // the units whose frames are missing, and the file reads back whole.
    let text = std::fs::read_to_string(r.join("results.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = format!("{}\n{}", lines[..17].join("\n"), &lines[17][..30]);
    std::fs::write(r.join("results.jsonl"), cut).unwrap();
    let (code, _, err) = sqf(&["regress", "spec.toml", "-o", "r"], &dir);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("0 units run"), "{err}");
    assert_eq!(report(&r)["totals"]["passed"], 21);
    assert!(
        records(&r).len() < 21 + 21,
        "only the missing units ran again"
    );

    // A corrupted bias of class 0 in conv10 (the narrow case's bundle): the frames mismatch at
    // class 0, the exit status says mismatch (3), each failing frame gets a waveform.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["bundles"].as_array().unwrap().len(), 3);
    // The narrow case's bundle: the tiny network's with the fewest lanes.
    let narrow_bundle = std::fs::read_dir(r.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p.join("manifest.json")).ok()?)
                    .ok()?;
            (m["network"] == "tiny").then(|| (m["mac_lanes"].as_u64().unwrap(), p))
        })
        .min()
        .expect("the narrow bundle")
        .1;
    let bias = narrow_bundle.join("mem/conv10_p0.mem");
    let good = std::fs::read_to_string(&bias).unwrap();
    let mut words: Vec<String> = good.lines().map(String::from).collect();
    words[0] = "00100000".into();
    std::fs::write(&bias, words.join("\n") + "\n").unwrap();
    let (code, out, err) = sqf(
        &[
            "regress",
            "spec.toml",
            "-o",
            "bad",
            "--bundles",
            "r/bundles",
            "--vcd-on-fail",
        ],
        &dir,
    );
    assert_eq!(code, 3, "{out}\n{err}");
    let bad = dir.join("bad");
    let rep = report(&bad);
    assert_eq!(rep["totals"]["failed"], 6, "{rep}");
    assert_eq!(rep["totals"]["passed"], 15);
    for f in rep["cases"][2]["frames"].as_array().unwrap() {
        assert_eq!(f["verdict"], "fail");
        assert_eq!(f["mismatch"]["class"], 0);
        assert_ne!(f["logits_digest"], f["reference_digest"]);
    }
    let failed: Vec<_> = records(&bad)
        .into_iter()
        .filter(|x| x["vcd"].is_string())
        .collect();
    assert_eq!(failed.len(), 6);
    for x in &failed {
        let vcd = PathBuf::from(x["vcd"].as_str().unwrap());
        let text = std::fs::read_to_string(&vcd).unwrap();
        assert!(text.contains("$enddefinitions"), "{}", vcd.display());
    }
    junit_validates(&bad.join("junit.xml"));
    let junit = std::fs::read_to_string(bad.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure ").count(), 6);

    // Fixed: --rerun-failed runs only the three failing units and passes.
    std::fs::write(&bias, &good).unwrap();
    let (code, _, err) = sqf(&["regress", "--rerun-failed", "bad"], &dir);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 units run, 8 passed earlier"), "{err}");
    assert_eq!(report(&bad)["totals"]["passed"], 21);
}

#[test]
fn shards_merge_to_the_single_run_and_bad_specs_name_the_case() {
    let dir = workdir("regress_shards");
    // --prepare builds and plans, and simulates nothing.
    let (code, _, err) = sqf(&["regress", "spec.toml", "-o", "one", "--prepare"], &dir);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("one/plan.json").is_file());
    assert!(!dir.join("one/results.jsonl").exists());
    let (code, _, err) = sqf(&["regress", "spec.toml", "-o", "one", "-j", "1"], &dir);
    assert_eq!(code, 0, "{err}");
    for k in ["1/3", "2/3", "3/3"] {
        let o = format!("s{}", &k[..1]);
        let (code, _, err) = sqf(
            &[
                "regress",
                "spec.toml",
                "--shard",
                k,
                "-o",
                &o,
                "--bundles",
                "one/bundles",
            ],
            &dir,
        );
        assert_eq!(code, 0, "{err}");
        let n = report(&dir.join(&o))["totals"]["frames"].as_u64().unwrap();
        assert!(n > 0 && n < 21, "shard {k}: {n} frames");
    }
    let (code, _, err) = sqf(
        &["regress", "merge", "s1", "s2", "s3", "-o", "merged"],
        &dir,
    );
    assert_eq!(code, 0, "{err}");
    let a = std::fs::read_to_string(dir.join("one/report.json")).unwrap();
    let b = std::fs::read_to_string(dir.join("merged/report.json")).unwrap();
    assert_eq!(a, b, "the merged report equals the single run's");
    junit_validates(&dir.join("merged/junit.xml"));
    let summary = std::fs::read_to_string(dir.join("merged/summary.txt")).unwrap();
    assert!(
        summary.contains("21 passed") && summary.contains("merged"),
        "{summary}"
    );
    // Two shards only: the third's frames are not run, and the merge says so (exit 1).
    let (code, _, _) = sqf(&["regress", "merge", "s1", "s2", "-o", "partial"], &dir);
    assert_eq!(code, 1);
    assert!(
        report(&dir.join("partial"))["totals"]["not_run"]
            .as_u64()
            .unwrap()
            > 0
    );

    let bad = |spec: &str, want: &[&str]| {
        std::fs::write(dir.join("bad.toml"), spec).unwrap();
        let (code, _, err) = sqf(&["regress", "bad.toml", "-o", "b"], &dir);
        assert_eq!(code, 1, "{spec}: {err}");
        for w in want {
            assert!(err.contains(w), "{spec}: `{w}` not in {err}");
        }
    };
    bad(
        "[[case]]\nname = \"typo\"\nconfig = \"tiny.toml\"\nstal = 0.5\n",
        &["case 1 (typo)", "stal"],
    );
    bad(
        "[[case]]\nname = \"ok\"\nconfig = \"tiny.toml\"\n[[case]]\nname = \"nomodel\"\nmodel = \"missing.safetensors\"\n",
        &["case 2 (nomodel)", "missing.safetensors", "does not exist"],
    );
    // A folding the network cannot have: the case is named before anything runs.
    bad(
        "[[case]]\nname = \"toosmall\"\nconfig = \"tiny.toml\"\nmac_budget = 1\n",
        &["case toosmall", "MAC budget of 1"],
    );
    bad(
        "[[case]]\nname = \"noframes\"\nconfig = \"tiny.toml\"\nframes = [\"nowhere.y4m\"]\n",
        &["noframes", "nowhere.y4m"],
    );
}

/// The pids of this run's workers of `case` (from /proc).
fn workers_of(parent: u32, case: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        if ppid == Some(parent)
            && cmd.contains("regress-worker")
            && cmd.contains(&format!("\"case\":\"{case}\""))
        {
            out.push(pid);
        }
    }
    out
}

#[test]
fn a_killed_worker_is_that_units_error_and_the_rest_goes_on() {
    let dir = workdir("regress_kill");
    // The victim's one unit is long (many frames); the other case is short.
    std::fs::write(
        dir.join("kill.toml"),
        "[defaults]\nconfig = \"tiny.toml\"\n[[case]]\nname = \"victim\"\nframes = [\"synthetic:3000\"]\nframes_per_job = 3000\n[[case]]\nname = \"other\"\nframes = [\"synthetic:4\"]\n",
    )
    .unwrap();
    let child = bin()
        .args(["regress", "kill.toml", "-o", "k", "-j", "2"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let victim = loop {
        if let Some(p) = workers_of(child.id(), "victim").first() {
            break *p;
        }
        assert!(
            t.elapsed().as_secs() < 300,
            "no victim worker appeared in 300 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let killed = Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let rep = report(&dir.join("k"));
    let cases = rep["cases"].as_array().unwrap();
    assert_eq!(cases[0]["name"], "victim");
    assert_eq!(cases[0]["totals"]["errors"], 3000);
    assert!(cases[0]["frames"][0]["error"]
        .as_str()
        .unwrap()
        .contains("killed by signal 9"));
    assert_eq!(cases[1]["name"], "other");
    assert_eq!(cases[1]["totals"]["passed"], 4);
    junit_validates(&dir.join("k/junit.xml"));
}

/// A real single-node SLURM (scripts/slurm-local.sh: Debian's slurm-wlm and munge): a 2-shard
/// job array, merged, equals the local run byte for byte in its report.
#[test]
fn a_two_shard_slurm_run_equals_the_local_run() {
    let dir = workdir("regress_slurm");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/slurm-local.sh");
    let state = dir.join("slurm-state");
    let start = Command::new("bash")
        .arg(&script)
        .arg("start")
        .env("SQUEEZEFLOW_SLURM_DIR", &state)
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "slurm-local.sh start: {}",
        String::from_utf8_lossy(&start.stderr)
    );
    let conf = state.join("slurm.conf");
    let res = std::panic::catch_unwind(|| {
        let (code, _, err) = sqf(&["regress", "spec.toml", "-o", "local", "-j", "2"], &dir);
        assert_eq!(code, 0, "{err}");
        let out = bin()
            .args([
                "regress",
                "spec.toml",
                "-o",
                "farm",
                "--slurm",
                "--shards",
                "2",
                "--cpus-per-task",
                "1",
                "--partition",
                "debug",
                "--time",
                "00:20:00",
            ])
            .env("SLURM_CONF", &conf)
            .current_dir(&dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let script = std::fs::read_to_string(dir.join("farm/slurm/regress.sbatch")).unwrap();
        assert!(script.contains("#SBATCH --array=1-2"), "{script}");
        assert!(
            script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/2\""),
            "{script}"
        );
        // Both array tasks ran and each wrote its shard.
        for k in ["1", "2"] {
            let n = report(&dir.join("farm/shards").join(k))["totals"]["frames"]
                .as_u64()
                .unwrap();
            assert!(n > 0, "shard {k} ran no frame");
        }
        let a = std::fs::read_to_string(dir.join("local/report.json")).unwrap();
        let b = std::fs::read_to_string(dir.join("farm/report.json")).unwrap();
        assert_eq!(a, b, "the SLURM run's merged report equals the local run's");
        junit_validates(&dir.join("farm/junit.xml"));
    });
    let _ = Command::new("bash")
        .arg(&script)
        .arg("stop")
        .env("SQUEEZEFLOW_SLURM_DIR", &state)
        .output();
    if let Err(e) = res {
        std::panic::resume_unwind(e);
    }
}
