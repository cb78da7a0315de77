// squeezeflow library module (hw/verilog/sqf_mul_ecp5.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mul_ecp5: one MAC lane's product on an ECP5 multiplier, with the multiplier's own output
// register: p = a * b two cycles after a and b (a unsigned, b signed), through input
// registers in the fabric and the product register in the MULT18X18D. Yosys 0.23 maps a
// multiply to an MULT18X18D without registers and packs no flip-flop into it, so the product
// register was placed apart from it and the routes to and from it set the ULX3S network's
// clock (66.6 MHz). The operands stay in fabric registers: with the MULT18X18D's input
// registers as well, the weight ROM's block RAM (no output register) fed the multiplier
// across the chip, and the network routed at 63.8 MHz (docs/timing.md). In synthesis
// (`SYNTHESIS`, which Yosys defines) the MULT18X18D is instantiated with REG_OUTPUT on CLK0;
// in simulation the product register is written out. Latency 2, or 1 with IN_REG = 0 (for
// operands that are registers already, as a requantizer's: sqf_requant).
module sqf_mul_ecp5 #(
    parameter AW = 8,                        // bits of a (unsigned)
    parameter BW = 8,                        // bits of b (signed)
    parameter IN_REG = 1                     // 1: a and b enter fabric registers first
) (
    input  wire                 clock,
    input  wire [AW-1:0]        a,
    input  wire [BW-1:0]        b,
    output wire [AW+BW:0]       p            // a * b, signed
);
    // Parameter checks at elaboration (see sqf_out_fifo.v): a is zero-extended to 18 signed
    // bits, b sign-extended.
    generate
        if (AW < 1 || AW > 17 || BW < 2 || BW > 18) begin : bad_width
            sqf_mul_ecp5_AW_1_to_17_and_BW_2_to_18 bad();
        end
        if (IN_REG != 0 && IN_REG != 1) begin : bad_in_reg
            sqf_mul_ecp5_IN_REG_must_be_0_or_1 bad();
        end
    endgenerate
    // The operands the multiplier takes: a and b, or (IN_REG) their registers.
    wire [AW-1:0] a_r;
    wire [BW-1:0] b_r;
    generate
        if (IN_REG == 1) begin : in_reg
            // Every lane's operand registers are its own (`keep` on the process; on the
            // registers alone Yosys still merged them): the PEs of an engine take the same
            // activations, and Yosys merged their registers into one, which then fed
            // multipliers across the chip (the ULX3S route's critical path, 93.2 MHz: 4.01 ns
            // in cells, 6.72 routing).
            reg [AW-1:0] a_q;
            reg [BW-1:0] b_q;
            initial begin
                a_q = {AW{1'b0}};
                b_q = {BW{1'b0}};
            end
            (* keep *) always @(posedge clock) begin
                a_q <= a;
                b_q <= b;
            end
            assign a_r = a_q;
            assign b_r = b_q;
        end else begin : in_wire
            assign a_r = a;
            assign b_r = b;
        end
    endgenerate
`ifdef SYNTHESIS
    wire [17:0] ax = {{(18 - AW){1'b0}}, a_r};
    wire [17:0] bx = {{(18 - BW){b_r[BW-1]}}, b_r};
    wire [35:0] px;
    MULT18X18D #(
        .REG_OUTPUT_CLK("CLK0")
    ) m (
        .A0(ax[0]), .A1(ax[1]), .A2(ax[2]), .A3(ax[3]), .A4(ax[4]), .A5(ax[5]),
        .A6(ax[6]), .A7(ax[7]), .A8(ax[8]), .A9(ax[9]), .A10(ax[10]), .A11(ax[11]),
        .A12(ax[12]), .A13(ax[13]), .A14(ax[14]), .A15(ax[15]), .A16(ax[16]), .A17(ax[17]),
        .B0(bx[0]), .B1(bx[1]), .B2(bx[2]), .B3(bx[3]), .B4(bx[4]), .B5(bx[5]),
        .B6(bx[6]), .B7(bx[7]), .B8(bx[8]), .B9(bx[9]), .B10(bx[10]), .B11(bx[11]),
        .B12(bx[12]), .B13(bx[13]), .B14(bx[14]), .B15(bx[15]), .B16(bx[16]), .B17(bx[17]),
        .C0(1'b0), .C1(1'b0), .C2(1'b0), .C3(1'b0), .C4(1'b0), .C5(1'b0),
        .C6(1'b0), .C7(1'b0), .C8(1'b0), .C9(1'b0), .C10(1'b0), .C11(1'b0),
        .C12(1'b0), .C13(1'b0), .C14(1'b0), .C15(1'b0), .C16(1'b0), .C17(1'b0),
        .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
        .CLK0(clock), .CE0(1'b1), .RST0(1'b0),
        .P0(px[0]), .P1(px[1]), .P2(px[2]), .P3(px[3]), .P4(px[4]), .P5(px[5]),
        .P6(px[6]), .P7(px[7]), .P8(px[8]), .P9(px[9]), .P10(px[10]), .P11(px[11]),
        .P12(px[12]), .P13(px[13]), .P14(px[14]), .P15(px[15]), .P16(px[16]), .P17(px[17]),
        .P18(px[18]), .P19(px[19]), .P20(px[20]), .P21(px[21]), .P22(px[22]), .P23(px[23]),
        .P24(px[24]), .P25(px[25]), .P26(px[26]), .P27(px[27]), .P28(px[28]), .P29(px[29]),
        .P30(px[30]), .P31(px[31]), .P32(px[32]), .P33(px[33]), .P34(px[34]), .P35(px[35])
    );
    assign p = px[AW+BW:0];
`else
    reg [AW+BW:0] p_r;
    initial p_r = {(AW+BW+1){1'b0}};
    always @(posedge clock) p_r <= $signed({1'b0, a_r}) * $signed(b_r);
    assign p = p_r;
`endif
endmodule

`default_nettype wire
