// squeezeflow library module (hw/verilog/sqf_requant.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_requant: y = clamp((acc * mult + 2^(shift-1)) >>> shift, 0, 2^OUT_BITS - 1).
// mult is unsigned 16-bit, shift 1..47, the product 49-bit signed. Three stages, latency 3, no
// stalls: (1) two partial products, acc[16:0] * mult and acc[31:17] * mult, each within one
// 18x18 multiplier (ECP5 MULT18X18D; a DSP48 either way), and the rounding constant
// 2^(shift-1); (2) their sum plus the constant; (3) the shift and clamp. One 32x17 product
// in stage 1 (two multipliers and the add joining them) was the engines' slowest path on ECP5.
module sqf_requant #(
    parameter OUT_BITS = 8                   // 8 for activations, 16 for logits
) (
    input  wire                 clock,
    input  wire signed [31:0]   acc,
    input  wire [15:0]          mult,
    input  wire [5:0]           shift,
    output reg  [OUT_BITS-1:0]  y
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (OUT_BITS < 1 || OUT_BITS > 32) begin : bad_out_bits
            sqf_requant_OUT_BITS_must_be_1_to_32 bad();
        end
    endgenerate
    reg signed [34:0] mlo;                   // acc[16:0] * mult, unsigned (33 bits used)
    reg signed [31:0] mhi;                   // acc[31:17] * mult, signed
    reg signed [48:0] rnd;                   // 2^(shift-1)
    // 2^(shift-1) as a decode of shift, bit k set when shift == k + 1 (0 for shift 0 and
    // above 49, as the shift of a 49-bit 1 by shift - 1): one LUT a bit, where shift - 1 and a
    // shifter followed a parameter ROM read in block RAM (conv10, 8.92 ns, the XC7A200T
    // network's deepest path).
    wire [48:0] rnd_n;
    genvar k;
    generate
        for (k = 0; k < 49; k = k + 1) begin : dec
            localparam integer C_K1 = k + 1;
            assign rnd_n[k] = (shift == C_K1[5:0]);
        end
    endgenerate
    // Stage 2's three terms, (mhi << 17) + mlo + rnd, as one carry-save step (a LUT a bit)
    // and one add: two adds in a row after the multipliers were the engines' deepest path on
    // the XC7A200T (7.13 ns). The sum is exact modulo 2^49, and |p| < 2^48.
    wire [48:0] ta = {mhi, 17'd0};
    wire [48:0] tb = {14'd0, mlo};
    wire [48:0] tc = rnd;
    wire [48:0] ps = ta ^ tb ^ tc;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [48:0] pc = (ta & tb) | (ta & tc) | (tb & tc);     // pc[48] carries out of 2^49
    /* verilator lint_on UNUSEDSIGNAL */
    reg [5:0] shm;
    reg signed [48:0] p;
    reg [5:0] sh;
    wire signed [48:0] q = p >>> sh;
    initial begin
        mlo = 35'sd0;
        mhi = 32'sd0;
        rnd = 49'sd0;
        shm = 6'd1;
        p = 49'sd0;
        sh = 6'd1;
        y = {OUT_BITS{1'b0}};
    end
    always @(posedge clock) begin
        mlo <= $signed({1'b0, acc[16:0]}) * $signed({1'b0, mult});
        mhi <= $signed(acc[31:17]) * $signed({1'b0, mult});
        rnd <= rnd_n;
        shm <= shift;
        p  <= $signed(ps + {pc[47:0], 1'b0});
        sh <= shm;
        y  <= q[48] ? {OUT_BITS{1'b0}}
            : (|q[47:OUT_BITS]) ? {OUT_BITS{1'b1}}
            : q[OUT_BITS-1:0];
    end
endmodule

`default_nettype wire
