// squeezeflow library module (hw/verilog/sqf_broadcast.v).
`default_nettype none

// sqf_broadcast: every input beat goes to both outputs (m_* and mb_*), each behind its own
// DEPTH-beat sqf_out_fifo; the input waits until both have room.
// Parameters: LANES >= 1 bytes a beat, DEPTH (a power of two >= 2).
// Latency 1; throughput a beat a cycle while both consumers take them.
module sqf_broadcast #(
    parameter LANES = 1,
    parameter DEPTH = 4
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    input  wire                 s_tlast,
    output wire                 s_tready,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready,
    output wire [8*LANES-1:0]   mb_tdata,
    output wire                 mb_tvalid,
    output wire                 mb_tlast,
    input  wire                 mb_tready
);
    localparam CB = $clog2(DEPTH) + 1;
    wire [CB-1:0] fa_count, fb_count;
    assign s_tready = (fa_count < DEPTH) && (fb_count < DEPTH);
    wire fire = s_tready && s_tvalid;
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) fa (
        .clock(clock), .reset(reset), .push(fire), .din(s_tdata), .last_in(s_tlast),
        .count(fa_count), .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast),
        .m_tready(m_tready));
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) fb (
        .clock(clock), .reset(reset), .push(fire), .din(s_tdata), .last_in(s_tlast),
        .count(fb_count), .m_tdata(mb_tdata), .m_tvalid(mb_tvalid), .m_tlast(mb_tlast),
        .m_tready(mb_tready));
endmodule

`default_nettype wire
