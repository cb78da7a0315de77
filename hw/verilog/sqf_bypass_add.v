// squeezeflow library module (hw/verilog/sqf_bypass_add.v).
`default_nettype none

// sqf_bypass_add: the bypass add of a Fire module, lane by lane:
//   y = requant(a * KA + b * KB, MULT, SHIFT)   (a from s_*, b from sb_*, all unsigned bytes)
// with sqf_requant (8-bit output) per lane. Takes a beat when both inputs offer one and the
// output FIFO has room for everything in flight; tlast comes from s_* (sb_tlast is ignored).
// Parameters: LANES >= 1, KA and KB (16 bits, unsigned), MULT (16 bits), SHIFT (1..47), DEPTH
// (the output FIFO, a power of two >= 4 so the pipeline never waits).
// Latency 4 (the product, then sqf_requant's three stages) plus the FIFO; a beat a cycle.
module sqf_bypass_add #(
    parameter LANES = 1,
    parameter KA = 1,
    parameter KB = 1,
    parameter MULT = 1,
    parameter SHIFT = 1,
    parameter DEPTH = 8,
    parameter ECP5_MUL = 0                   // 1: the requantizer's products in MULT18X18Ds
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    input  wire                 s_tlast,
    output wire                 s_tready,
    input  wire [8*LANES-1:0]   sb_tdata,
    input  wire                 sb_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 sb_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 sb_tready,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    generate
        if (LANES < 1) begin : bad_lanes
            sqf_bypass_add_LANES_must_be_at_least_1 bad();
        end
        if (KA < 0 || KA > 65535 || KB < 0 || KB > 65535) begin : bad_scales
            sqf_bypass_add_KA_KB_must_fit_16_bits_unsigned bad();
        end
        if (MULT < 0 || MULT > 65535 || SHIFT < 1 || SHIFT > 47) begin : bad_requant
            sqf_bypass_add_MULT_must_fit_16_bits_SHIFT_be_1_to_47 bad();
        end
        if (DEPTH < 4) begin : bad_depth
            sqf_bypass_add_DEPTH_must_be_at_least_4 bad();
        end
        if (ECP5_MUL != 0 && ECP5_MUL != 1) begin : bad_ecp5_mul
            sqf_bypass_add_ECP5_MUL_must_be_0_or_1 bad();
        end
    endgenerate
    localparam CB = $clog2(DEPTH) + 1;
    localparam signed [31:0] KA32 = KA;
    localparam signed [31:0] KB32 = KB;
    localparam [15:0] MULT16 = MULT;
    localparam [5:0] SHIFT6 = SHIFT;

    wire [CB-1:0] f_count;
    reg [31:0] inflight;
    reg v1, last1, vm, lastm, v2, last2, v3, last3;
    wire ready = (({{(32-CB){1'b0}}, f_count} + inflight) < DEPTH) && s_tvalid && sb_tvalid;
    assign s_tready = ready;
    assign sb_tready = ready;
    wire [8*LANES-1:0] y_all;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            reg signed [31:0] acc;
            always @(posedge clock)
                if (ready) acc <= $signed({14'd0, s_tdata[8*l +: 8]}) * KA32
                                + $signed({14'd0, sb_tdata[8*l +: 8]}) * KB32;
            sqf_requant #(.OUT_BITS(8), .ECP5_MUL(ECP5_MUL)) rq (.clock(clock), .acc(acc), .mult(MULT16),
                .shift(SHIFT6), .y(y_all[8*l +: 8]));
        end
    endgenerate
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) f (
        .clock(clock), .reset(reset), .push(v3), .din(y_all), .last_in(last3), .count(f_count),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));
    always @(posedge clock) begin
        if (reset) begin
            inflight <= 0; v1 <= 0; vm <= 0; v2 <= 0; v3 <= 0;
            last1 <= 0; lastm <= 0; last2 <= 0; last3 <= 0;
        end else begin
            v3 <= v2; last3 <= last2; v2 <= vm; last2 <= lastm; vm <= v1; lastm <= last1;
            v1 <= ready;
            if (ready) last1 <= s_tlast;
            inflight <= inflight + {31'd0, ready} - {31'd0, v3};
        end
    end
endmodule

`default_nettype wire
