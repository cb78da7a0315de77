// squeezeflow library module (hw/verilog/sqf_requant.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_requant: y = clamp((acc * mult + 2^(s-1)) >>> s, 0, 2^OUT_BITS - 1), where the shift s
// is SHIFT_BASE + shift. mult is unsigned 16-bit, s 1..47, the product 49-bit signed. Three
// stages, latency 3, no stalls: (1) two partial products, acc[16:0] * mult and acc[31:17] *
// mult, each within one 18x18 multiplier (ECP5 MULT18X18D; a DSP48 either way); (2) their sum
// p; (3) the shift, the rounding and the clamp (with ROUND_REG, below, the rounding and the
// clamp are a fourth stage: latency 4). The rounding is done after the shift: with u =
// p >>> s and r bit s-1 of p, (p + 2^(s-1)) >>> s = u + r (p = u * 2^s + v, 0 <= v < 2^s, and
// v + 2^(s-1) carries into u exactly when bit s-1 of v is set). So no rounding constant joins
// the products: added in stage 2 it was the engines' deepest path on the XC7A200T (7.01 ns),
// and the clamp needs only an OUT_BITS-bit increment. One 32x17 product in stage 1 (two
// multipliers and the add joining them) was the engines' slowest path on ECP5.
module sqf_requant #(
    parameter OUT_BITS = 8,                  // 8 for activations, 16 for logits
    parameter SHIFT_BASE = 0,                // the shift is SHIFT_BASE + `shift`
    // 1: mult and shift come a cycle early and wait in registers (the multipliers' input
    // registers): for a parameter word read from block RAM, whose clock to out (2.46 ns on
    // Artix-7) in front of the multipliers was 6.57 ns (conv10, the XC7A200T network).
    parameter MULT_REG = 0,
    // 1: a fourth stage. Stage 3 keeps the shifted value's facts in registers (below zero,
    // above the top, its low OUT_BITS bits, r) and stage 4 rounds and clamps: the shift's
    // multiplexer, the increment and the clamp in one stage were the XC7A200T foldings'
    // deepest path (6.53 ns, fire5.expand1x1 and, in the 6-bit fit, fire2.expand1x1).
    parameter ROUND_REG = 0,
    // 1: the two products in ECP5 MULT18X18Ds' output registers (sqf_mul_ecp5 without input
    // registers: acc and mult are registers already). Yosys 0.23 packs no register into an
    // MULT18X18D, so the multipliers sat between a fabric register on each side, both far
    // away: the ULX3S network's critical path (75.7 MHz; 8.77 of its 13.2 ns in routing).
    parameter ECP5_MUL = 0,
    // 1 (ECP5_MUL only): the products' operands in the MULT18X18Ds' input registers too, a
    // stage more (latency 4, or 5 with ROUND_REG). A fabric register into a multiplier's
    // unregistered inputs has the multiply in its setup (3.5 ns on a speed-6 LFE5U-85F): a
    // parameter ROM's register 5.70 ns of routing away was the ULX3S network's critical path
    // (103.0 MHz, 2026-12-04).
    parameter MUL_IN_REG = 0
) (
    input  wire                 clock,
    input  wire signed [31:0]   acc,
    input  wire [15:0]          mult,
    input  wire [5:0]           shift,
    output reg  [OUT_BITS-1:0]  y
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (OUT_BITS < 1 || OUT_BITS > 32) begin : bad_out_bits
            sqf_requant_OUT_BITS_must_be_1_to_32 bad();
        end
        if (SHIFT_BASE < 0 || SHIFT_BASE > 63) begin : bad_shift_base
            sqf_requant_SHIFT_BASE_must_be_0_to_63 bad();
        end
        if (MULT_REG != 0 && MULT_REG != 1) begin : bad_mult_reg
            sqf_requant_MULT_REG_must_be_0_or_1 bad();
        end
        if (ROUND_REG != 0 && ROUND_REG != 1) begin : bad_round_reg
            sqf_requant_ROUND_REG_must_be_0_or_1 bad();
        end
        if (ECP5_MUL != 0 && ECP5_MUL != 1) begin : bad_ecp5_mul
            sqf_requant_ECP5_MUL_must_be_0_or_1 bad();
        end
        if ((MUL_IN_REG != 0 && MUL_IN_REG != 1) || (MUL_IN_REG == 1 && ECP5_MUL != 1))
        begin : bad_mul_in_reg
            sqf_requant_MUL_IN_REG_0_or_1_and_1_needs_ECP5_MUL bad();
        end
    endgenerate
    // The word stage 1 takes: mult and shift, or (MULT_REG) their registers.
    wire [15:0] mult_s;
    wire [5:0] shift_s;
    generate
        if (MULT_REG == 1) begin : early
            reg [15:0] mult_r;
            reg [5:0] shift_r;
            always @(posedge clock) begin
                mult_r <= mult;
                shift_r <= shift;
            end
            assign mult_s = mult_r;
            assign shift_s = shift_r;
        end else begin : now
            assign mult_s = mult;
            assign shift_s = shift;
        end
    endgenerate
    wire signed [34:0] mlo;                  // acc[16:0] * mult, unsigned (33 bits used)
    wire signed [31:0] mhi;                  // acc[31:17] * mult, signed
    generate
        if (ECP5_MUL == 1) begin : ecp5
            sqf_mul_ecp5 #(.AW(17), .BW(17), .IN_REG(0), .DSP_IN_REG(MUL_IN_REG)) ml (
                .clock(clock), .a(acc[16:0]), .b({1'b0, mult_s}), .p(mlo)
            );
            sqf_mul_ecp5 #(.AW(16), .BW(15), .IN_REG(0), .DSP_IN_REG(MUL_IN_REG)) mh (
                .clock(clock), .a(mult_s), .b(acc[31:17]), .p(mhi)
            );
        end else begin : fabric
            reg signed [34:0] mlo_r;
            reg signed [31:0] mhi_r;
            initial begin
                mlo_r = 35'sd0;
                mhi_r = 32'sd0;
            end
            always @(posedge clock) begin
                mlo_r <= $signed({1'b0, acc[16:0]}) * $signed({1'b0, mult_s});
                mhi_r <= $signed(acc[31:17]) * $signed({1'b0, mult_s});
            end
            assign mlo = mlo_r;
            assign mhi = mhi_r;
        end
    endgenerate
    // shm and sh have no initial value: where a layer's shift is one constant (its parameter
    // ROM's shift bits are), Yosys then makes them constants and the shifter wiring. With an
    // initial value they stayed registers, and Yosys merged the equal ones of different
    // engines into one with 319 loads (7.29 ns, the XC7A200T network). Before the first
    // parameter word arrives y may be undefined; nothing takes it then (no push, no out_en).
    // shm holds the shift inverted: a cell between the ROM's data register, shm and sh keeps
    // Yosys from making the three one SRL16E (1.5 ns clock to out; 7.71 ns on fire4.expand1x1).
    reg [5:0] shm;
    wire signed [48:0] p;
    reg [5:0] sh;
    // {uq, r} = {p, 0} >>> s with s = SHIFT_BASE + sh: uq = p >>> s (u above) and r = bit s-1
    // of p (0 for s = 0; for s >= 50 both are p's sign, and y is 0 as with the constant, which
    // is then 0). The base is wiring; sh, a word's shift less the base of its layer (whose
    // shifts span a few values), leaves a small multiplexer: a full 6-bit shifter followed by
    // the rounding was 8.03 ns on the XC7A200T (fire5.expand1x1).
    wire signed [49:0] tb = $signed({p, 1'b0}) >>> SHIFT_BASE;
    wire signed [49:0] t = tb >>> sh;
    wire signed [48:0] uq = t[49:1];
    wire r = t[0];
    initial y = {OUT_BITS{1'b0}};
    // p = {mhi, 17'd0} + mlo: its low 17 bits are mlo's; above them mhi + mlo[34:17] (32 bits,
    // mlo >= 0). With ECP5_MUL that add is split across the stage: its low 18 bits and their
    // carry registered (pm), the high 14 bits of mhi registered (ph) and incremented by the
    // carry after (the stage in front of the shift has room for it). The whole 32-bit carry
    // chain from the multipliers' output registers (their clock to out, then the route into
    // the fabric) was late on the ULX3S (8.56 ns, 2026-12-04).
    generate
        if (ECP5_MUL == 1) begin : p_split
            reg [16:0] pl;
            reg [18:0] pm;
            reg [13:0] ph;
            initial begin
                pl = 17'd0;
                pm = 19'd0;
                ph = 14'd0;
            end
            always @(posedge clock) begin
                pl <= mlo[16:0];
                pm <= {1'b0, mhi[17:0]} + {1'b0, mlo[34:17]};
                ph <= mhi[31:18];
            end
            assign p = {ph + {13'd0, pm[18]}, pm[17:0], pl};
        end else begin : p_whole
            reg signed [48:0] p_r;
            initial p_r = 49'sd0;
            always @(posedge clock) p_r <= $signed({mhi, 17'd0}) + $signed({14'd0, mlo});
            assign p = p_r;
        end
    endgenerate
    // The shift's word waits as long as the products (shm, then with MUL_IN_REG shm_i).
    wire [5:0] shm_p;
    generate
        if (MUL_IN_REG == 1) begin : shift_wait
            reg [5:0] shm_i;
            always @(posedge clock) shm_i <= shm;
            assign shm_p = shm_i;
        end else begin : shift_now
            assign shm_p = shm;
        end
    endgenerate
    always @(posedge clock) begin
        shm <= ~shift_s;
        sh <= ~shm_p;
    end
    // The round and the clamp: uq < 0: uq + r <= 0. uq above the range, or at its top with r:
    // the top. From uq and r themselves, or (ROUND_REG) from their registers a stage later.
    wire neg_s, big_s, r_s;
    wire [OUT_BITS-1:0] low_s;
    generate
        if (ROUND_REG == 1) begin : round_late
            reg neg_r, big_r, r_r;
            reg [OUT_BITS-1:0] low_r;
            always @(posedge clock) begin
                neg_r <= uq[48];
                big_r <= |uq[47:OUT_BITS];
                low_r <= uq[OUT_BITS-1:0];
                r_r <= r;
            end
            assign {neg_s, big_s, low_s, r_s} = {neg_r, big_r, low_r, r_r};
        end else begin : round_now
            assign {neg_s, big_s, low_s, r_s} = {uq[48], |uq[47:OUT_BITS], uq[OUT_BITS-1:0], r};
        end
    endgenerate
    always @(posedge clock)
        y <= neg_s ? {OUT_BITS{1'b0}}
            : (big_s || (&low_s && r_s)) ? {OUT_BITS{1'b1}}
            : low_s + {{(OUT_BITS-1){1'b0}}, r_s};
endmodule

`default_nettype wire
