// squeezeflow library module (hw/verilog/sqf_requant.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_requant: y = clamp((acc * mult + 2^(shift-1)) >>> shift, 0, 2^OUT_BITS - 1).
// mult is unsigned 16-bit, shift 1..47, the product 49-bit signed. Three stages (the product,
// the rounding add, the shift and clamp): latency 3, no stalls.
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
    reg signed [48:0] m;
    reg [5:0] shm;
    reg signed [48:0] p;
    reg [5:0] sh;
    wire signed [48:0] q = p >>> sh;
    initial begin
        m = 49'sd0;
        shm = 6'd1;
        p = 49'sd0;
        sh = 6'd1;
        y = {OUT_BITS{1'b0}};
    end
    always @(posedge clock) begin
        m  <= acc * $signed({1'b0, mult});
        shm <= shift;
        p  <= m + (49'sd1 <<< (shm - 6'd1));
        sh <= shm;
        y  <= q[48] ? {OUT_BITS{1'b0}}
            : (|q[47:OUT_BITS]) ? {OUT_BITS{1'b1}}
            : q[OUT_BITS-1:0];
    end
endmodule

`default_nettype wire
