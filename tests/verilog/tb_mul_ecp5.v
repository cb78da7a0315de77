// Drives sqf_mul_ecp5 (AW 8, BW 8) with random operands and the extremes, and counts the cycles
// whose p is not a * b of the operands two registers back (set before the edge before last).
// Prints "checked N mismatches M".
`timescale 1ns/1ps
`default_nettype none
module tb_mul_ecp5;
    reg clock = 1'b0;
    reg [7:0] a = 8'd0;
    reg [7:0] b = 8'd0;
    wire [16:0] p;
    sqf_mul_ecp5 #(.AW(8), .BW(8)) dut (.clock(clock), .a(a), .b(b), .p(p));
    reg signed [16:0] want = 17'sd0;      // the product of the previous cycle's operands
    integer i, checked = 0, bad = 0;
    initial begin
        for (i = 0; i < 3000; i = i + 1) begin
            case (i % 5)
                0: begin a = 8'd255; b = 8'h80; end
                1: begin a = 8'd255; b = 8'h7f; end
                default: begin a = $random; b = $random; end
            endcase
            #1 clock = 1'b1;
            // The edge before took the previous operands into the input registers; this one
            // takes their product into the output register.
            #1;
            if (i >= 1) begin
                checked = checked + 1;
                if ($signed(p) !== want) begin
                    bad = bad + 1;
                    if (bad < 5) $display("cycle %0d: p %0d, want %0d", i, $signed(p), want);
                end
            end
            want = $signed({9'd0, a}) * $signed({{9{b[7]}}, b});
            #1 clock = 1'b0;
        end
        $display("checked %0d mismatches %0d", checked, bad);
        $finish;
    end
endmodule
`default_nettype wire
