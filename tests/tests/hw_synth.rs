//! Yosys maps a Fire module's weight memories to block RAM and its multipliers to DSPs.
//! The module has fire4's channel counts (SqueezeNet v1.1: 128 -> 32 -> 128 + 128) on a small
//! map (the map size changes only the line buffers), with a folding of 128 MAC lanes.

use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::device::{find_device, resources};
use squeezeflow_hw::fire::{fire_block, FireFold, Fold};
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::synth::{run_yosys, Family};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::QuantModel;
use squeezeflow_tests::netlist::{drivers, loads_of, port_bits};
use squeezeflow_tests::{library_text, scratch, synth_and_select, yosys_script, yosys_select};

#[test]
fn fire4_shaped_module_maps_to_bram_and_dsp() {
    let cfg = NetworkConfig {
        name: "fire4-shaped".into(),
        input_size: 31,
        num_classes: 4,
        conv1: Conv1Spec {
            channels: 128,
            kernel: 3,
            stride: 2,
        },
        fires: vec![FireSpec {
            squeeze: 32,
            expand1x1: 128,
            expand3x3: 128,
        }],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::None,
        meta: None,
        quantization: Default::default(),
    };
    let m = QuantModel::synthetic(&cfg, 4).unwrap();
    let f = m.network.fires().next().unwrap().clone();
    let fold = FireFold {
        squeeze: Fold { pe: 4, simd: 8 },
        expand1x1: Fold { pe: 4, simd: 8 },
        expand3x3: Fold { pe: 8, simd: 8 },
        bypass: None,
        cat_lanes: 4,
    };
    let mut g = fire_block(&f, &m, &fold, 8).unwrap();
    let dir = scratch("synth_fire4");
    write_block(&mut g, &dir).unwrap();
    let c = run_yosys(&dir, Family::Xilinx7).unwrap();
    eprintln!("fire4-shaped module, synth_xilinx -flatten: {:?}", c.cells);
    eprintln!(
        "BRAM36 {:.1}, DSP {}, LUT {}, FF {}",
        c.bram36(),
        c.dsp(),
        c.luts(),
        c.ffs()
    );
    // The 3x3 expand's eight weight ROMs (576 x 64 bits each) are block RAM.
    assert!(
        c.bram36() >= 8.0,
        "weight ROMs not in block RAM: {:?}",
        c.cells
    );
    // 128 MAC lanes in PE pairs (sqf_mac2): one DSP48E1 per lane pair, 64; plus two per
    // requantizer: each engine's PEs share one (chains of 4, 4 and 8 PEs; 16, 4 and 36 MAC
    // cycles per group), 3 instead of 16.
    let rqs: u64 = squeezeflow_hw::fire::fire_geoms(&f, &fold)
        .unwrap()
        .iter()
        .map(|g| g.requantizers() as u64)
        .sum();
    assert_eq!(rqs, 3);
    assert_eq!(c.dsp(), 128 / 2 + 2 * rqs, "DSPs: {:?}", c.cells);
    // The LUT estimate of these three engines (their layers in a plan with this folding)
    // is within 15% of Yosys' count.
    let mut hw = HardwareConfig::default();
    for (l, fd) in [
        (&f.squeeze, fold.squeeze),
        (&f.expand1x1, fold.expand1x1),
        (&f.expand3x3, fold.expand3x3),
    ] {
        hw.fold.insert(l.name.clone(), fd);
    }
    let p = plan(&m.network, &hw).unwrap();
    let dev = find_device("xc7a200t").unwrap();
    let est: u64 = resources(&m.network, &p, dev)
        .unwrap()
        .layers
        .iter()
        .filter(|l| l.name.starts_with(&format!("{}.", f.name)))
        .map(|l| l.luts)
        .sum();
    let got = c.luts();
    eprintln!("LUT estimate {est}, Yosys {got}");
    assert!(
        est.abs_diff(got) * 100 <= 15 * got,
        "LUT estimate {est} against Yosys {got}"
    );
}

