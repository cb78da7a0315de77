// A simulation model of the ECP5 MULT18X18D, for the tests only (Yosys 0.23 ships the primitive
// as a black box). Written from Lattice's description of the sysDSP multiplier (FPGA-TN-02205):
// P = A * B, each operand signed when its SIGNEDA / SIGNEDB is high; an input register on A and
// on B when REG_INPUTA_CLK / REG_INPUTB_CLK names a clock, an output register on P when
// REG_OUTPUT_CLK does. Only CLK0, CE0 and RST0 (synchronous, as RESETMODE "SYNC") are
// modelled, and no pipeline register, cascade or shift input: what sqf_mul_ecp5 uses.
`default_nettype none
module MULT18X18D #(
    parameter REG_INPUTA_CLK = "NONE",
    parameter REG_INPUTB_CLK = "NONE",
    parameter REG_OUTPUT_CLK = "NONE"
) (
    input wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input wire B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    input wire C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input wire CLK0, CE0, RST0,
    output wire P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17,
    output wire P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33,
    output wire P34, P35
);
    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    reg [17:0] a_r = 18'd0, b_r = 18'd0;
    reg sa_r = 1'b0, sb_r = 1'b0;
    always @(posedge CLK0)
        if (RST0) begin
            a_r <= 18'd0; b_r <= 18'd0; sa_r <= 1'b0; sb_r <= 1'b0;
        end else if (CE0) begin
            a_r <= a; b_r <= b; sa_r <= SIGNEDA; sb_r <= SIGNEDB;
        end
    wire ra = REG_INPUTA_CLK != "NONE", rb = REG_INPUTB_CLK != "NONE";
    wire [17:0] ma = ra ? a_r : a, mb = rb ? b_r : b;
    wire sa = ra ? sa_r : SIGNEDA, sb = rb ? sb_r : SIGNEDB;
    // Each operand extended to 36 bits by its own sign mode, then multiplied.
    wire [35:0] xa = {{18{sa & ma[17]}}, ma}, xb = {{18{sb & mb[17]}}, mb};
    wire [35:0] prod = xa * xb;
    reg [35:0] p_r = 36'd0;
    always @(posedge CLK0)
        if (RST0) p_r <= 36'd0;
        else if (CE0) p_r <= prod;
    wire [35:0] p = REG_OUTPUT_CLK != "NONE" ? p_r : prod;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19,
            P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
endmodule
`default_nettype wire
