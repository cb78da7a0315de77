// squeezeflow library module (hw/verilog/sqf_const_mul.v).
`default_nettype none

// sqf_const_mul: y = a * C (modulo 2^32) as a sum of shifted copies of a, one per set bit of
// the constant C, so that no synthesis tool spends a DSP on an address computation (Yosys maps
// a multiply by a constant to a DSP48 or a MULT18X18D otherwise). Combinational.
// Parameters: C, 0 <= C < 2^31.
module sqf_const_mul #(
    parameter C = 1
) (
    input  wire [31:0] a,
    output reg  [31:0] y
);
    generate
        if (C < 0) begin : bad_constant
            sqf_const_mul_C_must_not_be_negative bad();
        end
    endgenerate
    integer b;
    always @(*) begin
        y = 32'd0;
        for (b = 0; b < 31; b = b + 1)
            if (((C >> b) & 1) != 0) y = y + (a << b);
    end
endmodule

`default_nettype wire
