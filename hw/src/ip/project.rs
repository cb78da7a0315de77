//! The files that take a bundle into a user's tools: the filelist `<top>.f`, a FuseSoC core
//! `<top>.core` (targets `lint`, `sim`, `synth`), `vivado.tcl` (non-project mode), and golden
//! vectors with a self-checking plain-Verilog testbench `sim/tb_<top>.v`.

use std::fmt::Write;
use std::path::Path;

use crate::bundle::Manifest;
use crate::HwError;

/// Golden frames a bundle carries (synthetic, deterministic).
pub const GOLDEN_FRAMES: usize = 3;
/// What the unused top byte of an `rgbx32` golden pixel holds (it must change nothing).
const PAD_BYTE: u32 = 0x5a;

/// The project files [`write_project`] writes, relative to the bundle.
pub fn project_files(m: &Manifest) -> Vec<String> {
    let t = &m.top_module;
    let mut v = vec![
        format!("{t}.f"),
        format!("{t}.core"),
        "vivado.tcl".to_string(),
        "syn/yosys_generic.tcl".to_string(),
        format!("sim/tb_{t}.v"),
        "sim/golden_in.hex".to_string(),
        "sim/golden_out.hex".to_string(),
    ];
    if !m.load.is_empty() {
        v.push("sim/golden_weights.hex".to_string());
    }
    v
}

/// Writes the project files for the bundle in `dir` (its RTL and memories already written).
/// `vivado.tcl` has no board yet: `gen --board` rewrites it ([`write_vivado_tcl`]).
pub fn write_project(
    dir: &Path,
    m: &Manifest,
    model: &squeezeflow_model::QuantModel,
) -> Result<(), HwError> {
    let t = &m.top_module;
    let write = |rel: &str, text: String| -> Result<(), HwError> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(HwError::io(parent.display()))?;
        }
        std::fs::write(&p, text).map_err(HwError::io(p.display()))
    };
    let mems: Vec<&String> = m.files.iter().filter(|f| f.starts_with("mem/")).collect();
    // The filelist: the design's sources in compile order, relative to the bundle.
    write(
        &format!("{t}.f"),
        m.rtl.iter().map(|f| format!("{f}\n")).collect(),
    )?;

    // Golden vectors: frames, their logits from the integer reference, the weight packet.
    let shape = model.network.input_shape();
    let bits = m.input.tdata_bits;
    let mut gin = String::new();
    let mut gout = String::new();
    for i in 0..GOLDEN_FRAMES {
        let f = squeezeflow_model::float::synthetic_frame(shape, 7000 + i as u64);
        for p in f.chunks(3) {
            let w = p[0] as u32 | (p[1] as u32) << 8 | (p[2] as u32) << 16;
            if bits > 24 {
                let _ = writeln!(gin, "{:08x}", w | PAD_BYTE << 24);
            } else {
                let _ = writeln!(gin, "{w:06x}");
            }
        }
        let out =
            squeezeflow_model::reference::run(model, &f, squeezeflow_model::reference::Path::Fast)?;
        for l in out.logits {
            let _ = writeln!(gout, "{l:04x}");
        }
    }
    write("sim/golden_in.hex", gin)?;
    write("sim/golden_out.hex", gout)?;
    let words = m.load_words(dir)?;
    if !words.is_empty() {
        write(
            "sim/golden_weights.hex",
            words.iter().map(|w| format!("{:016x}\n", w.data)).collect(),
        )?;
    }
    write(&format!("sim/tb_{t}.v"), testbench(m, words.len()))?;
    write("syn/yosys_generic.tcl", YOSYS_TCL.to_string())?;
    write(&format!("{t}.core"), core_file(m, &mems))?;
    write_vivado_tcl(dir, m, &[], None)
}

/// Writes `vivado.tcl`: `constraints` (relative paths) are the board's files, `part` the
/// default part.
pub fn write_vivado_tcl(
    dir: &Path,
    m: &Manifest,
    constraints: &[String],
    part: Option<&str>,
) -> Result<(), HwError> {
    let mems: Vec<&String> = m.files.iter().filter(|f| f.starts_with("mem/")).collect();
    let p = dir.join("vivado.tcl");
    std::fs::write(&p, vivado_tcl(m, &mems, constraints, part)).map_err(HwError::io(p.display()))
}