/// A register written from two processes on the same clock (a mistake Verilator and Yosys for
/// Xilinx accept, and nextpnr-ecp5 refuses) is refused by `run_yosys` with the net's name, for
/// Xilinx and ECP5 alike; the same design with one process passes.
#[test]
fn a_register_with_two_drivers_is_refused_by_name() {
    let two = "module top(input wire clock, input wire reset, input wire a, output wire y);\n\
               reg twice;\n\
               always @(posedge clock) if (reset) twice <= 1'b0; else twice <= a;\n\
               always @(posedge clock) if (!reset) twice <= !a;\n\
               assign y = twice;\nendmodule\n";
    let one = two.replace("always @(posedge clock) if (!reset) twice <= !a;\n", "");
    for fam in [Family::Xilinx7, Family::Ecp5] {
        let dir = scratch(&format!("synth_two_drivers_{fam:?}"));
        std::fs::write(dir.join("sqf_lib.v"), "").unwrap();
        std::fs::write(dir.join("top.v"), two).unwrap();
        let err = run_yosys(&dir, fam).unwrap_err().to_string();
        assert!(
            err.contains("more than one driver") && err.contains("twice"),
            "{fam:?}: {err}"
        );
        std::fs::write(dir.join("top.v"), &one).unwrap();
        let c = run_yosys(&dir, fam).unwrap();
        assert!(c.ffs() >= 1, "{fam:?}: {:?}", c.cells);
    }
}

/// On ECP5 the board shell's block RAM reads (the logits, the frame) leave the DP16KD into a
/// register, through no logic (no LUT for a read meeting a write either, which the shell never
/// makes): the DP16KD's 5.83 ns clock to out followed by the reply byte's multiplexers was the
/// ULX3S build's critical path (70.9 MHz, 2026-12-03), and the logit RAM's read through
/// Yosys's collision LUT into its register a late path (8.14 ns, 2026-12-04). The frame's pixels leave the shell from
/// flip-flops: the frame RAM's read straight into the network's first line buffer was the
/// critical path later (103.3 MHz, 2026-12-04).
#[test]
fn the_shell_registers_its_block_ram_reads_on_ecp5() {
    // No logic cell takes a DP16KD's output (it drives flip-flops only).
    let logic = "t:LUT4 t:PFUMX t:L6MUX21 t:CCU2C %u %u %u";
    synth_shell_ecp5(
        "synth_shell_ecp5",
        &format!(
            "select -assert-min 2 t:DP16KD; \
             select -assert-none t:DP16KD %co2 {logic} %i; \
             select -assert-none w:m_tdata %ci1 t:* %i t:TRELLIS_FF %d"
        ),
    );
}

/// On ECP5 no carry chain lies between the shell's reply index (`r_i`, and `r_j`, the payload
/// index) and the reply byte's registers (the payload index's decode, the payload's byte, the
/// reply's byte; 2026-12-04, afternoon): the payload index as `r_i - 4`, then the compares
/// against the reply's end (`4 + length`), were the ULX3S build's critical path (81.4 MHz,
/// 2026-12-03: 5.29 ns in cells, 6.99 in routing). The cone has at least 50 cells (the
/// selection found it; 98 since the parser's outcome is registered, over 100 before).
#[test]
fn the_shell_reply_byte_has_no_carry_chain_on_ecp5() {
    synth_shell_ecp5(
        "synth_shell_reply",
        "select -set byte w:u.r_byte_q w:u.p_byte_q w:u.p_j w:u.p_jz %u %u %u \
         %ci2:+TRELLIS_FF[Q,DI] %ci*:-TRELLIS_FF; \
         select -set idx w:u.r_i w:u.r_j %u %co*:-TRELLIS_FF; \
         select -assert-min 50 @byte @idx %i; \
         select -assert-none @byte @idx %i t:CCU2C %i",
    );
}

