//! The multipliers' registers in synthesis: the ECP5 MULT18X18D's and the UltraScale+
//! DSP48E2's own registers on the MAC lanes and the requantizers (Yosys keeps the primitives
//! with them), and each primitive's hookup simulated in Icarus against a model of it
//! (tests/verilog/). Split from hw_synth.rs.

use squeezeflow_hw::synth::Family;
use squeezeflow_tests::netlist::{drivers, port_bits};
use squeezeflow_tests::{library_text, scratch, synth_and_select};

/// On ECP5 a MAC lane is an MULT18X18D with its input and output registers behind the
/// operands' fabric registers (`sqf_mac` with `ECP5_MUL = 1`): Yosys keeps the primitive with
/// both on the clock, and the product's fabric flip-flops are gone, while the stage the input
/// registers add has the flags' and the bias's (latency 7). With the output register alone,
/// the route from a weight ROM's block RAM across the chip and the multiply were one cycle,
/// the ULX3S route's critical path (98.1 MHz, 2026-12-04). The primitive's hookup (operand
/// bits, extension, which product bits) is simulated in Icarus against a model of the
/// MULT18X18D written from Lattice's description (tests/verilog/), with products worked out
/// by the testbench.
#[test]
fn ecp5_mac_lanes_keep_their_registers_in_the_multipliers() {
    let lib = library_text(&["sqf_mul_ecp5", "sqf_mac"]);
    let ffs = ecp5_two_mults("synth_mac", &lib, MULT_IN_OUT, |mul| {
        one_mac_top(&format!(".ECP5_MUL({mul})"))
    });
    // Two lanes of a 17-bit product each gone, the ECP5 form's stage x (en, first and the
    // 32-bit bias) added: as many flip-flops.
    assert_eq!(
        ffs[0] as i64 - ffs[1] as i64,
        2 * 17 - (2 + 32),
        "fabric, ECP5: {ffs:?}"
    );

    // The lanes' shape: operands registered in the fabric, then in the multiplier, then the
    // product register.
    simulate_mul_ecp5(&lib, 8, 8, 1, 1);
}

/// On ECP5 the MAC lanes of two PEs that take the same activations keep their own operand
/// registers: merged fabric registers fed multipliers across the chip, the ULX3S route's
/// critical path (93.2 MHz, 2026-12-03); the operand registers are now each multiplier's own
/// input registers. Two MACs with the same activations, their own weights and biases, have
/// twice the flip-flops of one, and each lane its registered MULT18X18D.
#[test]
fn ecp5_mac_lanes_of_different_pes_keep_their_own_operand_registers() {
    let lib = library_text(&["sqf_mul_ecp5", "sqf_mac"]);
    let ffs = [1, 2].map(|pes| {
        let macs = (0..pes)
            .map(|i| {
                format!(
                    "sqf_mac #(.SIMD(2), .ECP5_MUL(1)) u{i} (.clock(clock), .en(en),\n\
                     .first(first), .x(x), .w(w[16*{i} +: 16]), .bias(bias[32*{i} +: 32]),\n\
                     .acc(acc[32*{i} +: 32]));\n"
                )
            })
            .collect::<String>();
        let top = format!(
            "module top(input wire clock, input wire en, input wire first, input wire [15:0] x,\n\
             input wire [{}:0] w, input wire [{}:0] bias, output wire [{}:0] acc);\n\
             {macs}endmodule\n",
            16 * pes - 1,
            32 * pes - 1,
            32 * pes - 1
        );
        let c = synth_and_select(
            &format!("synth_mac_pes_{pes}"),
            &lib,
            &top,
            Family::Ecp5,
            &format!("select -assert-count {} {MULT_IN_OUT}", 2 * pes),
        );
        c.ffs()
    });
    assert_eq!(ffs[1], 2 * ffs[0], "one MAC, two: {ffs:?}");
}

