// squeezeflow library module (hw/verilog/sqf_concat.v).
`default_nettype none

// sqf_concat: channel concatenation of two streams. For every pixel it takes N_A beats from
// s_* and then N_B beats from sb_*, in that order, into one output stream (the expand 1x1
// channels before the expand 3x3 channels). tlast comes from sb_* (the last beat of a frame);
// s_tlast is ignored.
// Parameters: LANES >= 1 bytes a beat, N_A >= 1 and N_B >= 1 beats a pixel, DEPTH (output FIFO,
// a power of two >= 2).
// Latency 1; throughput a beat a cycle.
module sqf_concat #(
    parameter LANES = 1,
    parameter N_A = 1,
    parameter N_B = 1,
    parameter DEPTH = 4
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    input  wire [8*LANES-1:0]   sb_tdata,
    input  wire                 sb_tvalid,
    input  wire                 sb_tlast,
    output wire                 sb_tready,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    generate
        if (N_A < 1 || N_B < 1) begin : bad_beats
            sqf_concat_N_A_and_N_B_must_be_at_least_1 bad();
        end
    endgenerate
    localparam CB = $clog2(DEPTH) + 1;
    wire [CB-1:0] f_count;
    reg phase;                               // 0: taking from s_*, 1: from sb_*
    // The beat counter at the bits the larger count needs.
    localparam NB = (N_A > N_B) ? $clog2(N_A + 1) : $clog2(N_B + 1);
    localparam integer C_LA = N_A - 1, C_LB = N_B - 1;
    localparam [NB-1:0] LAST_A = C_LA[NB-1:0], LAST_B = C_LB[NB-1:0];
    reg [NB-1:0] cnt;
    wire ok = (f_count < DEPTH);
    assign s_tready = ok && !phase;
    assign sb_tready = ok && phase;
    wire fa = s_tready && s_tvalid;
    wire fb = sb_tready && sb_tvalid;
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) f (
        .clock(clock), .reset(reset), .push(fa || fb), .din(fa ? s_tdata : sb_tdata),
        .last_in(!fa && sb_tlast), .count(f_count), .m_tdata(m_tdata), .m_tvalid(m_tvalid),
        .m_tlast(m_tlast), .m_tready(m_tready));
    always @(posedge clock) begin
        if (reset) begin
            phase <= 0; cnt <= 0;
        end else if (fa || fb) begin
            if (cnt == (phase ? LAST_B : LAST_A)) begin
                cnt <= 0; phase <= !phase;
            end else cnt <= cnt + 1'b1;
        end
    end
endmodule

`default_nettype wire
