// squeezeflow library module (hw/verilog/sqf_const_mul.v).
`default_nettype none

// sqf_const_mul: y = a * C (modulo 2^WIDTH) as a sum of shifted copies of a, one per set bit of
// the constant C, so that no synthesis tool spends a DSP on an address computation (Yosys maps
// a multiply by a constant to a DSP48 or a MULT18X18D otherwise). Combinational.
// Parameters: C, 0 <= C < 2^31; WIDTH (1..32) of a and y: the fewer bits, the shorter the adds.
module sqf_const_mul #(
    parameter C = 1,
    parameter WIDTH = 32
) (
    input  wire [WIDTH-1:0] a,
    output reg  [WIDTH-1:0] y
);
    generate
        if (C < 0 || WIDTH < 1 || WIDTH > 32) begin : bad_constant
            sqf_const_mul_C_must_not_be_negative_WIDTH_1_to_32 bad();
        end
    endgenerate
    integer b;
    always @(*) begin
        y = {WIDTH{1'b0}};
        for (b = 0; b < WIDTH && b < 31; b = b + 1)
            if (((C >> b) & 1) != 0) y = y + (a << b);
    end
endmodule

`default_nettype wire
