// squeezeflow library module (hw/verilog/sqf_mac2.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mac2: two processing elements that share their activations (PE i and i+1 of an engine),
// each lane's two products from ONE multiplier, so one DSP48E1/DSP48E2 does two int8 MACs:
//   a = w0 * 2^17 + (w1 + 128)   (25 bits signed: fits the DSP48E1's A port)
//   p = a * x = w0*x * 2^17 + (w1 + 128)*x, with 0 <= (w1 + 128)*x <= 65025 < 2^17, so
//   w0*x = p >>> 17 exactly, and w1*x = p[16:0] - x*128.
// Four stages as sqf_mac (inputs, products, sums, accumulators): acc0 <= (first ? bias0 :
// acc0) + sum_l x[l]*w0[l], acc1 likewise with w1. Latency 4.
// The packed a is registered as it enters the multiplier (no logic between the register and
// the DSP's A port), and x is (its B register).
module sqf_mac2 #(
    parameter SIMD = 1
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
        if (SIMD < 1) begin : bad_simd
            sqf_mac2_SIMD_must_be_at_least_1 bad();
        end
    endgenerate
    reg [8*SIMD-1:0] x_i;
    reg [25*SIMD-1:0] a_i;                   // the packed weights per lane (A port)
    reg signed [31:0] bias0_i, bias1_i;
    // The control pipeline of every MAC is its own (`keep`): merged, one register would
    // drive the accumulators of every PE of the engine.
    (* keep = "true" *) reg en_i, first_i;
    wire [17*SIMD-1:0] hi;                   // w0*x per lane, 17 bits signed
    wire [17*SIMD-1:0] lo;                   // (w1 + 128)*x per lane, 17 bits unsigned
    genvar l;
    generate
        for (l = 0; l < SIMD; l = l + 1) begin : lane
            always @(posedge clock)
                a_i[25*l +: 25] <= {w0[8*l +: 8], 9'd0, ~w1[8*l+7], w1[8*l +: 7]};
            wire signed [33:0] p = $signed(a_i[25*l +: 25]) * $signed({1'b0, x_i[8*l +: 8]});
            assign hi[17*l +: 17] = p[33:17];
            // (w1 + 128)*x - 128*x = w1*x, 17 bits signed
            assign lo[17*l +: 17] = p[16:0] - {2'd0, x_i[8*l +: 8], 7'd0};
        end
    endgenerate
    reg [17*SIMD-1:0] hi_r, lo_r;            // the two products per lane, registered
    reg signed [31:0] bias0_p, bias1_p;
    (* keep = "true" *) reg en_p, first_p;
    always @(posedge clock) begin
        hi_r <= hi;
        lo_r <= lo;
    end
    integer k;
    reg signed [31:0] sum0, sum1;
    always @(*) begin
        sum0 = 32'sd0;
        sum1 = 32'sd0;
        for (k = 0; k < SIMD; k = k + 1) begin
            sum0 = sum0 + {{15{hi_r[17*k+16]}}, hi_r[17*k +: 17]};
            sum1 = sum1 + {{15{lo_r[17*k+16]}}, lo_r[17*k +: 17]};
        end
    end
    reg signed [31:0] sum0_r, sum1_r, bias0_r, bias1_r;
    (* keep = "true" *) reg en_r, first_r;
    initial begin
        x_i = {8*SIMD{1'b0}};
        a_i = {25*SIMD{1'b0}};
        bias0_i = 32'sd0;
        bias1_i = 32'sd0;
        en_i = 1'b0;
        first_i = 1'b0;
        hi_r = {17*SIMD{1'b0}};
        lo_r = {17*SIMD{1'b0}};
        bias0_p = 32'sd0;
        bias1_p = 32'sd0;
        en_p = 1'b0;
        first_p = 1'b0;
        acc0 = 32'sd0;
        acc1 = 32'sd0;
        sum0_r = 32'sd0;
        sum1_r = 32'sd0;
        bias0_r = 32'sd0;
        bias1_r = 32'sd0;
        en_r = 1'b0;
        first_r = 1'b0;
    end
    (* keep *) always @(posedge clock) begin
        en_i <= en;
        first_i <= first;
        en_p <= en_i;
        first_p <= first_i;
        en_r <= en_p;
        first_r <= first_p;
    end
    always @(posedge clock) begin
        x_i <= x;
        bias0_i <= bias0;
        bias1_i <= bias1;
        bias0_p <= bias0_i;
        bias1_p <= bias1_i;
        sum0_r <= sum0;
        sum1_r <= sum1;
        bias0_r <= bias0_p;
        bias1_r <= bias1_p;
        if (en_r) begin
            acc0 <= (first_r ? bias0_r : acc0) + sum0_r;
            acc1 <= (first_r ? bias1_r : acc1) + sum1_r;
        end
    end
endmodule

`default_nettype wire
