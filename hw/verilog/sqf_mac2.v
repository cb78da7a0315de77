// squeezeflow library module (hw/verilog/sqf_mac2.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mac2: two processing elements that share their activations (PE i and i+1 of an engine),
// each lane's two products from ONE multiplier, so one DSP48E1/DSP48E2 does two int8 MACs:
//   a = w0 * 2^17 + (w1 + 128)   (25 bits signed: fits the DSP48E1's A port)
//   p = a * x = w0*x * 2^17 + (w1 + 128)*x, with 0 <= (w1 + 128)*x <= 65025 < 2^17, so
//   w0*x = p >>> 17 exactly, and w1*x = p[16:0] - x*128.
// Six stages as sqf_mac (inputs, products, lanes, half sums, sums, accumulators): acc0 <=
// (first ? bias0 : acc0) + sum_l x[l]*w0[l], acc1 likewise with w1. Latency 6.
// The packed a is registered as it enters the multiplier (no logic between the register and
// the DSP's A port), and x is (its B register); the product is registered as it leaves (the
// DSP's P register), and w1*x is split off in the lane stage, so no carry chain follows the
// multiplier in its stage (that was the engines' deepest path, docs/timing.md).
// With DSP48E2 = 1 (UltraScale+ bundles) the product register is a DSP48E2's P register
// (sqf_mul_dsp48e2): the same stages, written as a primitive because Yosys packs no register
// into a DSP48E2.
module sqf_mac2 #(
    parameter SIMD = 1,
    parameter DSP48E2 = 0
) (
    input  wire                 clock,
    input  wire                 en,
    input  wire                 first,
    input  wire [8*SIMD-1:0]    x,           // SIMD unsigned activations (shared)
    input  wire [8*SIMD-1:0]    w0,          // signed weights of the first PE
    input  wire [8*SIMD-1:0]    w1,          // signed weights of the second PE
    input  wire signed [31:0]   bias0,
    input  wire signed [31:0]   bias1,
    output reg  signed [31:0]   acc0,
    output reg  signed [31:0]   acc1
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (SIMD < 1 || SIMD > 8) begin : bad_simd
            sqf_mac2_SIMD_must_be_1_to_8 bad();
        end
        if (DSP48E2 != 0 && DSP48E2 != 1) begin : bad_dsp
            sqf_mac2_DSP48E2_must_be_0_or_1 bad();
        end
    endgenerate
    reg [8*SIMD-1:0] x_i, x_p;
    wire [34*SIMD-1:0] p_r;                  // a * x per lane (P register)
    reg [17*SIMD-1:0] hi_r, lo_r;            // w0*x and w1*x per lane, 17 bits signed
    // The control pipeline of every MAC is its own (`keep`): merged, one register would
    // drive the accumulators of every PE of the engine.
    (* keep = "true" *) reg en_i, first_i, en_p, first_p, en_l, first_l, en_h, first_h;
    (* keep = "true" *) reg en_r, first_r;
    reg signed [31:0] bias0_i, bias1_i, bias0_p, bias1_p, bias0_l, bias1_l;
    reg signed [31:0] bias0_h, bias1_h, bias0_r, bias1_r;
    genvar l;
    generate
        for (l = 0; l < SIMD; l = l + 1) begin : lane
            // The packed weights (A port), registered as x is (B port), and their product.
            reg [24:0] a_i;
            initial a_i = 25'd0;
            always @(posedge clock) a_i <= {w0[8*l +: 8], 9'd0, ~w1[8*l+7], w1[8*l +: 7]};
            wire [8:0] b = {1'b0, x_i[8*l +: 8]};
            if (DSP48E2 == 1) begin : dsp
                sqf_mul_dsp48e2 #(.AW(25), .BW(9)) mul (
                    .clock(clock), .a(a_i), .b(b), .p(p_r[34*l +: 34])
                );
            end else begin : fabric
                reg [33:0] p_q;
                initial p_q = 34'd0;
                always @(posedge clock) p_q <= $signed(a_i) * $signed(b);
                assign p_r[34*l +: 34] = p_q;
            end
            always @(posedge clock) begin
                hi_r[17*l +: 17] <= p_r[34*l+17 +: 17];
                // (w1 + 128)*x - 128*x = w1*x, 17 bits signed
                lo_r[17*l +: 17] <= p_r[34*l +: 17] - {2'd0, x_p[8*l +: 8], 7'd0};
            end
        end
    endgenerate
    // The sums in two halves of at most four lanes (two adder levels), then their sum: 19 and
    // 20 bits, so each adder's carry chain is as short as the values allow.
    localparam HALF = (SIMD + 1) / 2;
    integer k;
    reg signed [18:0] h0a, h0b, h1a, h1b;
    always @(*) begin
        h0a = 19'sd0; h0b = 19'sd0; h1a = 19'sd0; h1b = 19'sd0;
        for (k = 0; k < SIMD; k = k + 1)
            if (k < HALF) begin
                h0a = h0a + {{2{hi_r[17*k+16]}}, hi_r[17*k +: 17]};
                h1a = h1a + {{2{lo_r[17*k+16]}}, lo_r[17*k +: 17]};
            end else begin
                h0b = h0b + {{2{hi_r[17*k+16]}}, hi_r[17*k +: 17]};
                h1b = h1b + {{2{lo_r[17*k+16]}}, lo_r[17*k +: 17]};
            end
    end
    reg signed [18:0] h0a_r, h0b_r, h1a_r, h1b_r;
    reg signed [19:0] sum0_r, sum1_r;
    initial begin
        x_i = {8*SIMD{1'b0}};
        x_p = {8*SIMD{1'b0}};
        hi_r = {17*SIMD{1'b0}};
        lo_r = {17*SIMD{1'b0}};
        {en_i, first_i, en_p, first_p, en_l, first_l, en_h, first_h, en_r, first_r} = 10'd0;
        {bias0_i, bias1_i, bias0_p, bias1_p, bias0_l, bias1_l} = {6{32'sd0}};
        {bias0_h, bias1_h, bias0_r, bias1_r} = {4{32'sd0}};
        {h0a_r, h0b_r, h1a_r, h1b_r} = {4{19'sd0}};
        sum0_r = 20'sd0;
        sum1_r = 20'sd0;
        acc0 = 32'sd0;
        acc1 = 32'sd0;
    end
    (* keep *) always @(posedge clock) begin
        en_i <= en; first_i <= first;
        en_p <= en_i; first_p <= first_i;
        en_l <= en_p; first_l <= first_p;
        en_h <= en_l; first_h <= first_l;
        en_r <= en_h; first_r <= first_h;
    end
    always @(posedge clock) begin
        x_i <= x;
        x_p <= x_i;
        // The biases move on every cycle, but every other stage only with a MAC cycle (the
        // value is used only then): a chain of equal registers becomes a shift register in
        // LUTs (SRL16E, slow to its output), and merged sign bits gave one of them 264 loads.
        bias0_i <= bias0; bias1_i <= bias1;
        if (en_i) begin bias0_p <= bias0_i; bias1_p <= bias1_i; end
        bias0_l <= bias0_p; bias1_l <= bias1_p;
        if (en_l) begin bias0_h <= bias0_l; bias1_h <= bias1_l; end
        bias0_r <= bias0_h; bias1_r <= bias1_h;
        h0a_r <= h0a; h0b_r <= h0b; h1a_r <= h1a; h1b_r <= h1b;
        sum0_r <= {h0a_r[18], h0a_r} + {h0b_r[18], h0b_r};
        sum1_r <= {h1a_r[18], h1a_r} + {h1b_r[18], h1b_r};
        if (en_r) begin
            acc0 <= (first_r ? bias0_r : acc0) + {{12{sum0_r[19]}}, sum0_r};
            acc1 <= (first_r ? bias1_r : acc1) + {{12{sum1_r[19]}}, sum1_r};
        end
    end
endmodule

`default_nettype wire
