//! The ECP5 block RAM output-register pass (`squeezeflow_hw::ecp5_outreg`) on a real Yosys
//! netlist: the packed netlist behaves cycle for cycle as Yosys's own.
//!
//! Four block RAM reads into a register each (an 18-bit ROM, a 32-bit ROM that Yosys maps as a
//! 36-bit pseudo-dual-port read, a written 36-bit RAM, a 9-bit ROM into a register with a
//! synchronous reset) and one read into logic (the 18-bit ROM's second port) go through
//! `synth_ecp5`; the pass moves the three registers into the block RAMs. Both netlists are then
//! simulated with Icarus over Yosys's ECP5 cell models and a DP16KD model of this test's own
//! (Yosys's is an empty black box): its data pins give a function of the address it latched,
//! through the output register when `REGMODE_x` is `OUTREG`. Same inputs, same outputs every
//! cycle, or the pass changed the design.

use squeezeflow_tests::netlist::{drivers, port_bits};
use squeezeflow_tests::{library_text, scratch};

/// The DP16KD for this test: port x's data is a function of the address it latched at the
/// last enabled edge of its clock (the block's contents do not matter to a change of
/// registers), registered once more with `OUTREG`, by `OCEx`, reset by `RSTx`. Each half of a
/// 36-bit read is taken by its own port's controls (both are set alike by the pass).
const DP16KD_MODEL: &str = r#"
module DP16KD_MODEL (
  input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
  input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
  input CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0,
  output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
  input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
  input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
  input CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0,
  output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
  parameter REGMODE_A = "NOREG";
  parameter REGMODE_B = "NOREG";
  wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
  reg [13:0] la = 0, lb = 0;
  reg [17:0] ra = 0, rb = 0;
  function [17:0] f(input [13:0] a, input integer salt);
    f = {a[3:0], a} ^ (a * 18'h2b7 + salt);
  endfunction
  always @(posedge CLKA) begin
    if (CEA) la <= ada;
    if (RSTA) ra <= 0; else if (OCEA) ra <= f(la, 1);
  end
  always @(posedge CLKB) begin
    if (CEB) lb <= adb;
    if (RSTB) rb <= 0; else if (OCEB) rb <= f(lb, 2);
  end
  wire [17:0] doa = (REGMODE_A == "OUTREG") ? ra : f(la, 1);
  wire [17:0] dob = (REGMODE_B == "OUTREG") ? rb : f(lb, 2);
  assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
endmodule
"#;

const DESIGN: &str = r#"
module top(input wire clk, input wire [9:0] a, input wire we, input wire [8:0] wa,
           input wire [35:0] wd, input wire z, output reg [17:0] q18, output reg [31:0] q32,
           output reg [35:0] qr, output wire [17:0] qx, output reg [8:0] qz);
  reg [17:0] rom18 [0:1023];
  reg [31:0] rom32 [0:511];
  reg [8:0] rom9 [0:2047];
  (* no_rw_check *) reg [35:0] ram [0:511];
  initial $readmemh("rom18.mem", rom18);
  initial $readmemh("rom32.mem", rom32);
  initial $readmemh("rom9.mem", rom9);
  reg [17:0] d18, e18; reg [31:0] d32; reg [35:0] dr; reg [8:0] d9;
  reg [9:0] a2;
  always @(posedge clk) begin
    d18 <= rom18[a];
    a2 <= a ^ 10'h155;
    e18 <= rom18[a2];
    d32 <= rom32[a[8:0]];
    if (we) ram[wa] <= wd;
    dr <= ram[a[8:0]];
    q18 <= d18;
    q32 <= d32;
    qr <= dr;
    // A read whose register has a synchronous reset (a padded tap's zero).
    d9 <= rom9[{a, a[0]}];
    qz <= z ? 9'd0 : d9;
  end
  // A read into logic: its port is not packed.
  assign qx = e18 ^ {8'd0, a};
endmodule
"#;

const TB: &str = r#"
module tb;
  reg clk = 0, we = 0, z = 0;
  reg [9:0] a = 0; reg [8:0] wa = 0; reg [35:0] wd = 0;
  wire [17:0] p18, n18, px, nx; wire [31:0] p32, n32; wire [35:0] pr, nr; wire [8:0] pz, nz;
  top_pre  u0(.clk(clk), .a(a), .we(we), .wa(wa), .wd(wd), .z(z), .q18(p18), .q32(p32),
              .qr(pr), .qx(px), .qz(pz));
  top_post u1(.clk(clk), .a(a), .we(we), .wa(wa), .wd(wd), .z(z), .q18(n18), .q32(n32),
              .qr(nr), .qx(nx), .qz(nz));
  integer i, bad = 0;
  initial begin
    for (i = 0; i < 400; i = i + 1) begin
      a = $random; we = $random; wa = $random; wd = {$random, $random}; z = $random;
      #1 clk = 1; #1 clk = 0;
      if (i > 4 && {p18, p32, pr, px, pz} !== {n18, n32, nr, nx, nz}) begin
        bad = bad + 1;
        if (bad < 5) $display("cycle %0d: %h %h %h %h %h vs %h %h %h %h %h", i, p18, p32, pr, px,
                              pz, n18, n32, nr, nx, nz);
      end
    end
    $display("MISMATCHES %0d", bad);
    $finish;
  end
endmodule
"#;

fn run(dir: &std::path::Path, prog: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{prog} runs (scripts/setup.sh): {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{prog} {args:?}:\n{text}");
    text
}

#[test]
fn packed_block_ram_reads_behave_as_yosys_netlist() {
    let dir = scratch("ecp5_outreg_equiv");
    std::fs::write(dir.join("top.v"), DESIGN).unwrap();
    // Words that use every bit of their width.
    let words = |n: usize, bits: u32| -> String {
        (0..n)
            .map(|i| format!("{:x}\n", (i * 2_654_435_761) & ((1 << bits) - 1)))
            .collect()
    };
    std::fs::write(dir.join("rom18.mem"), words(1024, 18)).unwrap();
    std::fs::write(dir.join("rom32.mem"), words(512, 32)).unwrap();
    std::fs::write(dir.join("rom9.mem"), words(2048, 9)).unwrap();
    std::fs::write(dir.join("model.v"), DP16KD_MODEL).unwrap();
    std::fs::write(dir.join("tb.v"), TB).unwrap();
    run(
        &dir,
        "yosys",
        &[
            "-q",
            "-p",
            "read_verilog top.v; synth_ecp5 -top top -json pre.json",
        ],
    );
    let mut net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pre.json")).unwrap()).unwrap();
    let r = squeezeflow_hw::ecp5_outreg::pack_bram_output_registers(&mut net).unwrap();
    std::fs::write(dir.join("post.json"), net.to_string()).unwrap();
    // The four registered reads: 18 + 32 + 36 + 9 flip-flops; e18's port (into logic) is
    // left.
    assert_eq!(r.ports, 4, "{r:?}");
    assert_eq!(r.flip_flops, 18 + 32 + 36 + 9, "{r:?}");
    assert!(r.ports_left >= 1, "{r:?}");
    for (json, name) in [("pre.json", "top_pre"), ("post.json", "top_post")] {
        run(
            &dir,
            "yosys",
            &[
                "-q",
                "-p",
                &format!(
                    "read_json {json}; rename top {name}; chtype -map DP16KD DP16KD_MODEL; \
                     write_verilog -noattr {name}.v"
                ),
            ],
        );
    }
    let cells = "/usr/share/yosys/ecp5/cells_sim.v";
    assert!(
        std::path::Path::new(cells).is_file(),
        "Yosys's ECP5 cell models ({cells}; scripts/setup.sh)"
    );
    run(
        &dir,
        "iverilog",
        &[
            "-g2012",
            "-I/usr/share/yosys/ecp5",
            "-o",
            "sim",
            cells,
            "model.v",
            "top_pre.v",
            "top_post.v",
            "tb.v",
        ],
    );
    let out = run(&dir, "vvp", &["-n", "sim"]);
    assert!(out.contains("MISMATCHES 0"), "{out}");
}

/// A convolution engine's control with its line buffer read a cycle early (`LB_REG`, as on
/// ECP5): after `synth_ecp5` every data pin of the line buffer's block RAM drives one register
/// (no bypass multiplexer for a read meeting a write, which the engine never makes), so the pass
/// takes that register into the block RAM as its output register (the padding's zero comes
/// after it).
/// fire7.expand3x3's geometry in the ULX3S network.
#[test]
fn the_line_buffer_word_goes_into_the_block_ram_output_register() {
    line_buffer_rams("ecp5_outreg_lb", "-set LB_REG 1");
}

/// The same engine with its line buffer read at the tap's address register (`LB_REG` 2, as
/// with ECP5 multipliers): every address pin of its block RAMs' read port comes straight from
/// a flip-flop (the next address's adds and the issue's choice in front of them were the
/// ULX3S network's critical path, 102.8 MHz), and the word still goes into the output
/// register.
#[test]
fn the_line_buffer_reads_at_a_register_with_its_late_word() {
    let (net, lb) = line_buffer_rams("ecp5_outreg_lb_late", "-set LB_REG 2 -set MAC_LAT 8");
    let module = &net["modules"]["sqf_conv_ctrl"];
    let cells = module["cells"].as_object().unwrap();
    let drv = drivers(module);
    for n in lb {
        let c = &cells[&n];
        // The read port: the one that never writes (its write enable tied to 0; the other
        // port's low address pins carry the write's byte enables).
        let read = ["A", "B"]
            .into_iter()
            .find(|l| c["connections"][format!("WE{l}")][0] == "0")
            .unwrap_or_else(|| panic!("{n}: no read-only port"));
        let pins = pins_from_flip_flops(module, &drv, n.as_str(), &[format!("AD{read}")]);
        assert!(pins >= 8, "{n}: {pins} address pins on nets");
    }
}

/// fire7.expand3x3's engine control in the ULX3S network with the line-buffer parameters
/// `lb` (`-set LB_REG ..`), after `synth_ecp5` and the output-register pass: the netlist and
/// the line buffer's block RAMs, each asserted to read into its output register.
fn line_buffer_rams(tag: &str, lb: &str) -> (serde_json::Value, Vec<String>) {
    let (net, r) = synth_ecp5_packed(
        tag,
        &["sqf_const_mul", "sqf_ram", "sqf_conv_ctrl"],
        &format!(
            "chparam -set K 3 -set STRIDE 1 -set PAD 1 -set H 13 -set W 13 -set HO 13 \
             -set WO 13 -set CG 6 -set OG 12 -set SIMD 8 -set SHARE 3 -set LB_ROWS 4 \
             -set FIFO_DEPTH 16 -set AB_W 10 -set AB_P 4 -set AB_Q 6 -set FB 4 {lb} \
             sqf_conv_ctrl"
        ),
        "sqf_conv_ctrl",
    );
    let cells = net["modules"]["sqf_conv_ctrl"]["cells"]
        .as_object()
        .unwrap();
    let lb: Vec<String> = cells
        .iter()
        .filter(|(n, c)| c["type"] == "DP16KD" && n.contains("lb"))
        .map(|(n, _)| n.clone())
        .collect();
    assert!(!lb.is_empty(), "no line-buffer block RAM: {r:?}");
    for n in &lb {
        let c = &cells[n];
        let regmode = |l: &str| {
            c["parameters"][format!("REGMODE_{l}")]
                .as_str()
                .unwrap_or("")
        };
        assert!(
            regmode("A") == "OUTREG" || regmode("B") == "OUTREG",
            "{n}: the line buffer's read has no output register ({r:?})"
        );
    }
    (net, lb)
}

/// A stream FIFO deep enough for block RAM (`sqf_stream_fifo`, 256 beats of 3 bytes: the
/// ULX3S network's bypass FIFOs) reads its memory into a register with nothing between, so
/// the pass takes every read port into the block RAMs' output registers and leaves none. The
/// DP16KD's read without it (5.83 ns clock to out) into the head's multiplexer was the ULX3S
/// build's critical path (108.2 MHz, 2026-12-04).
#[test]
fn the_stream_fifo_reads_into_the_block_ram_output_register() {
    let (_, r) = synth_ecp5_packed(
        "ecp5_outreg_fifo",
        &["sqf_out_fifo", "sqf_stream_fifo"],
        "chparam -set LANES 3 -set DEPTH 256 sqf_stream_fifo",
        "sqf_stream_fifo",
    );
    assert!(r.ports >= 1, "no read port packed: {r:?}");
    assert_eq!(
        r.ports_left, 0,
        "read ports left without the register: {r:?}"
    );
    // The beat's 25 bits (three bytes and tlast), each read once.
    assert_eq!(r.flip_flops, 25, "{r:?}");
}

/// A max pool whose vertical row memory is a block RAM (`sqf_max_pool`, pool1's geometry in
/// the ULX3S network: 15 columns of 64 channels) reads it into a register with nothing between
/// (no bypass for a read meeting a write, which the pool never uses), so the pass takes the
/// read into the block RAM's output register: with Yosys's bypass LUT between, the DP16KD's
/// read (5.83 ns) into that register was among the ULX3S build's late paths (9.11 ns,
/// 2026-12-04). And the memory is written from flip-flops: its data, address and enable pins
/// (the vertical maximum's compare in front of the data pins, with one long route after it,
/// was among the ULX3S build's late paths, 8.4 to 8.6 ns).
#[test]
fn the_max_pool_row_memory_reads_into_the_block_ram_output_register() {
    let (net, r) = synth_ecp5_packed(
        "ecp5_outreg_pool",
        &["sqf_out_fifo", "sqf_max_pool"],
        "chparam -set LANES 1 -set H 31 -set W 31 -set CG 64 -set HO 15 -set WO 15 \
         -set DEPTH 4 sqf_max_pool",
        "sqf_max_pool",
    );
    assert!(r.ports >= 1, "no read port packed: {r:?}");
    assert_eq!(
        r.ports_left, 0,
        "read ports left without the register: {r:?}"
    );
    let module = &net["modules"]["sqf_max_pool"];
    let cells = module["cells"].as_object().unwrap();
    let drv = drivers(module);
    let mut pins = 0;
    for (n, c) in cells.iter().filter(|(_, c)| c["type"] == "DP16KD") {
        // The write port: the one whose write enable is not tied to 0.
        for l in ["A", "B"] {
            if c["connections"][format!("WE{l}")][0] == "0" {
                continue;
            }
            let written = [format!("DI{l}"), format!("AD{l}"), format!("WE{l}")];
            pins += pins_from_flip_flops(module, &drv, n, &written);
        }
    }
    // 8 data pins, 10 address pins and the enable at least.
    assert!(pins >= 19, "{pins} write pins on nets");
}

/// Asserts that every net bit on cell `n`'s pins whose names start with one of `prefixes`
/// is driven by a flip-flop (`drv`: the module's drivers); returns how many bits there are.
fn pins_from_flip_flops(
    module: &serde_json::Value,
    drv: &std::collections::HashMap<u64, &str>,
    n: &str,
    prefixes: &[String],
) -> usize {
    let cells = module["cells"].as_object().unwrap();
    let c = &cells[n];
    let mut pins = 0;
    for (p, _) in c["connections"].as_object().unwrap() {
        if !prefixes.iter().any(|w| p.starts_with(w.as_str())) {
            continue;
        }
        for b in port_bits(c, p) {
            let d = drv.get(&b).copied().unwrap_or("(none)");
            assert_eq!(
                cells[d]["type"], "TRELLIS_FF",
                "{n}.{p}: from {d}, not a flip-flop"
            );
            pins += 1;
        }
    }
    pins
}

/// The library modules `modules` set up by the Yosys commands `setup` (a `chparam`), then
/// `synth_ecp5 -top top` in scratch directory `tag`, and the netlist with the block RAMs'
/// output registers packed, with what the pass did.
fn synth_ecp5_packed(
    tag: &str,
    modules: &[&str],
    setup: &str,
    top: &str,
) -> (
    serde_json::Value,
    squeezeflow_hw::ecp5_outreg::OutregPacking,
) {
    let dir = scratch(tag);
    std::fs::write(dir.join("sqf_lib.v"), library_text(modules)).unwrap();
    let script = format!("read_verilog sqf_lib.v; {setup}; synth_ecp5 -top {top} -json net.json");
    run(&dir, "yosys", &["-q", "-p", &script]);
    let mut net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("net.json")).unwrap()).unwrap();
    let r = squeezeflow_hw::ecp5_outreg::pack_bram_output_registers(&mut net).unwrap();
    (net, r)
}
