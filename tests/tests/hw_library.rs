//! The Verilog library's parameter checks: every tool the bundle is meant for (Verilator,
//! Icarus, Yosys) refuses a module instantiated with bad parameters at elaboration, naming the
//! problem, and accepts the same module with good ones.

use squeezeflow_hw::library::MODULES;
use squeezeflow_tests::scratch;
use std::path::Path;
use std::process::Command;

/// A scratch directory holding every library module in `lib.v`.
fn with_library(tag: &str) -> std::path::PathBuf {
    let dir = scratch(&format!("library_{tag}"));
    let lib: Vec<&str> = MODULES.iter().map(|m| m.text).collect();
    std::fs::write(dir.join("lib.v"), lib.join("\n")).unwrap();
    dir
}

/// Writes the library and a top that instantiates `inst`; returns the directory.
fn design(tag: &str, inst: &str) -> std::path::PathBuf {
    let dir = with_library(tag);
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

/// `sqf_const_mul` (the engines' address multiplies: shifts and adds, or a table for an operand
/// of up to 6 bits) equals the product modulo 2^32 for every constant up to 4096 and a few large
/// ones, on edge and random operands, and, as a table (3- and 6-bit operands, 14-bit products),
/// on every operand, in Icarus.
#[test]
fn const_mul_equals_the_product() {
    let dir = with_library("const_mul");
    let tb = r#"module tb;
    reg [31:0] a;
    integer errors = 0, checks = 0;
    reg [5:0] a_t;
    integer tchecks = 0, terrors = 0, n;
    genvar c;
    generate
        for (c = 0; c <= 4096; c = c + 1) begin : k
            wire [31:0] y;
            wire [31:0] want = a * c; // modulo 2^32
            sqf_const_mul #(.C(c)) u (.a(a), .y(y));
            always @(a) #1 begin
                checks = checks + 1;
                if (y !== want) errors = errors + 1;
            end
        end
        for (c = 0; c < 3; c = c + 1) begin : big
            localparam integer C = (c == 0) ? 65535 : (c == 1) ? 1000003 : 2147483647;
            wire [31:0] y;
            wire [31:0] want = a * C;
            sqf_const_mul #(.C(C)) u (.a(a), .y(y));
            always @(a) #1 begin
                checks = checks + 1;
                if (y !== want) errors = errors + 1;
            end
        end
        // Tables: every operand of 3 and 6 bits, constants 0..999 and one above 2^14.
        for (c = 0; c <= 1000; c = c + 1) begin : t
            localparam integer C = (c == 1000) ? 123457 : c;
            wire [13:0] y3, y6;
            wire [31:0] p3 = a_t[2:0] * C, p6 = a_t * C;
            sqf_const_mul #(.C(C), .WIDTH(14), .ABITS(3)) u3 (.a(a_t[2:0]), .y(y3));
            sqf_const_mul #(.C(C), .WIDTH(14), .ABITS(6)) u6 (.a(a_t), .y(y6));
            always @(a_t) #1 begin
                tchecks = tchecks + 1;
                if (y3 !== p3[13:0] || y6 !== p6[13:0]) terrors = terrors + 1;
            end
        end
    endgenerate
    initial begin
        a = 32'd1; #5 a = 32'hffffffff; #5 a = 32'hdeadbeef; #5 a = 32'd12345; #5 a = 32'h80000001; #5;
        $display("checks=%0d errors=%0d", checks, errors);
        for (n = 0; n < 64; n = n + 1) begin
            a_t = n[5:0]; #5;
        end
        $display("table checks=%0d errors=%0d", tchecks, terrors);
        $finish;
    end
endmodule
"#;
    std::fs::write(dir.join("tb.v"), tb).unwrap();
    let out = Command::new("iverilog")
        .args(["-g2005", "-o", "tb.out", "-s", "tb", "lib.v", "tb.v"])
        .current_dir(&dir)
        .output()
        .expect("iverilog installed (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new("vvp")
        .arg("tb.out")
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains(&format!("checks={} errors=0", 5 * (4097 + 3))),
        "{text}"
    );
    assert!(
        text.contains(&format!("table checks={} errors=0", 64 * 1001)),
        "{text}"
    );
}
