// squeezeflow library module (hw/verilog/sqf_mul_ecp5.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mul_ecp5: a product on an ECP5 multiplier, with the multiplier's own output register:
// p = a * b (a unsigned, b signed) after IN_REG + DSP_IN_REG + 1 cycles: the operands' fabric
// registers (IN_REG), the MULT18X18D's input registers (DSP_IN_REG), its product register.
// Yosys 0.23 maps a multiply to an MULT18X18D without registers and packs no flip-flop into
// it, so the product register was placed apart from it and the routes to and from it set the
// ULX3S network's clock (66.6 MHz). The MAC lanes (sqf_mac) take all three (latency 3): with
// the fabric registers and the product register only, a weight ROM's block RAM (its read in
// its output register: hw/src/ecp5_outreg.rs) reached a multiplier across the chip, route
// and multiply in one cycle (98.1 MHz, docs/timing.md); with the input registers alone, the
// activations' one register reached the multipliers of every PE (96.2 MHz). The requantizers
// (sqf_requant) take neither (latency 1): their operands are registers already. In synthesis
// (`SYNTHESIS`, which Yosys defines) the MULT18X18D is instantiated with REG_OUTPUT (and with
// DSP_IN_REG REG_INPUTA and REG_INPUTB) on CLK0; in simulation the registers are written out.
module sqf_mul_ecp5 #(
    parameter AW = 8,                        // bits of a (unsigned)
    parameter BW = 8,                        // bits of b (signed)
    parameter IN_REG = 1,                    // 1: a and b enter fabric registers first
    parameter DSP_IN_REG = 0                 // 1: then the MULT18X18D's input registers
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
        if (DSP_IN_REG != 0 && DSP_IN_REG != 1) begin : bad_dsp_in_reg
            sqf_mul_ecp5_DSP_IN_REG_must_be_0_or_1 bad();
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
        .REG_INPUTA_CLK(DSP_IN_REG ? "CLK0" : "NONE"),
        .REG_INPUTB_CLK(DSP_IN_REG ? "CLK0" : "NONE"),
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
    // The input registers (DSP_IN_REG), then the product register.
    wire [AW-1:0] a_m;
    wire [BW-1:0] b_m;
    generate
        if (DSP_IN_REG == 1) begin : dsp_in
            reg [AW-1:0] a_d;
            reg [BW-1:0] b_d;
            initial begin
                a_d = {AW{1'b0}};
                b_d = {BW{1'b0}};
            end
            always @(posedge clock) begin
                a_d <= a_r;
                b_d <= b_r;
            end
            assign a_m = a_d;
            assign b_m = b_d;
        end else begin : dsp_wire
            assign a_m = a_r;
            assign b_m = b_r;
        end
    endgenerate
    reg [AW+BW:0] p_r;
    initial p_r = {(AW+BW+1){1'b0}};
    always @(posedge clock) p_r <= $signed({1'b0, a_m}) * $signed(b_m);
    assign p = p_r;
`endif
endmodule

`default_nettype wire
