// squeezeflow library module (hw/verilog/sqf_mac.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mac: one processing element: SIMD int8 x uint8 products summed into an int32 accumulator.
// Four stages: the inputs are registered (memory outputs do not feed the multipliers
// directly), then the products, then their sum, then acc <= (first ? bias : acc) + sum when
// that cycle's `en` was set.  Latency 4.
module sqf_mac #(
    parameter SIMD = 1                       // products per cycle (input channels in parallel)
) (
    input  wire                 clock,
    input  wire                 en,          // a MAC cycle
    input  wire                 first,       // the first cycle of an output: start from bias
    input  wire [8*SIMD-1:0]    x,           // SIMD unsigned activations, lane l in bits [8l+7:8l]
    input  wire [8*SIMD-1:0]    w,           // SIMD signed weights
    input  wire signed [31:0]   bias,
    output reg  signed [31:0]   acc
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (SIMD < 1) begin : bad_simd
            sqf_mac_SIMD_must_be_at_least_1 bad();
        end
    endgenerate
    reg [8*SIMD-1:0] x_i, w_i;
    reg signed [31:0] bias_i;
    // The control pipeline of every MAC is its own (`keep`): merged, one register would
    // drive the accumulators of every PE of the engine.
    (* keep = "true" *) reg en_i, first_i;
    reg [17*SIMD-1:0] prod_r;                // x*w per lane, 17 bits signed
    reg signed [31:0] bias_p;
    (* keep = "true" *) reg en_p, first_p;
    integer l, m;
    always @(posedge clock)
        for (m = 0; m < SIMD; m = m + 1)
            prod_r[17*m +: 17] <= $signed({1'b0, x_i[8*m +: 8]}) * $signed(w_i[8*m +: 8]);
    reg signed [31:0] sum;
    always @(*) begin
        sum = 32'sd0;
        for (l = 0; l < SIMD; l = l + 1)
            sum = sum + {{15{prod_r[17*l+16]}}, prod_r[17*l +: 17]};
    end
    reg signed [31:0] sum_r, bias_r;
    (* keep = "true" *) reg en_r, first_r;
    initial begin
        x_i = {8*SIMD{1'b0}};
        w_i = {8*SIMD{1'b0}};
        bias_i = 32'sd0;
        en_i = 1'b0;
        first_i = 1'b0;
        prod_r = {17*SIMD{1'b0}};
        bias_p = 32'sd0;
        en_p = 1'b0;
        first_p = 1'b0;
        acc = 32'sd0;
        sum_r = 32'sd0;
        bias_r = 32'sd0;
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
        w_i <= w;
        bias_i <= bias;
        bias_p <= bias_i;
        sum_r <= sum;
        bias_r <= bias_p;
        if (en_r) acc <= (first_r ? bias_r : acc) + sum_r;
    end
endmodule

`default_nettype wire
