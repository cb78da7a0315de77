// ULX3S wrapper for a squeezeflow bundle: the 25 MHz oscillator clk_25mhz straight
// into the bundle's top module ({{TOP}}, named when `gen --board` copied this file);
// the FIRE2 button btn[2] (active high) after two flip-flops as its active-low synchronous aresetn. The
// streams, the weight stream and the status pass through. Constraints: ulx3s_accel.lpf.
`default_nettype none
module ulx3s_accel_top (
    input  wire        sysclk,
    input  wire        btn_reset,
    input  wire [23:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    input  wire        s_axis_tlast,
    output wire        s_axis_tready,
    output wire [15:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    output wire        m_axis_tlast,
    output wire        m_axis_tuser,
    input  wire        m_axis_tready,
    // the weight stream (README, "Weights over AXI4-Stream"): tie tvalid to 0 when the
    // bundle's manifest lists no `load` memories
    input  wire [63:0] s_axis_weights_tdata,
    input  wire        s_axis_weights_tvalid,
    input  wire        s_axis_weights_tlast,
    output wire        s_axis_weights_tready,
    output wire        frame_error,
    output wire [15:0] frame_errors,
    output wire        weights_complete,
    output wire        weights_error
);
    wire clock = sysclk;
    reg [1:0] rst_sync = 2'b11;
    always @(posedge clock) rst_sync <= {rst_sync[0], btn_reset};
    {{TOP}} engine (
        .aclk(clock), .aresetn(!rst_sync[1]),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tlast(s_axis_tlast), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tlast(m_axis_tlast), .m_axis_tuser(m_axis_tuser),
        .m_axis_tready(m_axis_tready),
        .s_axis_weights_tdata(s_axis_weights_tdata),
        .s_axis_weights_tvalid(s_axis_weights_tvalid),
        .s_axis_weights_tlast(s_axis_weights_tlast),
        .s_axis_weights_tready(s_axis_weights_tready),
        .frame_error(frame_error), .frame_errors(frame_errors),
        .weights_complete(weights_complete), .weights_error(weights_error)
    );
endmodule
`default_nettype wire