/// On ECP5 the shell's error flags and its reply's end (`errs`, `r_end`) take the parser's
/// outcome from registers: no cell in front of them reads `loaded`, the memories' watermark
/// (`wm_sel`) or the request's CRC. The request's checks, the reply code's multiplexers and
/// then the flags in one cycle were the ULX3S build's critical path (107.2 MHz, 2026-12-04).
/// Nor does any cell in front of `loaded` and the watermark (`wm_sel`, `wm_adr`) read the
/// CRC: its check at the request's last byte into their enables was the critical path after
/// (102.8 MHz); nor any in front of the parser's state the timeout counter (its 32-bit
/// compare into the state's enable, 8.91 ns); nor does a carry chain in front of the parser's
/// registers read the received byte (its compares against the watermark into the
/// watermark's enables were the critical path, 110.3 MHz).
#[test]
fn the_shell_flags_take_a_registered_outcome_on_ecp5() {
    let tag = "synth_shell_outcome";
    synth_shell_ecp5(tag, "write_json net.json");
    let dir = squeezeflow_tests::repo_root()
        .join("target/squeezeflow-tests")
        .join(tag);
    let text = std::fs::read_to_string(dir.join("net.json")).unwrap();
    let net: serde_json::Value = serde_json::from_str(&text).unwrap();
    let top = &net["modules"]["top"];
    // The cells of `cone` with an input on a bit of the registers `regs`.
    let readers = |cone: &std::collections::HashSet<String>, regs: &[&str]| -> Vec<String> {
        let mut read = std::collections::HashSet::new();
        for r in regs {
            for b in top["netnames"][*r]["bits"]
                .as_array()
                .expect("a register net")
            {
                read.insert(b.as_u64().unwrap());
            }
        }
        cone.iter()
            .filter(|n| {
                let c = &top["cells"][n.as_str()];
                c["connections"].as_object().unwrap().iter().any(|(p, v)| {
                    c["port_directions"][p] == "input"
                        && v.as_array()
                            .unwrap()
                            .iter()
                            .any(|b| b.as_u64().is_some_and(|b| read.contains(&b)))
                })
            })
            .cloned()
            .collect()
    };
    let cone = cone_before(top, &["u.errs", "u.r_end"], true);
    assert!(cone.len() >= 10, "the flags' cone has {} cells", cone.len());
    let r = readers(&cone, &["u.loaded", "u.wm_sel", "u.crc"]);
    assert!(
        r.is_empty(),
        "cells in front of the flags read the request's checks: {r:?}"
    );
    let cone = cone_before(top, &["u.loaded", "u.wm_sel", "u.wm_adr"], true);
    assert!(
        cone.len() >= 10,
        "the watermark's cone has {} cells",
        cone.len()
    );
    let r = readers(&cone, &["u.crc"]);
    assert!(
        r.is_empty(),
        "cells in front of the watermark read the request's CRC: {r:?}"
    );
    let cone = cone_before(top, &["u.p_st"], true);
    let r = readers(&cone, &["u.tmo"]);
    assert!(
        r.is_empty(),
        "cells in front of the parser's state read the timeout counter: {r:?}"
    );
    // The received byte's compares (length, offsets) are registered before the parser uses
    // them: no carry chain in front of its registers reads the byte.
    let regs = [
        "u.perr", "u.p_st", "u.wm_sel", "u.wm_adr", "u.loaded", "u.w_sel",
    ];
    let cone = cone_before(top, &regs, true);
    let r: Vec<String> = readers(&cone, &["u.rx_data"])
        .into_iter()
        .filter(|n| top["cells"][n.as_str()]["type"] == "CCU2C")
        .collect();
    assert!(
        r.is_empty(),
        "carry chains in front of the parser's registers read the byte: {r:?}"
    );
}

/// Synthesizes the board shell (`sqf_shell_core`, 1,024 pixels, 1,000 classes, instance `u`)
/// for ECP5 in scratch directory `tag` and runs Yosys's `select` assertions `select` on it.
fn synth_shell_ecp5(tag: &str, select: &str) {
    let lib = library_text(&["sqf_ram", "sqf_shell_core"]);
    let dir = scratch(tag);
    std::fs::write(dir.join("sqf_lib.v"), &lib).unwrap();
    let ports = [
        "uart_rx", "uart_tx", "m_tdata", "m_tvalid", "m_tlast", "m_tready",
    ]
    .into_iter()
    .chain(["s_tdata", "s_tvalid", "s_tlast", "s_tready", "wl_valid"])
    .chain(["wl_sel", "wl_addr", "wl_data"])
    .map(|p| format!(", .{p}({p})"))
    .collect::<String>();
    let top = format!(
        "module top(input wire clock, input wire reset, input wire uart_rx, output wire uart_tx,\n\
         output wire [23:0] m_tdata, output wire m_tvalid, output wire m_tlast,\n\
         input wire m_tready, input wire [15:0] s_tdata, input wire s_tvalid, input wire s_tlast,\n\
         output wire s_tready, output wire wl_valid, output wire [15:0] wl_sel,\n\
         output wire [15:0] wl_addr, output wire [63:0] wl_data);\n\
         sqf_shell_core #(.PIXELS(1024), .CLASSES(1000)) u (.clock(clock), .reset(reset){ports});\n\
         endmodule\n"
    );
    std::fs::write(dir.join("top.v"), &top).unwrap();
    yosys_select(&dir, tag, &format!("synth_ecp5 -top top; {select}"));
}