/// The FuseSoC synthesis template: edalize's Yosys flow always runs `synth_<arch>`, so a
/// vendor-neutral `synth` needs its own script.
const YOSYS_TCL: &str =
    "# Generic Yosys synthesis for FuseSoC's `synth` target (edalize runs this script in its
# work directory, where the memory files were copied).
yosys -import
source edalize_yosys_procs.tcl
verilog_defaults -push
verilog_defaults -add -defer
set_defines
set_incdirs
read_files
set_params
verilog_defaults -pop
yosys synth -top $top
yosys stat
write_json $name.json
";

fn core_file(m: &Manifest, mems: &[&String]) -> String {
    let t = &m.top_module;
    let mut c = format!(
        "CAPI=2:\n# FuseSoC core of the squeezeflow bundle {t} (network {}).\n\
name: squeezeflow:bundle:{t}:{}\ndescription: SqueezeNet-family accelerator `{}`, \
AXI4-Stream pixels in, logits out\n\nfilesets:\n  rtl:\n    file_type: verilogSource\n    files:\n",
        m.network,
        env!("CARGO_PKG_VERSION"),
        m.network
    );
    for f in &m.rtl {
        let _ = writeln!(c, "      - {f}");
    }
    // $readmemh names files relative to the tool's working directory: copy them there.
    c.push_str("  mem:\n    file_type: user\n    files:\n");
    for f in mems {
        let _ = writeln!(c, "      - {f}: {{copyto: {f}}}");
    }
    c.push_str("  golden:\n    file_type: user\n    files:\n");
    let mut golden = vec!["sim/golden_in.hex", "sim/golden_out.hex"];
    if !m.load.is_empty() {
        golden.push("sim/golden_weights.hex");
    }
    for f in golden {
        let _ = writeln!(c, "      - {f}: {{copyto: {f}}}");
    }
    for line in [
        "  tb:".to_string(),
        "    file_type: verilogSource".into(),
        "    files:".into(),
        format!("      - sim/tb_{t}.v"),
        "  yosys_tcl:".into(),
        "    file_type: user".into(),
        "    files:".into(),
        "      - syn/yosys_generic.tcl: {copyto: yosys_generic.tcl}".into(),
        String::new(),
        "targets:".into(),
        "  default: &default".into(),
        "    filesets: [rtl, mem]".into(),
        format!("    toplevel: {t}"),
        "  lint:".into(),
        "    <<: *default".into(),
        "    flow: lint".into(),
        "    flow_options:".into(),
        "      tool: verilator".into(),
        "      verilator_options: [-Wall, -Wno-DECLFILENAME]".into(),
        "  sim:".into(),
        "    filesets: [rtl, mem, golden, tb]".into(),
        format!("    toplevel: tb_{t}"),
        "    flow: sim".into(),
        "    flow_options:".into(),
        "      tool: icarus".into(),
        "  synth:".into(),
        "    filesets: [rtl, mem, yosys_tcl]".into(),
        format!("    toplevel: {t}"),
        "    flow: generic".into(),
        "    flow_options:".into(),
        "      tool: yosys".into(),
        "      arch: generic".into(),
        "      output_format: json".into(),
        "      yosys_template: yosys_generic.tcl".into(),
    ] {
        let _ = writeln!(c, "{line}");
    }
    c
}

