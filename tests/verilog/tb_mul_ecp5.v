// Drives sqf_mul_ecp5 (AW, BW, IN_REG, DSP_IN_REG as the parameters say) with random operands
// and the extremes, and counts the cycles whose p is not a * b of the operands set LAT edges
// before (LAT = IN_REG + DSP_IN_REG + 1: the fabric input registers, the MULT18X18D's input
// registers, its product register). Prints "checked N mismatches M".
`timescale 1ns/1ps
`default_nettype none
module tb_mul_ecp5 #(
    parameter AW = 8,
    parameter BW = 8,
    parameter IN_REG = 1,
    parameter DSP_IN_REG = 0
);
    localparam LAT = IN_REG + DSP_IN_REG + 1;
    reg clock = 1'b0;
    reg [AW-1:0] a = {AW{1'b0}};
    reg [BW-1:0] b = {BW{1'b0}};
    wire [AW+BW:0] p;
    sqf_mul_ecp5 #(.AW(AW), .BW(BW), .IN_REG(IN_REG), .DSP_IN_REG(DSP_IN_REG)) dut (
        .clock(clock), .a(a), .b(b), .p(p)
    );
    // want[0]: the product of this cycle's operands; want[LAT-1]: of those set LAT-1 cycles
    // before, which p must show after this cycle's edge.
    reg signed [AW+BW:0] want [0:2];
    integer i, k, checked = 0, bad = 0;
    initial begin
        for (k = 0; k < 3; k = k + 1) want[k] = 0;
        for (i = 0; i < 3000; i = i + 1) begin
            case (i % 5)
                0: begin a = {AW{1'b1}}; b = {1'b1, {(BW-1){1'b0}}}; end
                1: begin a = {AW{1'b1}}; b = {1'b0, {(BW-1){1'b1}}}; end
                default: begin a = $random; b = $random; end
            endcase
            for (k = 2; k > 0; k = k - 1) want[k] = want[k-1];
            want[0] = $signed({1'b0, a}) * $signed(b);
            #1 clock = 1'b1;
            #1;
            if (i >= LAT - 1) begin
                checked = checked + 1;
                if ($signed(p) !== want[LAT-1]) begin
                    bad = bad + 1;
                    if (bad < 5) $display("cycle %0d: p %0d, want %0d", i, $signed(p), want[LAT-1]);
                end
            end
            #1 clock = 1'b0;
        end
        $display("checked %0d mismatches %0d", checked, bad);
        $finish;
    end
endmodule
`default_nettype wire