/// A loaded weight memory's write (`sqf_wmem_loaded`) is registered: no path runs from the
/// load port (which fans out to every memory of the network) into the block RAM but through a
/// flip-flop. Unregistered, the port's decode (the address against the depth, a carry chain)
/// into the URAMs' byte write enables was the XCZU7EV folding's deepest path (5.37 ns,
/// 2026-12-03).
#[test]
fn loaded_weight_memories_register_their_writes() {
    let lib = library_text(&["sqf_ram", "sqf_wmem_loaded"]);
    let top = "module top(input wire clock, input wire wl_valid, input wire [15:0] wl_sel,\n\
               input wire [15:0] wl_addr, input wire [63:0] wl_data, input wire [11:0] raddr,\n\
               output wire [63:0] rdata);\n\
               sqf_wmem_loaded #(.WIDTH(64), .DEPTH(4000), .ABITS(12), .SEL(37)) u (\n\
               .clock(clock), .wl_valid(wl_valid), .wl_sel(wl_sel), .wl_addr(wl_addr),\n\
               .wl_data(wl_data), .raddr(raddr), .rdata(rdata));\nendmodule\n";
    let rams = "t:RAMB* t:URAM* %u";
    let c = synth_and_select(
        "synth_wmem_loaded",
        &lib,
        top,
        Family::XilinxUltraScalePlus,
        &format!(
            "select -assert-min 1 {rams}; \
             select -assert-none w:wl_addr w:wl_sel w:wl_valid w:wl_data %u %u %u \
             %co*:-FDRE {rams} %i"
        ),
    );
    // The registers: the write enable, the address's 12 bits and the word's 64.
    assert!(c.ffs() >= 1 + 12 + 64, "{:?}", c.cells);
}

/// On ECP5 a width converter's handshake outputs toward its neighbours (the producer's ready,
/// the consumer's valid) come straight from flip-flops, in the widening and the shift-register
/// forms: `count >= WO` after the count register, a carry chain, was in front of the
/// consumer's write handshake, the ECP5 network's deepest path (9.43 ns, 2026-12-03, the
/// 1 -> 8 converter into fire3.expand3x3).
#[test]
fn gearbox_handshakes_leave_from_flip_flops_on_ecp5() {
    let lib = library_text(&["sqf_gearbox"]);
    for (wi, wo, banked) in [(1, 8, 1), (3, 4, 0), (2, 8, 1)] {
        let top = format!(
            "module top(input wire clock, input wire reset, input wire [{}:0] s_tdata,\n\
             input wire s_tvalid, input wire s_tlast, output wire s_tready,\n\
             output wire [{}:0] m_tdata, output wire m_tvalid, output wire m_tlast,\n\
             input wire m_tready);\n\
             sqf_gearbox #(.WI({wi}), .WO({wo}), .FRAME(96), .BANKED({banked})) u (\n\
             .clock(clock), .reset(reset), .s_tdata(s_tdata), .s_tvalid(s_tvalid),\n\
             .s_tlast(s_tlast), .s_tready(s_tready), .m_tdata(m_tdata), .m_tvalid(m_tvalid),\n\
             .m_tlast(m_tlast), .m_tready(m_tready));\nendmodule\n",
            8 * wi - 1,
            8 * wo - 1
        );
        synth_and_select(
            &format!("synth_gearbox_{wi}_{wo}"),
            &lib,
            &top,
            Family::Ecp5,
            "select -assert-count 2 o:s_tready o:m_tvalid %u %ci2 t:TRELLIS_FF %i; \
             select -assert-none o:s_tready o:m_tvalid %u %ci2 t:TRELLIS_FF %d t:* %i",
        );
    }
}

/// On UltraScale+ no net of a shift-form converter (3 -> 8 bytes, as fire7.expand3x3's in
/// the XCZU7EV folding) reaches 100 loads but the reset: the delay model's hop costs 1.75 ns
/// from 100 loads (0.81 below), and the converter's one pop into its 22 bytes (159 loads) was
/// the XCZU7EV network's deepest path (4.76 ns, 2026-12-03). The consumer's ready comes from a
/// register, as an engine's does. Widest fan-outs from scripts/depth.py's report.
#[test]
fn shift_gearbox_pops_stay_under_a_hundred_loads_on_ultrascale_plus() {
    let dir = scratch("synth_gearbox_3_8_xcup");
    std::fs::write(dir.join("sqf_lib.v"), library_text(&["sqf_gearbox"])).unwrap();
    std::fs::write(
        dir.join("top.v"),
        "module top(input wire clock, input wire reset, input wire [23:0] s_tdata,\n\
         input wire s_tvalid, input wire s_tlast, output wire s_tready,\n\
         output wire [63:0] m_tdata, output wire m_tvalid, output wire m_tlast,\n\
         input wire ready_in);\n\
         reg m_tready; always @(posedge clock) m_tready <= ready_in;\n\
         sqf_gearbox #(.WI(3), .WO(8), .FRAME(8112), .BANKED(0)) u (\n\
         .clock(clock), .reset(reset), .s_tdata(s_tdata), .s_tvalid(s_tvalid),\n\
         .s_tlast(s_tlast), .s_tready(s_tready), .m_tdata(m_tdata), .m_tvalid(m_tvalid),\n\
         .m_tlast(m_tlast), .m_tready(m_tready));\nendmodule\n",
    )
    .unwrap();
    yosys_script(
        &dir,
        &format!(
            "read_verilog sqf_lib.v top.v; {}; write_json net.json",
            Family::XilinxUltraScalePlus.command("top")
        ),
    );
    let depth = std::process::Command::new("python3")
        .arg(squeezeflow_tests::repo_root().join("scripts/depth.py"))
        .args(["--family", "xcup", "net.json"])
        .current_dir(&dir)
        .output()
        .expect("python3 runs");
    assert!(
        depth.status.success(),
        "{}",
        String::from_utf8_lossy(&depth.stderr)
    );
    let report = String::from_utf8(depth.stdout).unwrap();
    let fan_outs: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("fan-out "))
        .collect();
    assert!(!fan_outs.is_empty(), "no fan-out lines in:\n{report}");
    for line in fan_outs {
        let loads: u32 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(
            loads < 100 || line.contains(".reset"),
            "a net of 100 loads or more: {line}\n{report}"
        );
    }
}

