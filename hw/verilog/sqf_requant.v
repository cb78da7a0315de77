// squeezeflow library module (hw/verilog/sqf_requant.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_requant: y = clamp((acc * mult + 2^(shift-1)) >>> shift, 0, 2^OUT_BITS - 1).
// mult is unsigned 16-bit, shift 1..47, the product 49-bit signed. Three stages, latency 3, no
// stalls: (1) two partial products, acc[16:0] * mult and acc[31:17] * mult, each within one
// 18x18 multiplier (ECP5 MULT18X18D; a DSP48 either way), and the rounding constant
// 2^(shift-1) in two parts; (2) each product plus its part, then their sum; (3) the shift and
// clamp. One 32x17 product
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
    // Stage 1: the partial products acc[16:0] * mult and acc[31:17] * mult (each a DSP48's
    // multiplier and M register) and the rounding constant's two parts. Stage 2 adds each
    // part to its product in the DSP's post-adder, behind the M register, then joins them
    // with one add, (hi << 17) + lo: exact modulo 2^49, and |p| < 2^48. Three terms summed in
    // the fabric after the M register were the engines' deepest path (7.01 ns on the
    // XC7A200T); the multipliers' P register instead would take the parameter word straight
    // from its block RAM through the multiplier (8.37 ns on conv10).
    reg signed [34:0] mlo;                   // acc[16:0] * mult, unsigned (33 bits used)
    reg signed [31:0] mhi;                   // acc[31:17] * mult, signed
    reg [16:0] rlo;                          // 2^(shift-1), bits 16..0
    reg [31:0] rhi;                          // 2^(shift-1), bits 48..17 (modulo 2^32)
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
    // rlo, rhi, shm and sh have no initial value: where a layer's shift is one constant (its parameter
    // ROM's shift bits are), Yosys then makes them constants and the shifter wiring. With
    // an initial value they stayed registers, and Yosys merged the equal ones of different
    // engines into one with 319 loads (7.29 ns, the XC7A200T network). Before the first
    // parameter word arrives y may be undefined; nothing takes it then (no push, no out_en).
    reg [5:0] shm;
    reg signed [48:0] p;
    reg [5:0] sh;
    wire signed [48:0] q = p >>> sh;
    wire signed [34:0] lo = mlo + $signed({18'd0, rlo});
    wire signed [31:0] hi = mhi + $signed(rhi);
    initial begin
        mlo = 35'sd0;
        mhi = 32'sd0;
        p = 49'sd0;
        y = {OUT_BITS{1'b0}};
    end
    always @(posedge clock) begin
        mlo <= $signed({1'b0, acc[16:0]}) * $signed({1'b0, mult});
        mhi <= $signed(acc[31:17]) * $signed({1'b0, mult});
        rlo <= rnd_n[16:0];
        rhi <= rnd_n[48:17];
        shm <= shift;
        p  <= $signed({hi, 17'd0}) + $signed({14'd0, lo});
        sh <= shm;
        y  <= q[48] ? {OUT_BITS{1'b0}}
            : (|q[47:OUT_BITS]) ? {OUT_BITS{1'b1}}
            : q[OUT_BITS-1:0];
    end
endmodule

`default_nettype wire
