//! The Verilog library's parameter checks: every tool the bundle is meant for (Verilator,
//! Icarus, Yosys) refuses a module instantiated with bad parameters at elaboration, naming the
//! problem, and accepts the same module with good ones.

use squeezeflow_hw::library::MODULES;
use squeezeflow_tests::scratch;
use std::path::Path;
use std::process::Command;

/// Writes the library and a top that instantiates `inst`; returns the directory.
fn design(tag: &str, inst: &str) -> std::path::PathBuf {
    let dir = scratch(&format!("library_{tag}"));
    let lib: String = MODULES
        .iter()
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("lib.v"), lib).unwrap();
    std::fs::write(
        dir.join("top.v"),
        format!("module top(input wire clock, input wire reset);\n{inst}\nendmodule\n"),
    )
    .unwrap();
    dir
}

/// (success, stdout + stderr) of each tool on the design.
fn tools(dir: &Path) -> Vec<(&'static str, bool, String)> {
    let run = |name: &'static str, cmd: &mut Command| {
        let out = cmd
            .current_dir(dir)
            .output()
            .expect("tool installed (scripts/setup.sh)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (name, out.status.success(), text)
    };
    vec![
        run(
            "verilator",
            Command::new("verilator").args([
                "--lint-only",
                "-Wno-fatal",
                "--top-module",
                "top",
                "lib.v",
                "top.v",
            ]),
        ),
        run(
            "iverilog",
            Command::new("iverilog").args(["-g2005", "-o", "a.out", "lib.v", "top.v"]),
        ),
        run(
            "yosys",
            Command::new("yosys").args([
                "-q",
                "-p",
                "read_verilog -defer lib.v top.v; hierarchy -check -top top",
            ]),
        ),
    ]
}

#[test]
fn bad_parameters_stop_every_tool_at_elaboration() {
    let fifo = |depth: usize| {
        format!(
            "wire [3:0] c; wire [7:0] d; wire v, l;\nsqf_out_fifo #(.LANES(1), .DEPTH({depth})) u (.clock(clock), .reset(reset), .push(1'b0), .din(8'd0), .last_in(1'b0), .count(c), .m_tdata(d), .m_tvalid(v), .m_tlast(l), .m_tready(1'b1));"
        )
    };
    let pool = |ho: usize| {
        format!(
            "wire [7:0] d; wire r, v, l;\nsqf_max_pool #(.LANES(1), .H(7), .W(9), .CG(2), .HO({ho}), .WO(4), .DEPTH(4)) u (.clock(clock), .reset(reset), .s_tdata(8'd0), .s_tvalid(1'b0), .s_tlast(1'b0), .s_tready(r), .m_tdata(d), .m_tvalid(v), .m_tlast(l), .m_tready(1'b1));"
        )
    };
    let cases = [
        (
            "fifo_depth_3",
            fifo(3),
            Some("sqf_out_fifo_DEPTH_must_be_a_power_of_two"),
        ),
        ("fifo_depth_8", fifo(8), None),
        ("pool_ho_4", pool(4), Some("sqf_max_pool_HO_WO_must_be")),
        ("pool_ho_3", pool(3), None),
    ];
    for (tag, inst, refusal) in cases {
        let dir = design(tag, &inst);
        for (tool, ok, text) in tools(&dir) {
            match refusal {
                Some(name) => {
                    assert!(!ok, "{tag}: {tool} accepted bad parameters:\n{text}");
                    assert!(
                        text.contains(name),
                        "{tag}: {tool} did not name it:\n{text}"
                    );
                }
                None => assert!(ok, "{tag}: {tool} refused good parameters:\n{text}"),
            }
        }
    }
}