fn vivado_tcl(
    m: &Manifest,
    mems: &[&String],
    constraints: &[String],
    part: Option<&str>,
) -> String {
    let t = &m.top_module;
    let wrapper = constraints
        .iter()
        .find(|c| c.ends_with("_accel_top.v"))
        .map(|c| {
            Path::new(c)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    let top = wrapper.clone().unwrap_or_else(|| t.clone());
    let mut s = format!(
        "# Vivado, non-project mode: synthesize, implement and report the squeezeflow bundle {t}.\n\
# Run from anywhere: vivado -mode batch -source vivado.tcl [-tclargs PART]\n\
# (not run by squeezeflow's tests: Vivado is not installed where they run).\n\
cd [file dirname [file normalize [info script]]]\n"
    );
    match part {
        Some(p) => {
            let _ = writeln!(s, "set part [expr {{$argc > 0 ? [lindex $argv 0] : \"{p}\"}}]");
        }
        None => s.push_str(
            "if {$argc < 1} { error \"give the part: vivado -mode batch -source vivado.tcl -tclargs PART\" }\nset part [lindex $argv 0]\n",
        ),
    }
    for f in &m.rtl {
        let _ = writeln!(s, "read_verilog {f}");
    }
    // The accelerator's own constraints and wrapper; `<board>.xdc` is the board shell's.
    for c in constraints.iter().filter(|c| c.contains("_accel")) {
        if c.ends_with(".v") {
            let _ = writeln!(s, "read_verilog {c}");
        } else if c.ends_with(".xdc") {
            let _ = writeln!(s, "read_xdc {c}");
        }
    }
    // $readmemh resolves against the working directory (the bundle, after the `cd` above);
    // read_mem also hands the files to Vivado so the run keeps them.
    for f in mems {
        let _ = writeln!(s, "read_mem {f}");
    }
    let _ = write!(
        s,
        "file mkdir vivado\n\
synth_design -top {top} -part $part\n\
report_utilization -file vivado/utilization_synth.rpt\n\
opt_design\nplace_design\nroute_design\n\
report_utilization -file vivado/utilization.rpt\n\
report_timing_summary -file vivado/timing.rpt\n\
write_checkpoint -force vivado/{top}_routed.dcp\n"
    );
    if wrapper.is_some() {
        let _ = writeln!(s, "write_bitstream -force vivado/{top}.bit");
    }
    s
}

/// The self-checking testbench: streams the golden frames (and the weight packet first, if
/// any) with random pauses on both sides, checks every logit, prints PASS/FAIL per frame with
/// its latency, and ends with `$fatal` on any failure (so a simulator's exit status says it).
fn testbench(m: &Manifest, weight_words: usize) -> String {
    let t = &m.top_module;
    let pixels = m.input.beats_per_frame;
    let classes = m.num_classes;
    let pb = m.input.tdata_bits;
    let words = weight_words.max(1);
    format!(
        "// Self-checking testbench of the squeezeflow bundle {t}: streams sim/golden_in.hex
// ({GOLDEN_FRAMES} frames of {pixels} pixels) with random pauses on both sides (STALL percent a
// cycle), checks every logit against sim/golden_out.hex (the integer reference's), and prints
// PASS or FAIL per frame with its latency (cycles from the frame's last pixel in to its last
// logit out). Run from the bundle's folder, e.g.
//   iverilog -g2005 -o tb.vvp -f {t}.f sim/tb_{t}.v && vvp tb.vvp
// Exits through $fatal on any failure.
`timescale 1ns/1ps
`default_nettype none
module tb_{t};
    parameter STALL = 30;
    parameter SEED = 1;
    localparam FRAMES = {GOLDEN_FRAMES}, PIXELS = {pixels}, CLASSES = {classes};
    localparam WORDS = {weight_words}, WMEM = {words};
    reg aclk = 0, aresetn = 0;
    always #5 aclk = !aclk;
    reg [{pbm}:0] pix [0:FRAMES*PIXELS-1];
    reg [15:0] want [0:FRAMES*CLASSES-1];
    reg [63:0] wts [0:WMEM-1];
    reg [{pbm}:0] s_tdata = 0;
    reg s_tvalid = 0, s_tlast = 0, m_tready = 0;
    reg [63:0] w_tdata = 0;
    reg w_tvalid = 0, w_tlast = 0;
    wire s_tready, m_tvalid, m_tlast, m_tuser, w_tready;
    wire [15:0] m_tdata;
    wire frame_error, weights_complete, weights_error;
    wire [15:0] frame_errors;
    {t} dut (
        .aclk(aclk), .aresetn(aresetn),
        .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
        .s_axis_tlast(s_tlast),
        .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
        .m_axis_tlast(m_tlast), .m_axis_tuser(m_tuser),
        .s_axis_weights_tdata(w_tdata), .s_axis_weights_tvalid(w_tvalid),
        .s_axis_weights_tready(w_tready), .s_axis_weights_tlast(w_tlast),
        .frame_error(frame_error), .frame_errors(frame_errors),
        .weights_complete(weights_complete), .weights_error(weights_error)
    );
    integer seed, oseed, i, sent, got, frame, bad, failed, cycle;
    integer last_in [0:FRAMES-1];
    initial begin
        $readmemh(\"sim/golden_in.hex\", pix);
        $readmemh(\"sim/golden_out.hex\", want);
        if (WORDS > 0) $readmemh(\"sim/golden_weights.hex\", wts);
        seed = SEED;
        repeat (4) @(posedge aclk);
        aresetn <= 1;
        // The weight packet, if the bundle has loadable memories.
        i = 0;
        while (i < WORDS) begin
            @(negedge aclk);
            if (!w_tvalid && ({{$random(seed)}} % 100) >= STALL) begin
                w_tvalid = 1; w_tdata = wts[i]; w_tlast = (i == WORDS - 1);
            end
            @(posedge aclk);
            if (w_tvalid && w_tready) begin
                i = i + 1;
                w_tvalid <= 0; w_tlast <= 0;
            end
        end
        @(negedge aclk); w_tvalid = 0;
        repeat (2) @(posedge aclk);
        if (!weights_complete || weights_error) begin
            $display(\"FAIL: weights_complete %0d, weights_error %0d after %0d words\",
                     weights_complete, weights_error, WORDS);
            $fatal(1, \"weights not loaded\");
        end
        // The frames.
        sent = 0;
        while (sent < FRAMES * PIXELS) begin
            @(negedge aclk);
            if (!s_tvalid && ({{$random(seed)}} % 100) >= STALL) begin
                s_tvalid = 1; s_tdata = pix[sent]; s_tlast = (sent % PIXELS == PIXELS - 1);
            end
            @(posedge aclk);
            if (s_tvalid && s_tready) begin
                if (s_tlast) last_in[sent / PIXELS] = cycle;
                sent = sent + 1;
                s_tvalid <= 0; s_tlast <= 0;
            end
        end
    end
    // The logits, checked as they come.
    initial begin
        got = 0; frame = 0; bad = 0; failed = 0; cycle = 0; oseed = SEED + 7;
        forever begin
            @(negedge aclk);
            m_tready = ({{$random(oseed)}} % 100) >= STALL;
            @(posedge aclk);
            cycle = cycle + 1;
            if (aresetn && m_tvalid && m_tready) begin
                if (m_tdata !== want[got] || m_tuser !== 1'b0) begin
                    if (bad < 5)
                        $display(\"  frame %0d logit %0d: %h, expected %h (tuser %b)\",
                                 frame, got % CLASSES, m_tdata, want[got], m_tuser);
                    bad = bad + 1;
                end
                if (m_tlast !== (got % CLASSES == CLASSES - 1)) begin
                    $display(\"  frame %0d: tlast %b at logit %0d\", frame, m_tlast, got % CLASSES);
                    bad = bad + 1;
                end
                got = got + 1;
                if (got % CLASSES == 0) begin
                    if (bad == 0)
                        $display(\"frame %0d: PASS (latency %0d cycles)\", frame, cycle - last_in[frame]);
                    else
                        $display(\"frame %0d: FAIL (%0d wrong)\", frame, bad);
                    failed = failed + (bad != 0);
                    bad = 0;
                    frame = frame + 1;
                    if (frame == FRAMES) begin
                        if (failed == 0 && frame_errors == 0) begin
                            $display(\"PASS\");
                            $finish;
                        end
                        $display(\"FAIL: %0d of %0d frames, frame_errors %0d\", failed, FRAMES, frame_errors);
                        $fatal(1, \"golden vectors differ\");
                    end
                end
            end
        end
    end
    // A watchdog: a stuck design fails rather than hangs.
    initial begin
        #(10 * (FRAMES + 3) * ({cpf} + PIXELS * 4 + WORDS * 4) + 100000);
        $display(\"FAIL: timeout after %0d of %0d logits\", got, FRAMES * CLASSES);
        $fatal(1, \"timeout\");
    end
endmodule
`default_nettype wire
",
        pbm = pb - 1,
        cpf = m.cycles_per_frame,
    )
}
