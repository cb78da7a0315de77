// A simulation model of the UltraScale+ DSP48E2, for the tests only (Yosys 0.23 ships the
// primitive as a black box). Written from Xilinx's description of the slice (UG579): the
// multiplier takes A[26:0] and B[17:0], both signed, into a 45-bit product M; with OPMODE's X
// and Y multiplexers both on M (X = 01, Y = 01), Z and W on zero and ALUMODE 0000, P = M
// sign-extended to 48 bits. AREG = 1 and BREG = 1 put the A2 and B2 registers in front of
// the multiplier (INMODE[0] = 0 and INMODE[4] = 0 select them), MREG = 1 the M register after
// it, PREG = 1 the P register after the adder; 0 bypasses each. Clock enables CEA2, CEB2, CEM,
// CEP and the synchronous resets RSTA, RSTB, RSTM, RSTP are modelled. Anything else (the
// pre-adder, C, cascades, other OPMODE, ALUMODE or INMODE values) is reported by name and
// fails the run: only what sqf_mul_dsp48e2 uses is modelled.
`default_nettype none
module DSP48E2 #(
    parameter integer AREG = 1,
    parameter integer ACASCREG = 1,
    parameter integer BREG = 1,
    parameter integer BCASCREG = 1,
    parameter integer MREG = 1,
    parameter integer PREG = 1,
    parameter integer CREG = 1,
    parameter integer DREG = 1,
    parameter integer ADREG = 1,
    parameter integer INMODEREG = 1,
    parameter integer OPMODEREG = 1,
    parameter integer ALUMODEREG = 1,
    parameter integer CARRYINREG = 1,
    parameter integer CARRYINSELREG = 1,
    parameter A_INPUT = "DIRECT",
    parameter B_INPUT = "DIRECT",
    parameter AMULTSEL = "A",
    parameter BMULTSEL = "B",
    parameter PREADDINSEL = "A",
    parameter USE_MULT = "MULTIPLY",
    parameter USE_SIMD = "ONE48"
) (
    input wire CLK,
    input wire [29:0] A, ACIN,
    input wire [17:0] B, BCIN,
    input wire [47:0] C, PCIN,
    input wire [26:0] D,
    input wire CARRYIN, CARRYCASCIN, MULTSIGNIN,
    input wire [8:0] OPMODE,
    input wire [3:0] ALUMODE,
    input wire [4:0] INMODE,
    input wire [2:0] CARRYINSEL,
    input wire CEA1, CEA2, CEB1, CEB2, CEP, CEM, CEC, CED, CEAD, CECTRL, CEINMODE,
    input wire CEALUMODE, CECARRYIN,
    input wire RSTA, RSTB, RSTC, RSTD, RSTM, RSTP, RSTCTRL, RSTINMODE, RSTALUMODE,
    input wire RSTALLCARRYIN,
    output wire [47:0] P
);
    initial begin
        if (AREG > 1 || BREG > 1 || A_INPUT != "DIRECT" || B_INPUT != "DIRECT"
            || AMULTSEL != "A" || BMULTSEL != "B" || USE_MULT != "MULTIPLY"
            || USE_SIMD != "ONE48") begin
            $display("DSP48E2 model: unmodelled parameters");
            $finish;
        end
    end
    always @(posedge CLK)
        if (OPMODE !== 9'b000000101 || ALUMODE !== 4'b0000 || INMODE !== 5'b00000
            || CARRYIN !== 1'b0 || CARRYINSEL !== 3'b000) begin
            $display("DSP48E2 model: unmodelled OPMODE %b ALUMODE %b INMODE %b", OPMODE, ALUMODE,
                     INMODE);
            $finish;
        end
    reg [26:0] a2 = 27'd0;
    reg [17:0] b2 = 18'd0;
    always @(posedge CLK) begin
        if (RSTA) a2 <= 27'd0; else if (CEA2) a2 <= A[26:0];
        if (RSTB) b2 <= 18'd0; else if (CEB2) b2 <= B;
    end
    wire [26:0] am = AREG == 1 ? a2 : A[26:0];
    wire [17:0] bm = BREG == 1 ? b2 : B;
    wire signed [44:0] m = $signed(am) * $signed(bm);
    reg signed [44:0] m_r = 45'sd0;
    always @(posedge CLK)
        if (RSTM) m_r <= 45'sd0; else if (CEM) m_r <= m;
    wire signed [47:0] sum = MREG == 1 ? m_r : m;
    reg [47:0] p_r = 48'd0;
    always @(posedge CLK)
        if (RSTP) p_r <= 48'd0; else if (CEP) p_r <= sum;
    assign P = PREG == 1 ? p_r : sum;
endmodule
`default_nettype wire