/// On ECP5 a stream FIFO deep enough for block RAM (`sqf_stream_fifo`, 256 beats) reads its
/// DP16KD into a register through one multiplexer (a LUT4 and a PFUMX) and no more, so the
/// consumer's logic (here a compare) starts at a flip-flop: the DP16KD's read (5.83 ns clock
/// to out), Yosys's read-during-write bypass and a concatenation's multiplexer in front of the
/// next FIFO were the ECP5 network's deepest path (9.18 ns, 2026-12-03).
#[test]
fn block_ram_stream_fifos_read_into_a_register_on_ecp5() {
    let lib = library_text(&["sqf_out_fifo", "sqf_stream_fifo"]);
    let top = "module top(input wire clock, input wire reset, input wire [7:0] s_tdata,\n\
               input wire s_tvalid, input wire s_tlast, output wire s_tready,\n\
               input wire m_tready, output reg hit);\n\
               wire [7:0] m_tdata; wire m_tvalid, m_tlast;\n\
               sqf_stream_fifo #(.LANES(1), .DEPTH(256)) u (.clock(clock), .reset(reset),\n\
               .s_tdata(s_tdata), .s_tvalid(s_tvalid), .s_tlast(s_tlast), .s_tready(s_tready),\n\
               .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));\n\
               always @(posedge clock) hit <= m_tvalid && m_tlast && m_tdata == 8'h5a;\n\
               endmodule\n";
    // dob: the DP16KD's read data (either port's); l1: the cells they drive, LUT4s (or flip-flops); l2: the
    // cells those LUT4s drive, other than flip-flops: PFUMXs only; and those drive flip-flops
    // only.
    let dob = (0..18)
        .flat_map(|i| [format!("DOA{i}"), format!("DOB{i}")])
        .collect::<Vec<_>>()
        .join(",");
    synth_and_select(
        "synth_fifo_bram",
        &lib,
        top,
        Family::Ecp5,
        &format!(
            "select -assert-count 1 t:DP16KD; \
             select -set dob t:DP16KD %co1:+DP16KD[{dob}] w:* %i; \
             select -set l1 @dob %co1 t:* %i t:DP16KD %d; \
             select -assert-min 1 @l1; \
             select -assert-none @l1 t:LUT4 t:TRELLIS_FF %u %d; \
             select -set l2 @l1 %co1:+LUT4[Z] w:* %i %co1 t:* %i @l1 %d t:TRELLIS_FF %d; \
             select -assert-none @l2 t:PFUMX %d; \
             select -assert-none @l2 %co1:+PFUMX[Z] w:* %i %co1 t:* %i @l2 %d t:TRELLIS_FF %d"
        ),
    );
}

