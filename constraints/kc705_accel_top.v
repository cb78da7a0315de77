// KC705 wrapper for a squeezeflow bundle: the differential 200 MHz system clock through an
// IBUFDS and a BUFG into `top`; CPU_RESET (active high) as its synchronous reset after two
// flip-flops. The streams and the weight-load port pass through. Constraints: kc705_accel.xdc.
`default_nettype none
module kc705_accel_top (
    input  wire        sysclk_p,
    input  wire        sysclk_n,
    input  wire        cpu_reset,
    input  wire [23:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    input  wire        s_axis_tlast,
    output wire        s_axis_tready,
    output wire [15:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    output wire        m_axis_tlast,
    input  wire        m_axis_tready,
    // the weight-load port (README, "Weights loaded at start-up"): tie to 0 when the bundle's
    // manifest lists no `load` memories
    input  wire        wl_valid,
    input  wire [15:0] wl_sel,
    input  wire [15:0] wl_addr,
    input  wire [63:0] wl_data
);
    wire clk_ibuf, clock;
    IBUFDS ibuf (.I(sysclk_p), .IB(sysclk_n), .O(clk_ibuf));
    BUFG bufg (.I(clk_ibuf), .O(clock));
    reg [1:0] rst_sync = 2'b11;
    always @(posedge clock) rst_sync <= {rst_sync[0], cpu_reset};
    top engine (
        .clock(clock), .reset(rst_sync[1]),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tlast(s_axis_tlast), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tlast(m_axis_tlast), .m_axis_tready(m_axis_tready),
        .wl_valid(wl_valid), .wl_sel(wl_sel), .wl_addr(wl_addr), .wl_data(wl_data)
    );
endmodule
`default_nettype wire
