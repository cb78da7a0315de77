//! Integration tests across crates live in `tests/tests/`; this library holds their helpers.

pub mod netlist;

use std::path::{Path, PathBuf};

/// The `squeezeflow` binary cargo built for these tests.
pub fn squeezeflow_bin() -> PathBuf {
    let mut p = std::env::current_exe().expect("test binary path");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join(format!("squeezeflow{}", std::env::consts::EXE_SUFFIX))
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared` beside the checkout (present for developers and CI, absent in a user's clone).
pub fn shared_dir() -> Option<PathBuf> {
    let p = repo_root().parent()?.join("shared");
    p.is_dir().then_some(p)
}

/// [`shared_dir`], or `None` with a loud message naming the tests that did not run; under CI
/// (`CI` set) a missing `../shared` is a failure.
pub fn shared_or_skip(what: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("../shared is missing beside the checkout, and CI is set: {what} need it")
        }
        None => {
            eprintln!(
                "\n*** SKIPPED: ../shared (models, frames) is not beside this checkout; \
                 {what} did not run ***\n"
            );
            None
        }
    }
}

use squeezeflow_hw::bundle::WrittenDesign;

/// A fresh scratch directory under the target directory (kept for inspection after a failure).
pub fn scratch(name: &str) -> PathBuf {
    let d = repo_root()
        .join("target")
        .join("squeezeflow-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// `verilator --lint-only -Wall` on a design; panics with the warnings. The only waiver is
/// DECLFILENAME (rust-hdl names a block's top module `top`, and the library holds several
/// modules a file).
pub fn lint_verilator(d: &WrittenDesign) {
    let out = std::process::Command::new("verilator")
        .args([
            "--lint-only",
            "-Wall",
            "-Wno-DECLFILENAME",
            "--top-module",
            &d.top_module,
        ])
        .args(&d.sources)
        .output()
        .expect("verilator is installed (scripts/setup.sh)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "verilator lint:\n{text}"
    );
}

/// Icarus Verilog compiles the design.
pub fn lint_iverilog(d: &WrittenDesign) {
    let out = std::process::Command::new("iverilog")
        .args(["-g2005", "-o"])
        .arg(d.dir.join("iverilog.out"))
        .args(&d.sources)
        .output()
        .expect("iverilog is installed (scripts/setup.sh)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "iverilog:\n{text}");
}

/// Yosys elaborates the design (`hierarchy -check`: every module found, every parameter
/// check passed, every port connection accepted by its front end). The ECP5 and Xilinx
/// primitives are known (as Yosys's black boxes, with their ports): an engine on ECP5
/// multipliers instantiates MULT18X18Ds, a paired one on UltraScale+ DSP48E2s.
pub fn lint_yosys(d: &WrittenDesign) {
    let files: Vec<String> = d
        .sources
        .iter()
        .map(|p| {
            p.strip_prefix(&d.dir)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let script = format!(
        "read_verilog -lib +/ecp5/cells_bb.v; read_verilog -lib +/xilinx/cells_xtra.v; \
         read_verilog -defer {}; hierarchy -check -top {}",
        files.join(" "),
        d.top_module
    );
    yosys_script(&d.dir, &script);
}

/// Runs Yosys on `script` in `dir`; panics with its output when it fails.
pub fn yosys_script(dir: &Path, script: &str) {
    run_yosys(dir, "yosys", script);
}

/// Runs `yosys -q -p script` in `dir`; panics with its output, named by `tag`, when it fails.
fn run_yosys(dir: &Path, tag: &str, script: &str) {
    let out = std::process::Command::new("yosys")
        .args(["-q", "-p", script])
        .current_dir(dir)
        .output()
        .expect("yosys is installed (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{tag}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// All three linters: Verilator `-Wall`, Icarus, Yosys `hierarchy -check`.
pub fn lint_all(d: &WrittenDesign) {
    lint_verilator(d);
    lint_iverilog(d);
    lint_yosys(d);
}

/// Builds (or reuses) the Verilator model of a design.
pub fn verilate(d: &WrittenDesign) -> squeezeflow_sim::verilator::Model {
    squeezeflow_sim::verilator::Model::build(&d.sources, &d.top, &d.dir, &Default::default())
        .unwrap_or_else(|e| panic!("verilating {}: {e}", d.dir.display()))
}

use squeezeflow_hw::bundle::{write_block, MemFiles};
use squeezeflow_hw::harness::{drive, run_stream, Stalls, StreamBlock, StreamDut};
use squeezeflow_sim::stream::VerilatedStreams;

/// The full check of one block's Verilog: lint (Verilator `-Wall`, Icarus, Yosys), then Verilator runs
/// with and without random stalls: every output frame equals `want`, and every frame leaves at
/// the same cycle as in the block's Rust model under the same stalls; with two frames or more,
/// also after a reset in the middle of the second.
pub fn check_block_verilog<B: StreamBlock + MemFiles>(
    tag: &str,
    make: impl FnMut() -> B,
    inputs: &[Vec<u8>],
    frame_bytes: &[usize],
    want: &[Vec<u8>],
    out_frame: usize,
) {
    let stalls = [Stalls::random(11), Stalls::NONE];
    check_block_verilog_stalls(tag, make, inputs, frame_bytes, want, out_frame, &stalls);
}

/// [`check_block_verilog`] under the given stall patterns.
pub fn check_block_verilog_stalls<B: StreamBlock + MemFiles>(
    tag: &str,
    mut make: impl FnMut() -> B,
    inputs: &[Vec<u8>],
    frame_bytes: &[usize],
    want: &[Vec<u8>],
    out_frame: usize,
    stall_patterns: &[Stalls],
) {
    let mut block = make();
    let design = write_block(&mut block, &scratch(tag)).expect("write design");
    lint_all(&design);
    let model = verilate(&design);
    let names: Vec<&str> = ["s_axis", "s_axis_b"][..inputs.len()].to_vec();
    let refs: Vec<&[u8]> = inputs.iter().map(|v| v.as_slice()).collect();
    // The Verilog model fed `inputs` until `frames` frames are out.
    let run_v = |dut: &mut VerilatedStreams<'_>, inputs: &[&[u8]], frames, stalls| {
        drive(dut, inputs, frame_bytes, frames, out_frame, stalls, 50_000)
    };
    let mut fresh = Vec::new();
    for &stalls in stall_patterns {
        let mut dut = VerilatedStreams::new(&model, &names, "m_axis").expect("ports");
        let v = run_v(&mut dut, &refs, want.len(), stalls)
            .unwrap_or_else(|e| panic!("{tag}: Verilog run: {e}"));
        assert_eq!(
            v.frames, want,
            "{tag}: Verilog output differs from the reference ({stalls:?})"
        );
        let mut hdl = make();
        let h = run_stream(
            &mut hdl,
            &refs,
            frame_bytes,
            want.len(),
            out_frame,
            stalls,
            50_000,
        )
        .unwrap_or_else(|e| panic!("{tag}: rust-hdl run: {e}"));
        assert_eq!(
            h.frames, want,
            "{tag}: Rust model output differs from the reference"
        );
        assert_eq!(
            v.frame_done, h.frame_done,
            "{tag}: Verilog and Rust model differ in timing"
        );
        fresh.push(v.frame_done);
    }
    // A reset in the middle of a frame (the second, half streamed in on every input, with the
    // output FIFO filled by a consumer that mostly refuses; `drive` resets first): afterwards
    // the block streams as it does from power-up, byte and cycle.
    if want.len() >= 2 {
        let mut dut = VerilatedStreams::new(&model, &names, "m_axis").expect("ports");
        let lanes = dut.input_lanes();
        let part: Vec<&[u8]> = refs
            .iter()
            .zip(frame_bytes)
            .zip(&lanes)
            .map(|((r, &n), &l)| &r[..n + n / 2 / l * l])
            .collect();
        run_v(&mut dut, &part, 1, Stalls::choked(3))
            .unwrap_or_else(|e| panic!("{tag}: Verilog run before the reset: {e}"));
        let v = run_v(&mut dut, &refs, want.len(), stall_patterns[0])
            .unwrap_or_else(|e| panic!("{tag}: Verilog run after a reset: {e}"));
        assert_eq!(v.frames, want, "{tag}: output after a reset mid-frame");
        assert_eq!(
            v.frame_done, fresh[0],
            "{tag}: timing after a reset mid-frame"
        );
    }
}

/// The text of the library modules `names`, in the library's order.
pub fn library_text(names: &[&str]) -> String {
    squeezeflow_hw::library::MODULES
        .iter()
        .filter(|m| names.contains(&m.name))
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Synthesizes `top` over the library text `lib` for `family` in scratch directory `tag`,
/// then runs Yosys's `select` assertions `select` on the same netlist; returns the cell
/// counts. Panics with Yosys's output when an assertion fails.
pub fn synth_and_select(
    tag: &str,
    lib: &str,
    top: &str,
    family: squeezeflow_hw::synth::Family,
    select: &str,
) -> squeezeflow_hw::synth::CellCounts {
    let dir = scratch(tag);
    std::fs::write(dir.join("sqf_lib.v"), lib).unwrap();
    std::fs::write(dir.join("top.v"), top).unwrap();
    let c = squeezeflow_hw::synth::run_yosys(&dir, family).unwrap();
    yosys_select(&dir, tag, &format!("{}; {select}", family.command("top")));
    c
}

/// Runs Yosys quietly in `dir` on `sqf_lib.v` and `top.v` with `script` (a synthesis command
/// and `select` assertions); panics with Yosys's output, named by `tag`, when one fails.
pub fn yosys_select(dir: &Path, tag: &str, script: &str) {
    run_yosys(dir, tag, &format!("read_verilog sqf_lib.v top.v; {script}"));
}