/// On UltraScale+ a stream FIFO of 128 one-byte beats (LUT RAM there) with `RADDR_REG` reads
/// its memory at an address that is a register: every read address pin of its RAM64M8s is
/// driven by a flip-flop, and the consumer's ready chooses only after the read. The pop choosing
/// between two addresses in front of the LUT RAM was the XCZU7EV folding's deepest path
/// (4.59 ns, fire5.expand3x3's pixel FIFO, 2026-12-04).
#[test]
fn lut_ram_stream_fifos_read_at_a_register_on_ultrascale_plus() {
    let lib = library_text(&["sqf_out_fifo", "sqf_stream_fifo"]);
    let top = "module top(input wire clock, input wire reset, input wire [7:0] s_tdata,\n\
               input wire s_tvalid, input wire s_tlast, output wire s_tready,\n\
               input wire m_tready, output wire [7:0] m_tdata, output wire m_tvalid,\n\
               output wire m_tlast);\n\
               sqf_stream_fifo #(.LANES(1), .DEPTH(128), .RADDR_REG(1)) u (.clock(clock),\n\
               .reset(reset),\n\
               .s_tdata(s_tdata), .s_tvalid(s_tvalid), .s_tlast(s_tlast), .s_tready(s_tready),\n\
               .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));\n\
               endmodule\n";
    // ra: the nets on the RAM64M8s' read-only address ports (ADDRH is the write port's);
    // drv: the cells that drive them, flip-flops only.
    let ports = "ADDRA,ADDRB,ADDRC,ADDRD,ADDRE,ADDRF,ADDRG";
    synth_and_select(
        "synth_fifo_lutram_xcup",
        &lib,
        top,
        Family::XilinxUltraScalePlus,
        &format!(
            "select -assert-min 2 t:RAM64M8; \
             select -set ra t:RAM64M8 %ci1:+RAM64M8[{ports}] w:* %i; \
             select -set drv @ra %ci1 t:* %i; \
             select -assert-min 1 @drv; \
             select -assert-none @drv t:FD* %d"
        ),
    );
}

/// On UltraScale+ the convolution control's decisions (the input ready `s_ok_r`, the issue
/// register and its inverted copy) read their subtracts' low bits: no carry chain in front of
/// them is longer than two CARRY4s (8 bits). A compare of whole 16-bit subtracts (four CARRY4s)
/// and a tree of wide multiplexers behind it were the XCZU7EV engines' deepest paths (5.08 ns,
/// fire7.expand3x3). fire7.expand3x3's geometry in the XCZU7EV folding.
#[test]
fn conv_decisions_read_short_carry_chains_on_ultrascale_plus() {
    let dir = scratch("synth_conv_ctrl_xcup");
    std::fs::write(
        dir.join("sqf_lib.v"),
        library_text(&["sqf_const_mul", "sqf_ram", "sqf_conv_ctrl"]),
    )
    .unwrap();
    yosys_script(
        &dir,
        "read_verilog sqf_lib.v; chparam -set K 3 -set STRIDE 1 -set PAD 1 -set H 13 \
             -set W 13 -set HO 13 -set WO 13 -set CG 6 -set OG 12 -set SIMD 8 -set SHARE 3 \
             -set LB_ROWS 4 -set FIFO_DEPTH 16 -set AB_W 10 -set AB_P 4 -set AB_Q 6 -set FB 4 \
             sqf_conv_ctrl; synth_xilinx -family xcup -flatten -top sqf_conv_ctrl; \
             write_json net.json",
    );
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("net.json")).unwrap()).unwrap();
    let chains = carry_chains_before(
        &net["modules"]["sqf_conv_ctrl"],
        &["s_ok_r", "issue_r", "nissue_r"],
    );
    assert!(
        !chains.is_empty(),
        "no carry chain in front of the decisions"
    );
    assert!(
        chains.iter().all(|&n| n <= 2),
        "carry chains (CARRY4s each) in front of the decisions: {chains:?}"
    );
}

/// The lengths (in CARRY4s) of the carry chains in the combinational cone in front of the
/// flip-flops whose outputs are the nets `regs`, in a flattened Yosys JSON module: the cone
/// stops at flip-flops (FD*), a chain's length counts its CARRY4s in the cone.
fn carry_chains_before(module: &serde_json::Value, regs: &[&str]) -> Vec<usize> {
    use std::collections::HashSet;
    let cells = module["cells"].as_object().unwrap();
    let bits = port_bits;
    let driver = drivers(module);
    let cone_names = cone_before(module, regs, false);
    let cone: HashSet<&str> = cone_names.iter().map(|n| n.as_str()).collect();
    // Each CARRY4 of the cone that no other CARRY4 of the cone continues (through CI) ends a
    // chain; its length is the number of CARRY4s back along CI within the cone.
    let carries: Vec<&str> = cone
        .iter()
        .copied()
        .filter(|n| cells[*n]["type"] == "CARRY4")
        .collect();
    let prev = |n: &str| -> Option<&str> {
        bits(&cells[n], "CI")
            .first()
            .and_then(|b| driver.get(b).copied())
            .filter(|d| cells[*d]["type"] == "CARRY4" && cone.contains(d))
    };
    let continued: HashSet<&str> = carries.iter().filter_map(|n| prev(n)).collect();
    carries
        .iter()
        .filter(|n| !continued.contains(*n))
        .map(|&n| {
            let (mut len, mut at) = (1, n);
            while let Some(p) = prev(at) {
                len += 1;
                at = p;
            }
            len
        })
        .collect()
}

