// squeezeflow library module (hw/verilog/sqf_stream_fifo.v).
`default_nettype none

// sqf_stream_fifo: an AXI4-Stream FIFO of DEPTH beats (an sqf_out_fifo with its input
// handshake), used to absorb the difference in latency between the two paths of a bypass.
// Parameters: LANES >= 1 bytes a beat, DEPTH (a power of two >= 2). From 64 beats deep (block
// RAM on ECP5) the FIFO's head is a register of its own: the memory read into a register with
// nothing between, which the ECP5 flow moves into the block RAM (sqf_out_fifo's OUT_REG 2),
// or with RADDR_REG = 1 (LUT RAM) read at a register address (OUT_REG 1, RADDR_REG).
// Latency 1; throughput a beat a cycle.
module sqf_stream_fifo #(
    parameter LANES = 1,
    parameter DEPTH = 4,
    parameter RADDR_REG = 0                  // sqf_out_fifo's, from 64 beats deep
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
    input  wire                 m_tready
);
    localparam CB = $clog2(DEPTH) + 1;
    wire [CB-1:0] f_count;
    assign s_tready = (f_count < DEPTH);
    wire fire = s_tready && s_tvalid;
    // From 64 beats: the head a register, read a beat ahead (OUT_REG 1) for LUT RAM
    // (RADDR_REG), else the block RAM read into its output register (OUT_REG 2).
    localparam OUT_REG = (DEPTH >= 64) ? (RADDR_REG ? 1 : 2) : 0;
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH), .OUT_REG(OUT_REG),
        .RADDR_REG(OUT_REG == 1 ? RADDR_REG : 0)) f (
        .clock(clock), .reset(reset), .push(fire), .din(s_tdata), .last_in(s_tlast),
        .count(f_count), .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast),
        .m_tready(m_tready));
endmodule

`default_nettype wire