/// A top module of one two-lane `sqf_mac` with the parameter `param` (`.NAME(value)`).
fn one_mac_top(param: &str) -> String {
    format!(
        "module top(input wire clock, input wire en, input wire first, input wire [15:0] x,\n\
         input wire [15:0] w, input wire signed [31:0] bias, output wire signed [31:0] acc);\n\
         sqf_mac #(.SIMD(2), {param}) u (.clock(clock), .en(en), .first(first),\n\
         .x(x), .w(w), .bias(bias), .acc(acc));\nendmodule\n"
    )
}

/// sqf_mul_ecp5's MULT18X18D branch (operand bits, extension, which product bits) simulated in
/// Icarus against a model of the MULT18X18D written from Lattice's description
/// (tests/verilog/), with products worked out by the testbench: AW x BW bits, IN_REG and
/// DSP_IN_REG as given.
fn simulate_mul_ecp5(lib: &str, aw: u32, bw: u32, in_reg: u32, dsp_in: u32) {
    let text = simulate(
        "tb_mul_ecp5",
        "MULT18X18D.v",
        lib,
        &[
            ("AW", aw),
            ("BW", bw),
            ("IN_REG", in_reg),
            ("DSP_IN_REG", dsp_in),
        ],
    );
    // 3,000 cycles, less the first of each input register stage (no product yet).
    let want = format!("checked {} mismatches 0", 3000 - in_reg - dsp_in);
    assert!(
        text.contains(&want),
        "the MULT18X18D branch ({aw} x {bw}, IN_REG {in_reg}, DSP_IN_REG {dsp_in}) in \
         simulation:\n{text}"
    );
}

