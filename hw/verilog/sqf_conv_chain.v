// squeezeflow library module (hw/verilog/sqf_conv_chain.v).
`default_nettype none

// sqf_conv_chain: SHARE PEs of a convolution engine sharing one requantizer (sqf_requant),
// and their output FIFO slots. When `hold` is set the PEs' accumulators enter the hold
// registers h[0..SHARE-1]; otherwise the registers shift towards h[0], which feeds the
// requantizer, so SHARE steps requantize the SHARE outputs in turn (q: each step's {mult,
// shift} word). The requantized bytes shift along o[1..SHARE-1] on `out_en`; on `push` PE t's
// byte (o[t+1], or the requantizer's output for the last) enters FIFO slot fifo_tail, and
// y[8t +: 8] is PE t's byte at fifo_head. sqf_conv_ctrl drives the controls: `ctl` holds the
// values its hold, out_en, push, fifo_head and fifo_tail registers take at the next edge, and
// every PE of the chain keeps its own copy of those registers (kept apart by `keep`), so no
// control register drives more than one PE's hold register, o register and FIFO slots. The
// copies have no reset: `ctl` follows the controller's registers, which reset clears (the
// consumer's ready enters only through a nonzero count), so from a reset's second edge on the
// copies hold what they hold after it. Only after a one-cycle reset may they, for one cycle,
// hold what `ctl` was in the reset cycle: then a push writes a slot no count covers, a hold or
// a shift loads registers the next group's steps fill again before its push, and y is not
// valid (the count is zero). A reset in the copies' D logic cost two LUT levels of 125 loads
// each in conv10 (7.50 ns on Artix-7: Yosys shared one "reset or push" LUT among the PEs, even
// with a reset copy per PE).
// Parameters: SHARE >= 1, SHIFT_BASE (0..47), FIFO_DEPTH (a power of two), FB =
// log2(FIFO_DEPTH).
// Latency: the requantizer's 4 stages (ROUND_REG; 5 with MUL_IN_REG) plus SHARE steps (the
// engine's 12 + SHARE in all, sqf_conv_ctrl's RQ_IN a stage more).
module sqf_conv_chain #(
    parameter SHARE = 1,
    parameter SHIFT_BASE = 0,                // added to each word's shift (sqf_requant)
    parameter MULT_REG = 0,                  // 1: q comes a cycle early (sqf_requant)
    parameter ECP5_MUL = 0,                  // 1: the products in MULT18X18Ds (sqf_requant)
    parameter MUL_IN_REG = 0,                // 1: and their operands in its input registers
    parameter FIFO_DEPTH = 16,
    parameter FB = 4
) (
    input  wire                 clock,
    input  wire [2*FB+2:0]      ctl,         // next {hold, out_en, push, fifo_head, fifo_tail}
    input  wire [32*SHARE-1:0]  acc,         // PE t's accumulator in bits [32t +: 32]
    input  wire [21:0]          q,           // {mult[15:0], shift[5:0]} of the next step
                                             // (with MULT_REG, of the step after it)
    output wire [8*SHARE-1:0]   y
);
    generate
        if (SHARE < 1 || FB != $clog2(FIFO_DEPTH)) begin : bad_parameters
            sqf_conv_chain_SHARE_at_least_1_and_FB_log2_FIFO_DEPTH bad();
        end
    endgenerate
    wire [32*SHARE-1:0] hv;                  // the hold registers
    wire [8*SHARE-1:0] src;                  // byte t: what o[t] and FIFO slot t take
    /* verilator lint_off UNUSEDSIGNAL */
    wire [8*SHARE-1:0] ov;                   // o[t] in bits [8t +: 8] (t >= 1)
    /* verilator lint_on UNUSEDSIGNAL */
    wire [7:0] yq;
    assign ov[7:0] = 8'd0;
    sqf_requant #(.OUT_BITS(8), .SHIFT_BASE(SHIFT_BASE), .MULT_REG(MULT_REG), .ROUND_REG(1),
        .ECP5_MUL(ECP5_MUL), .MUL_IN_REG(MUL_IN_REG)) rq (
        .clock(clock), .acc(hv[31:0]),
        .mult(q[21:6]), .shift(q[5:0]), .y(yq));
    genvar t;
    generate
        for (t = 0; t < SHARE; t = t + 1) begin : pe
            // This PE's copy of the controls (`keep`: not merged with the other PEs').
            (* keep = "true" *) reg hold, push;
            /* verilator lint_off UNUSEDSIGNAL */
            (* keep = "true" *) reg out_en;  // unused by the last PE (no o register)
            /* verilator lint_on UNUSEDSIGNAL */
            (* keep = "true" *) reg [FB-1:0] fifo_head, fifo_tail;
            initial begin
                hold = 1'b0; out_en = 1'b0; push = 1'b0;
                fifo_head = {FB{1'b0}}; fifo_tail = {FB{1'b0}};
            end
            (* keep *) always @(posedge clock) {hold, out_en, push, fifo_head, fifo_tail} <= ctl;
            reg signed [31:0] h;
            if (t == SHARE - 1) begin : last
                always @(posedge clock) if (hold) h <= acc[32*t +: 32];
                assign src[8*t +: 8] = yq;
            end else begin : shift
                always @(posedge clock)
                    if (hold) h <= acc[32*t +: 32]; else h <= hv[32*(t+1) +: 32];
                assign src[8*t +: 8] = ov[8*(t+1) +: 8];
            end
            assign hv[32*t +: 32] = h;
            reg [7:0] f [0:FIFO_DEPTH-1];
            always @(posedge clock) if (push) f[fifo_tail] <= src[8*t +: 8];
            assign y[8*t +: 8] = f[fifo_head];
            // o[t] (t >= 1): the chain's requantized bytes waiting for its last one.
            if (t >= 1) begin : o
                reg [7:0] r;
                always @(posedge clock) if (out_en) r <= src[8*t +: 8];
                assign ov[8*t +: 8] = r;
            end
        end
    endgenerate
endmodule

`default_nettype wire