/// On UltraScale+ the convolution control's input valid reaches its flip-flops (the write
/// counters' enables, the row differences' enables and next values, the decisions) through at
/// most two cells from the register that drives it: "a row is written" is one LUT of the
/// valid, the ready and a register. As the write handshake's LUT (shared with the converter's
/// pop), its AND with the row-end flags, then the differences' enable, three LUTs from the
/// 2 -> 8 converter's valid register to 128 enables were the XCZU7EV folding's deepest path
/// (4.03 ns, fire5.squeeze). fire5.squeeze's geometry, its converter in front.
#[test]
fn conv_input_valid_reaches_its_registers_in_two_cells_on_ultrascale_plus() {
    let dir = scratch("synth_conv_ctrl_valid_xcup");
    let mut text = library_text(&["sqf_const_mul", "sqf_ram", "sqf_gearbox", "sqf_conv_ctrl"]);
    text.push_str(
        "module gb_ctrl(input wire clock, input wire reset, input wire [15:0] s_tdata,
    input wire s_tvalid, output wire s_tready, output wire [66:0] q, input wire m_tready);
    wire [63:0] d; wire v, l, r;
    sqf_gearbox #(.WI(2), .WO(8), .FRAME(186624), .BANKED(1)) gb (.clock(clock),
        .reset(reset), .s_tdata(s_tdata), .s_tvalid(s_tvalid), .s_tlast(1'b0),
        .s_tready(s_tready), .m_tdata(d), .m_tvalid(v), .m_tlast(l), .m_tready(r));
    wire [6:0] wa, wn; wire [1:0] gn; wire [4:0] pn, pe; wire [63:0] x1; wire [10:0] cn;
    wire mv, ml, me, mf;
    sqf_conv_ctrl #(.K(1), .STRIDE(1), .PAD(0), .H(27), .W(27), .HO(27), .WO(27), .CG(32),
        .OG(4), .SIMD(8), .SHARE(8), .LB_ROWS(2), .FIFO_DEPTH(16), .AB_W(7), .AB_P(2),
        .AB_Q(5), .FB(4)) ctrl (.clock(clock), .reset(reset), .s_tdata(d), .s_tvalid(v),
        .s_tlast(l), .s_tready(r), .m_tvalid(mv), .m_tlast(ml), .m_tready(m_tready),
        .w_addr(wa), .w_addr_next(wn), .grp_next(gn), .x1(x1), .mac_en(me), .mac_first(mf),
        .pa_next(pn), .pa_early(pe), .chain_next(cn));
    assign q = {^x1, wa, wn, gn, pn, pe, cn, mv, ml, me, mf, 32'd0};
endmodule
",
    );
    std::fs::write(dir.join("sqf_lib.v"), text).unwrap();
    yosys_script(
        &dir,
        "read_verilog sqf_lib.v; synth_xilinx -family xcup -flatten -top gb_ctrl; \
             write_json net.json",
    );
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("net.json")).unwrap()).unwrap();
    let top = &net["modules"]["gb_ctrl"];
    // "A row is written" is one LUT whose inputs are flip-flops' outputs.
    let cells = top["cells"].as_object().unwrap();
    let rw = top["netnames"]["ctrl.row_written"]["bits"][0]
        .as_u64()
        .expect("a net ctrl.row_written");
    let driver_of = |b: u64| {
        cells.values().find(|c| {
            c["connections"].as_object().unwrap().iter().any(|(p, v)| {
                c["port_directions"][p] == "output" && v.as_array().unwrap().contains(&b.into())
            })
        })
    };
    let lut = driver_of(rw).expect("row_written has a driver");
    assert!(
        lut["type"].as_str().unwrap().starts_with("LUT"),
        "row_written is driven by a {}",
        lut["type"]
    );
    for (p, v) in lut["connections"].as_object().unwrap() {
        if lut["port_directions"][p] == "input" {
            let b = v[0].as_u64().unwrap();
            let t = driver_of(b)
                .map(|c| c["type"].as_str().unwrap())
                .unwrap_or("none");
            assert!(
                t.starts_with("FD"),
                "row_written's input {p} comes from a {t}"
            );
        }
    }
    let depth = cells_after_net(top, "ctrl.s_tvalid");
    assert!(depth >= 1, "the valid reaches no flip-flop through logic");
    assert!(
        depth <= 2,
        "cells from the converter's valid register to a flip-flop: {depth} (at most 2)"
    );
}

