// squeezeflow library module (hw/verilog/sqf_const_mul.v).
`default_nettype none

// sqf_const_mul: y = a * C (modulo 2^WIDTH), so that no synthesis tool spends a DSP on an
// address computation (Yosys maps a multiply by a constant to a DSP48 or a MULT18X18D
// otherwise). An operand of up to 6 bits (ABITS) is looked up in a table of its 2^ABITS
// products: each bit of y is then a function of ABITS inputs, one LUT level, where a sum of
// shifted copies would be a carry chain per set bit of C. A wider operand is that sum: one
// shifted copy of a per set bit of the constant. Combinational.
// Parameters: C, 0 <= C < 2^31; WIDTH (1..32) of y; ABITS (1..WIDTH) of a, default WIDTH.
module sqf_const_mul #(
    parameter C = 1,
    parameter WIDTH = 32,
    parameter ABITS = WIDTH
) (
    input  wire [ABITS-1:0] a,
    output reg  [WIDTH-1:0] y
);
    generate
        if (C < 0 || WIDTH < 1 || WIDTH > 32 || ABITS < 1 || ABITS > WIDTH) begin : bad_constant
            sqf_const_mul_C_must_not_be_negative_WIDTH_1_to_32_ABITS_1_to_WIDTH bad();
        end
    endgenerate
    // e * C in 32-bit integers wraps modulo 2^32, which 2^WIDTH divides: the low WIDTH bits
    // are the product's.
    integer b, e;
    /* verilator lint_off UNUSEDSIGNAL */
    integer p;                               // e * C; its low WIDTH bits are used
    /* verilator lint_on UNUSEDSIGNAL */
    reg [WIDTH-1:0] ax;
    always @(*) begin
        y = {WIDTH{1'b0}};
        ax = {WIDTH{1'b0}};
        p = 0;
        ax[ABITS-1:0] = a;
        if (ABITS <= 6) begin
            for (e = 0; e < 64; e = e + 1)
                if (e < (1 << ABITS) && ax == e[WIDTH-1:0]) begin
                    p = e * C;
                    y = p[WIDTH-1:0];
                end
        end else begin
            for (b = 0; b < WIDTH && b < 31; b = b + 1)
                if (((C >> b) & 1) != 0) y = y + (ax << b);
        end
    end
endmodule

`default_nettype wire
