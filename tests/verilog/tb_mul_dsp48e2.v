// Drives sqf_mul_dsp48e2 (AW, BW as the parameters say) with random operands and the extremes,
// and counts the cycles whose p is not a * b (both signed) of the operands set before the last
// edge (the product register). Prints "checked N mismatches M".
`timescale 1ns/1ps
`default_nettype none
module tb_mul_dsp48e2 #(
    parameter AW = 25,
    parameter BW = 9
);
    reg clock = 1'b0;
    reg [AW-1:0] a = {AW{1'b0}};
    reg [BW-1:0] b = {BW{1'b0}};
    wire [AW+BW-1:0] p;
    sqf_mul_dsp48e2 #(.AW(AW), .BW(BW)) dut (.clock(clock), .a(a), .b(b), .p(p));
    reg signed [AW+BW-1:0] want = 0;      // the product p must show after this edge
    integer i, checked = 0, bad = 0;
    initial begin
        for (i = 0; i < 3000; i = i + 1) begin
            case (i % 5)
                0: begin a = {1'b1, {(AW-1){1'b0}}}; b = {1'b1, {(BW-1){1'b0}}}; end
                1: begin a = {1'b0, {(AW-1){1'b1}}}; b = {1'b1, {(BW-1){1'b0}}}; end
                default: begin a = $random; b = $random; end
            endcase
            want = $signed(a) * $signed(b);
            #1 clock = 1'b1;
            #1;
            begin
                checked = checked + 1;
                if ($signed(p) !== want) begin
                    bad = bad + 1;
                    if (bad < 5) $display("cycle %0d: p %0d, want %0d", i, $signed(p), want);
                end
            end
            #1 clock = 1'b0;
        end
        $display("checked %0d mismatches %0d", checked, bad);
        $finish;
    end
endmodule
`default_nettype wire