/// The most logic cells (LUTs, wide multiplexers, carry chain cells) on a path from the net
/// `net` (a port, or a register's output) to a cell of another kind (a flip-flop, a block RAM,
/// a DSP, an output buffer) in a flattened Xilinx Yosys JSON module; an input buffer on the way
/// is not counted.
fn cells_after_net(module: &serde_json::Value, net: &str) -> usize {
    use std::collections::HashMap;
    let cells = module["cells"].as_object().unwrap();
    let bits = port_bits;
    let loads = loads_of(module);
    let start: Vec<u64> = module["netnames"][net]["bits"]
        .as_array()
        .expect("the net")
        .iter()
        .filter_map(|b| b.as_u64())
        .collect();
    let logic = |n: &str| {
        let t = cells[n]["type"].as_str().unwrap();
        t.starts_with("LUT") || t.starts_with("MUXF") || t.starts_with("CARRY")
    };
    // Longest path in a DAG of logic cells, by memoised depth-first search.
    fn longest<'a>(
        n: &'a str,
        cells: &'a serde_json::Map<String, serde_json::Value>,
        loads: &HashMap<u64, Vec<&'a str>>,
        logic: &dyn Fn(&str) -> bool,
        memo: &mut HashMap<&'a str, usize>,
    ) -> usize {
        if !logic(n) {
            return 0;
        }
        if let Some(&d) = memo.get(n) {
            return d;
        }
        let c = &cells[n];
        let mut best = 0;
        for (p, v) in c["connections"].as_object().unwrap() {
            if c["port_directions"][p] == "output" {
                for b in v.as_array().unwrap().iter().filter_map(|b| b.as_u64()) {
                    for &m in loads.get(&b).map(|v| v.as_slice()).unwrap_or(&[]) {
                        best = best.max(longest(m, cells, loads, logic, memo));
                    }
                }
            }
        }
        memo.insert(n, best + 1);
        best + 1
    }
    // The port's bits through its input buffer, if it has one.
    let ibuf_out: Vec<u64> = start
        .iter()
        .flat_map(|b| loads.get(b).cloned().unwrap_or_default())
        .filter(|n| cells[*n]["type"] == "IBUF")
        .flat_map(|n| bits(&cells[n], "O"))
        .collect();
    let mut memo = HashMap::new();
    start
        .iter()
        .chain(&ibuf_out)
        .flat_map(|b| loads.get(b).cloned().unwrap_or_default())
        .map(|n| longest(n, cells, &loads, &logic, &mut memo))
        .max()
        .unwrap_or(0)
}

/// The cells of the combinational cone in front of the flip-flops whose outputs are the nets
/// `regs` (their data inputs, D or DI, and with `enables` their enable and set/reset pins
/// too), in a flattened Yosys JSON module, followed through cells' input ports; the cone
/// stops at flip-flops (FD*, TRELLIS_FF).
fn cone_before(
    module: &serde_json::Value,
    regs: &[&str],
    enables: bool,
) -> std::collections::HashSet<String> {
    use std::collections::HashSet;
    let cells = module["cells"].as_object().unwrap();
    let bits = port_bits;
    let is_out = |c: &serde_json::Value, p: &str| c["port_directions"][p] == "output";
    let driver = drivers(module);
    let ff = |name: &str| {
        let t = cells[name]["type"].as_str().unwrap();
        t.starts_with("FD") || t == "TRELLIS_FF"
    };
    let mut stack: Vec<&str> = Vec::new();
    for r in regs {
        let q = module["netnames"][*r]["bits"]
            .as_array()
            .expect("a register net");
        for b in q.iter().filter_map(|b| b.as_u64()) {
            let f = driver[&b];
            assert!(ff(f), "{r} is not a flip-flop's output");
            // Its data pin (D, DI), or all its inputs but the clock.
            for (p, _) in cells[f]["connections"].as_object().unwrap() {
                let data = matches!(p.as_str(), "D" | "DI");
                if !is_out(&cells[f], p) && !matches!(p.as_str(), "C" | "CLK") && (enables || data)
                {
                    stack.extend(
                        bits(&cells[f], p)
                            .iter()
                            .filter_map(|b| driver.get(b).copied()),
                    );
                }
            }
        }
    }
    let mut cone: HashSet<String> = HashSet::new();
    while let Some(n) = stack.pop() {
        if ff(n) || !cone.insert(n.to_string()) {
            continue;
        }
        let c = &cells[n];
        for (p, _) in c["connections"].as_object().unwrap() {
            if !is_out(c, p) {
                stack.extend(bits(c, p).iter().filter_map(|b| driver.get(b).copied()));
            }
        }
    }
    cone
}
