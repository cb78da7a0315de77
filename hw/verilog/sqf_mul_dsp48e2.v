// squeezeflow library module (hw/verilog/sqf_mul_dsp48e2.v). The arithmetic is the int8 contract
// of model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mul_dsp48e2: p = a * b (both signed) a cycle after a and b, on an UltraScale+ DSP48E2
// with its own product register (PREG = 1; no A, B or M register). Yosys 0.23 maps a
// multiply to a DSP48E2 but packs none of its registers (it does for the 7-series DSP48E1),
// so the product register stayed in the fabric and the DSP48E2 between two fabric registers,
// 2.44 ns through its multiplier unregistered, was the XCZU7EV engines' deepest path (4.05
// ns). The operands stay in fabric registers (the caller's): with the A and B registers in
// the DSP48E2 as well, the line buffer's URAM read (no output register) and a LUT were in
// front of the B register's setup (4.15 ns). In synthesis (`SYNTHESIS`, which Yosys and
// Vivado define) the DSP48E2 is instantiated; in simulation the product register is written
// out. Latency 1.
module sqf_mul_dsp48e2 #(
    parameter AW = 25,                       // bits of a (signed), the A port's multiplier
    parameter BW = 9                         // bits of b (signed), the B port
) (
    input  wire                 clock,
    input  wire [AW-1:0]        a,
    input  wire [BW-1:0]        b,
    output wire [AW+BW-1:0]     p            // a * b, signed
);
    // Parameter checks at elaboration (see sqf_out_fifo.v): a is sign-extended to the 27 bits
    // the multiplier takes from A, b to B's 18.
    generate
        if (AW < 2 || AW > 26 || BW < 2 || BW > 17) begin : bad_width
            sqf_mul_dsp48e2_AW_2_to_26_and_BW_2_to_17 bad();
        end
    endgenerate
`ifdef SYNTHESIS
    wire [29:0] ax = {{(30 - AW){a[AW-1]}}, a};
    wire [17:0] bx = {{(18 - BW){b[BW-1]}}, b};
    wire [47:0] px;
    // OPMODE: W = 0, Z = 0, Y = M, X = M (P = the product); ALUMODE 0 (Z + W + X + Y); INMODE
    // 0 (A and B straight to the multiplier, no pre-adder). Every other register off, every
    // unused input tied.
    DSP48E2 #(
        .AREG(0), .ACASCREG(0), .BREG(0), .BCASCREG(0), .MREG(0), .PREG(1),
        .CREG(0), .DREG(0), .ADREG(0), .INMODEREG(0), .OPMODEREG(0), .ALUMODEREG(0),
        .CARRYINREG(0), .CARRYINSELREG(0),
        .A_INPUT("DIRECT"), .B_INPUT("DIRECT"), .AMULTSEL("A"), .BMULTSEL("B"),
        .PREADDINSEL("A"), .USE_MULT("MULTIPLY"), .USE_SIMD("ONE48")
    ) m (
        .CLK(clock),
        .A(ax), .B(bx), .C(48'd0), .D(27'd0), .CARRYIN(1'b0),
        .ACIN(30'd0), .BCIN(18'd0), .PCIN(48'd0), .CARRYCASCIN(1'b0), .MULTSIGNIN(1'b0),
        .OPMODE(9'b00_000_01_01), .ALUMODE(4'b0000), .INMODE(5'b00000), .CARRYINSEL(3'b000),
        .CEA1(1'b0), .CEA2(1'b0), .CEB1(1'b0), .CEB2(1'b0), .CEP(1'b1), .CEM(1'b0),
        .CEC(1'b0), .CED(1'b0), .CEAD(1'b0), .CECTRL(1'b0), .CEINMODE(1'b0),
        .CEALUMODE(1'b0), .CECARRYIN(1'b0),
        .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0), .RSTP(1'b0),
        .RSTCTRL(1'b0), .RSTINMODE(1'b0), .RSTALUMODE(1'b0), .RSTALLCARRYIN(1'b0),
        .P(px)
    );
    assign p = px[AW+BW-1:0];
`else
    reg [AW+BW-1:0] p_r;
    initial p_r = {(AW+BW){1'b0}};
    always @(posedge clock) p_r <= $signed(a) * $signed(b);
    assign p = p_r;
`endif
endmodule

`default_nettype wire
