// Drives sqf_mul_ecp5 (AW, BW, IN_REG as the parameters say) with random operands and the
// extremes, and counts the cycles whose p is not a * b of the operands set before the edge
// before last (IN_REG = 1: input registers, then the product register) or before the last
// edge (IN_REG = 0: the product register only). Prints "checked N mismatches M".
`timescale 1ns/1ps
`default_nettype none
module tb_mul_ecp5 #(
    parameter AW = 8,
    parameter BW = 8,
    parameter IN_REG = 1
);
    reg clock = 1'b0;
    reg [AW-1:0] a = {AW{1'b0}};
    reg [BW-1:0] b = {BW{1'b0}};
    wire [AW+BW:0] p;
    sqf_mul_ecp5 #(.AW(AW), .BW(BW), .IN_REG(IN_REG)) dut (.clock(clock), .a(a), .b(b), .p(p));
    reg signed [AW+BW:0] want = 0;        // the product p must show after this edge
    reg signed [AW+BW:0] next = 0;        // (IN_REG) the product after the next edge
    integer i, checked = 0, bad = 0;
    initial begin
        for (i = 0; i < 3000; i = i + 1) begin
            case (i % 5)
                0: begin a = {AW{1'b1}}; b = {1'b1, {(BW-1){1'b0}}}; end
                1: begin a = {AW{1'b1}}; b = {1'b0, {(BW-1){1'b1}}}; end
                default: begin a = $random; b = $random; end
            endcase
            if (IN_REG == 1) begin
                want = next;
                next = $signed({1'b0, a}) * $signed(b);
            end else begin
                want = $signed({1'b0, a}) * $signed(b);
            end
            #1 clock = 1'b1;
            #1;
            if (i >= IN_REG) begin
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
