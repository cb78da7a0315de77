//! The board wrapper `<board>_accel_top.v` that `gen --board` writes into a bundle's
//! `constraints/`: the board's oscillator into `aclk` (through an `IBUFDS` and a `BUFG` where it
//! is differential), its active-high button synchronised by two flip-flops into `aresetn`, and
//! every other port of the bundle's top module passed through. The board's `<board>_accel.*`
//! constraint file pins the wrapper's clock and reset ports.

/// What a wrapper needs to know about a board.
struct BoardClock {
    board: &'static str,
    /// The clock as the comment describes it.
    clock: &'static str,
    differential: bool,
    /// The reset button's port (as the constraint file names it) and its description.
    reset_port: &'static str,
    reset: &'static str,
    constraints: &'static str,
}

const BOARDS: &[BoardClock] = &[
    BoardClock {
        board: "kc705",
        clock: "the differential 200 MHz system clock",
        differential: true,
        reset_port: "cpu_reset",
        reset: "CPU_RESET",
        constraints: "kc705_accel.xdc",
    },
    BoardClock {
        board: "zcu104",
        clock: "the differential 125 MHz PL clock (CLK_125)",
        differential: true,
        reset_port: "pb_reset",
        reset: "the push button GPIO_PB_SW2",
        constraints: "zcu104_accel.xdc",
    },
    BoardClock {
        board: "nexys_video",
        clock: "the 100 MHz oscillator",
        differential: false,
        reset_port: "btn_reset",
        reset: "the centre button BTNC",
        constraints: "nexys_video_accel.xdc",
    },
    BoardClock {
        board: "ulx3s",
        clock: "the 25 MHz oscillator clk_25mhz",
        differential: false,
        reset_port: "btn_reset",
        reset: "the FIRE2 button btn[2]",
        constraints: "ulx3s_accel.lpf",
    },
];

/// The wrapper's file name and text for `board` around the top module `top` (None for a board
/// without one).
pub fn accel_wrapper(board: &str, top: &str, pixel_bits: u32) -> Option<(String, String)> {
    let b = BOARDS.iter().find(|b| b.board == board)?;
    let name = format!("{}_accel_top", b.board);
    let rp = b.reset_port;
    let mut lines = vec![
        format!(
            "// {} wrapper for the squeezeflow bundle {top}, written by `gen --board`: {}",
            b.board.to_uppercase().replace('_', " "),
            b.clock
        ),
        format!(
            "// {} into aclk; {} (active high) through two flip-flops into the synchronous,",
            if b.differential {
                "through an IBUFDS and a BUFG"
            } else {
                "straight"
            },
            b.reset
        ),
        format!(
            "// active-low aresetn. Everything else passes through. Constraints: {}.",
            b.constraints
        ),
        "`default_nettype none".into(),
        format!("module {name} ("),
    ];
    if b.differential {
        lines.push("    input  wire        sysclk_p,".into());
        lines.push("    input  wire        sysclk_n,".into());
    } else {
        lines.push("    input  wire        sysclk,".into());
    }
    lines.push(format!("    input  wire        {rp},"));
    lines.push(format!(
        "    input  wire [{}:0] s_axis_tdata,",
        pixel_bits - 1
    ));
    for l in [
        "    input  wire        s_axis_tvalid,",
        "    input  wire        s_axis_tlast,",
        "    output wire        s_axis_tready,",
        "    output wire [15:0] m_axis_tdata,",
        "    output wire        m_axis_tvalid,",
        "    output wire        m_axis_tlast,",
        "    output wire        m_axis_tuser,",
        "    input  wire        m_axis_tready,",
        "    // the weight stream (docs/integration.md): tie tvalid to 0 when the manifest lists no",
        "    // `load` memories",
        "    input  wire [63:0] s_axis_weights_tdata,",
        "    input  wire        s_axis_weights_tvalid,",
        "    input  wire        s_axis_weights_tlast,",
        "    output wire        s_axis_weights_tready,",
        "    output wire        frame_error,",
        "    output wire [15:0] frame_errors,",
        "    output wire        weights_complete,",
        "    output wire        weights_error",
        ");",
    ] {
        lines.push(l.into());
    }
    if b.differential {
        lines.push("    wire clk_ibuf, clock;".into());
        lines.push("    IBUFDS ibuf (.I(sysclk_p), .IB(sysclk_n), .O(clk_ibuf));".into());
        lines.push("    BUFG bufg (.I(clk_ibuf), .O(clock));".into());
    } else {
        lines.push("    wire clock = sysclk;".into());
    }
    lines.push("    reg [1:0] rst_sync = 2'b11;".into());
    lines.push(format!(
        "    always @(posedge clock) rst_sync <= {{rst_sync[0], {rp}}};"
    ));
    lines.push(format!("    {top} engine ("));
    for l in [
        "        .aclk(clock), .aresetn(!rst_sync[1]),",
        "        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),",
        "        .s_axis_tlast(s_axis_tlast), .s_axis_tready(s_axis_tready),",
        "        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),",
        "        .m_axis_tlast(m_axis_tlast), .m_axis_tuser(m_axis_tuser),",
        "        .m_axis_tready(m_axis_tready),",
        "        .s_axis_weights_tdata(s_axis_weights_tdata),",
        "        .s_axis_weights_tvalid(s_axis_weights_tvalid),",
        "        .s_axis_weights_tlast(s_axis_weights_tlast),",
        "        .s_axis_weights_tready(s_axis_weights_tready),",
        "        .frame_error(frame_error), .frame_errors(frame_errors),",
        "        .weights_complete(weights_complete), .weights_error(weights_error)",
        "    );",
        "endmodule",
        "`default_nettype wire",
    ] {
        lines.push(l.into());
    }
    let text = lines.join("\n") + "\n";
    Some((format!("{name}.v"), text))
}