/// Runs testbench `tb` (tests/verilog/`tb`.v, its parameters set) in Icarus with the vendor
/// primitive's model (tests/verilog/`model`) and the library text `lib`, built with
/// `SYNTHESIS` defined (the primitive's branch); returns what it printed.
fn simulate(tb: &str, model: &str, lib: &str, params: &[(&str, u32)]) -> String {
    let v = squeezeflow_tests::repo_root().join("tests/verilog");
    let tag: String = params.iter().map(|(n, x)| format!("_{n}{x}")).collect();
    let dir = scratch(&format!("sim_{tb}{tag}"));
    let lib_file = dir.join("sqf_lib.v");
    std::fs::write(&lib_file, lib).unwrap();
    let mut build = std::process::Command::new("iverilog");
    build
        .args(["-g2005", "-DSYNTHESIS", "-s", tb, "-o"])
        .arg(dir.join("tb.vvp"));
    for (name, value) in params {
        build.args(["-P", &format!("{tb}.{name}={value}")]);
    }
    let build = build
        .arg(v.join(format!("{tb}.v")))
        .arg(v.join(model))
        .arg(&lib_file)
        .output()
        .expect("iverilog is installed (scripts/setup.sh)");
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let run = std::process::Command::new("vvp")
        .arg("-n")
        .arg(dir.join("tb.vvp"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// The MULT18X18Ds with their output register on the clock and no input register.
const MULT_OUT_ONLY: &str = "t:MULT18X18D r:REG_OUTPUT_CLK=CLK0 %i r:REG_INPUTA_CLK=CLK0 %d \
                             r:REG_INPUTB_CLK=CLK0 %d";
/// The MULT18X18Ds with their input registers and their output register on the clock.
const MULT_IN_OUT: &str = "t:MULT18X18D r:REG_OUTPUT_CLK=CLK0 %i r:REG_INPUTA_CLK=CLK0 %i \
                           r:REG_INPUTB_CLK=CLK0 %i";

/// Synthesizes `top(mul)` for ECP5 with `ECP5_MUL = mul`, 0 and 1: two MULT18X18Ds each time,
/// registered as `regs` selects only with 1; returns the flip-flop counts, fabric then ECP5.
fn ecp5_two_mults(tag: &str, lib: &str, regs: &str, top: impl Fn(u32) -> String) -> Vec<u64> {
    let mut ffs = Vec::new();
    for mul in [0, 1] {
        let want = 2 * mul;
        let c = synth_and_select(
            &format!("{tag}_{mul}"),
            lib,
            &top(mul),
            Family::Ecp5,
            &format!("select -assert-count {want} {regs}"),
        );
        assert_eq!(c.get("MULT18X18D"), 2, "{tag} {mul}: {:?}", c.cells);
        ffs.push(c.ffs());
    }
    ffs
}

/// On ECP5 a requantizer's two products (`sqf_requant` with `ECP5_MUL = 1`, as in the
/// engines' chains) are in its MULT18X18Ds' output registers, with no input register (acc and
/// mult are registers already, in the fabric): with a multiplier between two fabric
/// registers, each far from it, the ULX3S network routed at 75.7 MHz (2026-12-03). The
/// primitives' hookup at the requantizer's two shapes (17 x 17 and 16 x 15 bits, no input
/// registers) is simulated as the MAC lanes' is.
#[test]
fn ecp5_requantizers_keep_their_products_in_the_multipliers() {
    let lib = library_text(&["sqf_mul_ecp5", "sqf_requant"]);
    let ffs = ecp5_two_mults("synth_requant", &lib, MULT_OUT_ONLY, |mul| {
        format!(
            "module top(input wire clock, input wire signed [31:0] acc, input wire [15:0] mult,\n\
         input wire [5:0] shift, output wire [7:0] y);\n\
         sqf_requant #(.OUT_BITS(8), .MULT_REG(1), .ROUND_REG(1), .ECP5_MUL({mul})) u (\n\
         .clock(clock), .acc(acc), .mult(mult), .shift(shift), .y(y));\nendmodule\n"
        )
    });
    // The products' fabric registers gone: the low product's 33 bits (17 by 16 unsigned; the
    // fabric register's two top bits are constant zero and trimmed) and the high one's 32;
    // the ECP5 form's sum keeps one register more (its split add's carry).
    assert_eq!(ffs[0] - ffs[1], 33 + 32 - 1, "fabric, ECP5: {ffs:?}");
    simulate_mul_ecp5(&lib, 17, 17, 0, 0);
    simulate_mul_ecp5(&lib, 16, 15, 0, 0);
    // With MUL_IN_REG (the engines' chains on ECP5) the operands enter the multipliers' input
    // registers too: a parameter ROM's register routed 5.70 ns into an unregistered one (its
    // setup holds the multiply) was the ULX3S network's critical path (103.0 MHz, 2026-12-04).
    synth_and_select(
        "synth_requant_in",
        &lib,
        "module top(input wire clock, input wire signed [31:0] acc, input wire [15:0] mult,\n\
         input wire [5:0] shift, output wire [7:0] y);\n\
         sqf_requant #(.OUT_BITS(8), .ROUND_REG(1), .ECP5_MUL(1), .MUL_IN_REG(1)) u (\n\
         .clock(clock), .acc(acc), .mult(mult), .shift(shift), .y(y));\nendmodule\n",
        Family::Ecp5,
        &format!("select -assert-count 2 {MULT_IN_OUT}"),
    );
    simulate_mul_ecp5(&lib, 17, 17, 0, 1);
    simulate_mul_ecp5(&lib, 16, 15, 0, 1);
    // The products' sum split across its stage: no carry chain over 10 CCU2Cs (the low 18 bits
    // and their carry; the high bits' increment after the register). Whole, its 32 bits from
    // the multipliers' output registers (16 CCU2Cs) were late on the ULX3S (8.56 ns).
    let tag = "synth_requant_in";
    let dir = squeezeflow_tests::repo_root()
        .join("target/squeezeflow-tests")
        .join(tag);
    squeezeflow_tests::yosys_script(
        &dir,
        "read_verilog sqf_lib.v top.v; synth_ecp5 -top top; write_json net.json",
    );
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("net.json")).unwrap()).unwrap();
    let top = &net["modules"]["top"];
    let longest = longest_carry_chain(top);
    assert!(
        (8..=10).contains(&longest),
        "longest carry chain: {longest} CCU2Cs"
    );
}

/// On ECP5 the average pool's logit requantizer (`sqf_avg_pool` with `ECP5_MUL = 1`) takes
/// its operands in the MULT18X18Ds' input registers as well as its products in their output
/// registers: the sum's register (a block RAM's output register) into the multipliers'
/// unregistered inputs, the multiply in their setup (3.49 ns after 3.92 ns of routing), was
/// the ULX3S build's critical path (119.6 MHz, 2026-12-05).
#[test]
fn ecp5_average_pool_requantizer_takes_its_operands_in_the_multipliers() {
    let lib = library_text(&[
        "sqf_mul_ecp5",
        "sqf_requant",
        "sqf_out_fifo",
        "sqf_avg_pool",
    ]);
    synth_and_select(
        "synth_gap_ecp5",
        &lib,
        "module top(input wire clock, input wire reset, input wire [7:0] s_tdata,\n\
         input wire s_tvalid, input wire s_tlast, output wire s_tready,\n\
         output wire [15:0] m_tdata, output wire m_tvalid, output wire m_tlast,\n\
         input wire m_tready);\n\
         sqf_avg_pool #(.LANES(1), .CG(100), .PIXELS(9), .MULT(58254), .SHIFT(11), .DEPTH(8),\n\
         .ECP5_MUL(1)) u (.clock(clock), .reset(reset), .s_tdata(s_tdata),\n\
         .s_tvalid(s_tvalid), .s_tlast(s_tlast), .s_tready(s_tready), .m_tdata(m_tdata),\n\
         .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));\nendmodule\n",
        Family::Ecp5,
        &format!("select -assert-count 2 {MULT_IN_OUT}"),
    );
}

/// The most CCU2Cs joined carry out to carry in, in a Yosys JSON module.
fn longest_carry_chain(module: &serde_json::Value) -> usize {
    let cells = module["cells"].as_object().unwrap();
    let driver = drivers(module);
    // Each CCU2C's predecessor: the CCU2C driving its CIN.
    let prev = |c: &serde_json::Value| {
        port_bits(c, "CIN")
            .first()
            .and_then(|b| driver.get(b))
            .filter(|d| cells[**d]["type"] == "CCU2C")
            .copied()
    };
    cells
        .iter()
        .filter(|(_, c)| c["type"] == "CCU2C")
        .map(|(_, c)| {
            let mut n = 1;
            let mut at = prev(c);
            while let Some(d) = at {
                n += 1;
                at = prev(&cells[d]);
            }
            n
        })
        .max()
        .unwrap_or(0)
}

/// On UltraScale+ a paired MAC lane's product register is its DSP48E2's P register
/// (`sqf_mac2` with `DSP48E2 = 1`): Yosys keeps the primitive with that register on (and no
/// A, B or M register: the operands stay in fabric registers and the latency is the fabric
/// form's), and the product's fabric flip-flops are gone. Yosys packs no DSP48E2 register
/// itself: the DSP48E2 between fabric registers, 2.44 ns through its multiplier
/// unregistered, was the XCZU7EV engines' deepest path (4.05 ns, 2026-12-03). The primitive's
/// hookup (operand extension, OPMODE, which product bits) is simulated in Icarus against a
/// model of the DSP48E2 written from Xilinx's description (tests/verilog/), with products
/// worked out by the testbench.
#[test]
fn xcup_paired_macs_keep_their_registers_in_the_dsps() {
    let lib = library_text(&["sqf_mul_dsp48e2", "sqf_mac2"]);
    for dsp in [0, 1] {
        let top = format!(
            "module top(input wire clock, input wire en, input wire first, input wire [15:0] x,\n\
             input wire [15:0] w0, input wire [15:0] w1, input wire signed [31:0] bias0,\n\
             input wire signed [31:0] bias1, output wire signed [31:0] acc0,\n\
             output wire signed [31:0] acc1);\n\
             sqf_mac2 #(.SIMD(2), .DSP48E2({dsp})) u (.clock(clock), .en(en), .first(first),\n\
             .x(x), .w0(w0), .w1(w1), .bias0(bias0), .bias1(bias1), .acc0(acc0), .acc1(acc1));\n\
             endmodule\n"
        );
        // Every DSP48E2 with its P register and no other; the fabric flip-flops (or shift
        // registers) its P bits drive: per lane the product's 34 in the fabric form; with the
        // P register only the lane stage's, w0*x (17 bits) and the low 7 of w1*x (x*128 is
        // subtracted from the bits above them).
        let regs = "t:DSP48E2 r:AREG=0 %i r:BREG=0 %i r:PREG=1 %i r:MREG=0 %i";
        let (want, fed) = (2 * dsp, 2 * if dsp == 1 { 17 + 7 } else { 34 });
        let c = synth_and_select(
            &format!("synth_mac2_{dsp}"),
            &lib,
            &top,
            Family::XilinxUltraScalePlus,
            &format!(
                "select -assert-count {want} {regs}; \
                 select -assert-count {fed} t:DSP48E2 %co2 t:FDRE t:SRL16E %u %i"
            ),
        );
        assert_eq!(c.get("DSP48E2"), 2, "{dsp}: {:?}", c.cells);
    }
    let text = simulate("tb_mul_dsp48e2", "DSP48E2.v", &lib, &[]);
    assert!(
        text.contains("checked 3000 mismatches 0"),
        "the DSP48E2 branch in simulation:\n{text}"
    );
}

/// On UltraScale+ an odd last PE's MAC lanes (`sqf_mac` with `DSP48E2 = 1`, beside the pairs)
/// keep their product registers in the DSP48E2s as the pairs do: a DSP48E2 between fabric
/// registers, its multiplier unregistered, was the XCZU7EV folding's deepest path there
/// (4.05 ns, 2026-12-04). Every DSP48E2 has its P register and no other; what its products
/// drive is the lane register (34 flip-flops), where the fabric form's product and lane
/// registers became 34 two-deep shift registers (SRL16E) behind the unregistered multiplier.
/// The lane's shape (9 x 8 bits) is simulated against the DSP48E2 model.
#[test]
fn xcup_odd_macs_keep_their_registers_in_the_dsps() {
    let lib = library_text(&["sqf_mul_ecp5", "sqf_mul_dsp48e2", "sqf_mac"]);
    for dsp in [0, 1] {
        let top = one_mac_top(&format!(".DSP48E2({dsp})"));
        let regs = "t:DSP48E2 r:AREG=0 %i r:BREG=0 %i r:PREG=1 %i r:MREG=0 %i";
        let (fdre, srl) = if dsp == 1 { (34, 0) } else { (0, 34) };
        let c = synth_and_select(
            &format!("synth_mac_dsp_{dsp}"),
            &lib,
            &top,
            Family::XilinxUltraScalePlus,
            &format!(
                "select -assert-count {} {regs}; \
                 select -assert-count {fdre} t:DSP48E2 %co2 t:FDRE %i; \
                 select -assert-count {srl} t:DSP48E2 %co2 t:SRL16E %i",
                2 * dsp
            ),
        );
        assert_eq!(c.get("DSP48E2"), 2, "{dsp}: {:?}", c.cells);
    }
    let text = simulate("tb_mul_dsp48e2", "DSP48E2.v", &lib, &[("AW", 9), ("BW", 8)]);
    assert!(
        text.contains("checked 3000 mismatches 0"),
        "the DSP48E2 branch (9 x 8) in simulation:\n{text}"
    );
}
