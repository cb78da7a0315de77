// squeezeflow library module (hw/verilog/sqf_mac.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_mac: one processing element: SIMD int8 x uint8 products summed into an int32 accumulator.
// Six stages, as sqf_mac2's: the inputs are registered (memory outputs do not feed the
// multipliers directly), then the products, then again (sqf_mac2 splits its two products
// there; the same latency keeps one controller for both), then two sums of at most four lanes,
// then their sum, then acc <= (first ? bias : acc) + sum when that cycle's `en` was set.
// Latency 6. With ECP5_MUL = 1 each lane is an ECP5 MULT18X18D with its input and output
// registers behind the operands' fabric registers (sqf_mul_ecp5 DSP_IN_REG, latency 3): a
// stage more (x, between the inputs' and the products'), latency 7 (sqf_conv_ctrl MAC_LAT);
// the arithmetic is the same. Every route to and from a multiplier then runs between
// registers: from a weight ROM's block RAM across the chip into the multiplier's input
// registers, and from its product register to the lane register. With X_LATE = 1 (ECP5_MUL
// only) x arrives a cycle after en, first, w and bias, which wait a register (stage y, in
// front of everything): the line buffer's word read at a register's address into the block
// RAM's output register (sqf_conv_ctrl LB_REG 2); latency 8 from en (MAC_LAT 8).
module sqf_mac #(
    parameter SIMD = 1,                      // products per cycle (input channels in parallel)
    parameter ECP5_MUL = 0,                  // 1: the lanes in MULT18X18Ds (sqf_mul_ecp5)
    parameter DSP48E2 = 0,                   // 1: each product in a DSP48E2's P register
    parameter X_LATE = 0                     // 1: x a cycle after the other inputs (ECP5_MUL)
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
        if (SIMD < 1 || SIMD > 8) begin : bad_simd
            sqf_mac_SIMD_must_be_1_to_8 bad();
        end
        if ((ECP5_MUL != 0 && ECP5_MUL != 1) || (DSP48E2 != 0 && DSP48E2 != 1)
            || (ECP5_MUL == 1 && DSP48E2 == 1)) begin : bad_mul
            sqf_mac_ECP5_MUL_or_DSP48E2_one_of_them_0_or_1 bad();
        end
        if ((X_LATE != 0 && X_LATE != 1) || (X_LATE == 1 && ECP5_MUL != 1)) begin : bad_x_late
            sqf_mac_X_LATE_0_or_1_and_1_needs_ECP5_MUL bad();
        end
    endgenerate
    // The inputs the MAC takes with x: en, first, w and bias, or (X_LATE) their registers.
    wire en_y, first_y;
    wire [8*SIMD-1:0] w_y;
    wire signed [31:0] bias_y;
    generate
        if (X_LATE == 1) begin : stage_y
            (* keep = "true" *) reg en_q, first_q;
            reg [8*SIMD-1:0] w_q;
            reg signed [31:0] bias_q;
            initial begin
                {en_q, first_q} = 2'd0;
                w_q = {8*SIMD{1'b0}};
                bias_q = 32'sd0;
            end
            (* keep *) always @(posedge clock) begin
                en_q <= en; first_q <= first;
            end
            always @(posedge clock) begin
                w_q <= w;
                bias_q <= bias;
            end
            assign en_y = en_q;
            assign first_y = first_q;
            assign w_y = w_q;
            assign bias_y = bias_q;
        end else begin : no_y
            assign en_y = en;
            assign first_y = first;
            assign w_y = w;
            assign bias_y = bias;
        end
    endgenerate
    // The control pipeline of every MAC is its own (`keep`): merged, one register would
    // drive the accumulators of every PE of the engine.
    (* keep = "true" *) reg en_i, first_i, en_p, first_p, en_l, first_l, en_h, first_h;
    (* keep = "true" *) reg en_r, first_r;
    reg signed [31:0] bias_i, bias_p, bias_l, bias_h, bias_r;
    wire [17*SIMD-1:0] prod;                 // x*w per lane, 17 bits signed, 2 (3) cycles on
    reg [17*SIMD-1:0] lane_r;
    genvar g;
    generate
        if (ECP5_MUL == 1) begin : ecp5
            for (g = 0; g < SIMD; g = g + 1) begin : lane
                sqf_mul_ecp5 #(.AW(8), .BW(8), .IN_REG(1), .DSP_IN_REG(1)) mul (
                    .clock(clock), .a(x[8*g +: 8]), .b(w_y[8*g +: 8]), .p(prod[17*g +: 17])
                );
            end
        end else begin : fabric
            reg [8*SIMD-1:0] x_i, w_i;
            initial begin
                x_i = {8*SIMD{1'b0}};
                w_i = {8*SIMD{1'b0}};
            end
            always @(posedge clock) begin
                x_i <= x;
                w_i <= w_y;
            end
            if (DSP48E2 == 1) begin : dsp
                // The product register in the DSP48E2 (sqf_mul_dsp48e2, as sqf_mac2's): a
                // DSP48E2 between fabric registers, its multiplier unregistered, was the
                // XCZU7EV folding's deepest path in an odd PE's sqf_mac (4.05 ns).
                for (g = 0; g < SIMD; g = g + 1) begin : lane
                    sqf_mul_dsp48e2 #(.AW(9), .BW(8)) mul (
                        .clock(clock), .a({1'b0, x_i[8*g +: 8]}), .b(w_i[8*g +: 8]),
                        .p(prod[17*g +: 17])
                    );
                end
            end else begin : lut
                reg [17*SIMD-1:0] prod_r;
                integer m;
                initial prod_r = {17*SIMD{1'b0}};
                always @(posedge clock)
                    for (m = 0; m < SIMD; m = m + 1)
                        prod_r[17*m +: 17] <= $signed({1'b0, x_i[8*m +: 8]})
                            * $signed(w_i[8*m +: 8]);
                assign prod = prod_r;
            end
        end
    endgenerate
    always @(posedge clock) lane_r <= prod;
    localparam HALF = (SIMD + 1) / 2;
    integer k;
    reg signed [18:0] ha, hb;
    always @(*) begin
        ha = 19'sd0; hb = 19'sd0;
        for (k = 0; k < SIMD; k = k + 1)
            if (k < HALF) ha = ha + {{2{lane_r[17*k+16]}}, lane_r[17*k +: 17]};
            else hb = hb + {{2{lane_r[17*k+16]}}, lane_r[17*k +: 17]};
    end
    reg signed [18:0] ha_r, hb_r;
    reg signed [19:0] sum_r;
    initial begin
        lane_r = {17*SIMD{1'b0}};
        {en_i, first_i, en_p, first_p, en_l, first_l, en_h, first_h, en_r, first_r} = 10'd0;
        {bias_i, bias_p, bias_l, bias_h, bias_r} = {5{32'sd0}};
        ha_r = 19'sd0;
        hb_r = 19'sd0;
        sum_r = 20'sd0;
        acc = 32'sd0;
    end
    // With ECP5_MUL, stage x between i and p (the multipliers' input registers).
    wire en_ix, first_ix;
    wire signed [31:0] bias_ix;
    generate
        if (ECP5_MUL == 1) begin : stage_x
            (* keep = "true" *) reg en_x, first_x;
            reg signed [31:0] bias_x;
            initial begin
                {en_x, first_x} = 2'd0;
                bias_x = 32'sd0;
            end
            (* keep *) always @(posedge clock) begin
                en_x <= en_i; first_x <= first_i;
            end
            always @(posedge clock) bias_x <= bias_i;
            assign en_ix = en_x;
            assign first_ix = first_x;
            assign bias_ix = bias_x;
        end else begin : no_x
            assign en_ix = en_i;
            assign first_ix = first_i;
            assign bias_ix = bias_i;
        end
    endgenerate
    (* keep *) always @(posedge clock) begin
        en_i <= en_y; first_i <= first_y;
        en_p <= en_ix; first_p <= first_ix;
        en_l <= en_p; first_l <= first_p;
        en_h <= en_l; first_h <= first_l;
        en_r <= en_h; first_r <= first_h;
    end
    always @(posedge clock) begin
        // Every other stage of the bias moves only with a MAC cycle (see sqf_mac2).
        bias_i <= bias_y;
        if (en_ix) bias_p <= bias_ix;
        bias_l <= bias_p;
        if (en_l) bias_h <= bias_l;
        bias_r <= bias_h;
        ha_r <= ha;
        hb_r <= hb;
        sum_r <= {ha_r[18], ha_r} + {hb_r[18], hb_r};
        if (en_r) acc <= (first_r ? bias_r : acc) + {{12{sum_r[19]}}, sum_r};
    end
endmodule

`default_nettype wire
