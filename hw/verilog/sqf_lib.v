// squeezeflow primitive library: the leaf blocks every generated engine instantiates.
// Each module here has a Rust model in hw/src/leaf.rs, and tests run the two against each other.
// The arithmetic is the int8 contract of model/src/quant.rs; keep the two in step.

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
    reg [8*SIMD-1:0] x_i, w_i;
    reg signed [31:0] bias_i;
    reg en_i, first_i;
    reg [17*SIMD-1:0] prod_r;                // x*w per lane, 17 bits signed
    reg signed [31:0] bias_p;
    reg en_p, first_p;
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
    reg en_r, first_r;
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
    always @(posedge clock) begin
        x_i <= x;
        w_i <= w;
        bias_i <= bias;
        en_i <= en;
        first_i <= first;
        bias_p <= bias_i;
        en_p <= en_i;
        first_p <= first_i;
        sum_r <= sum;
        bias_r <= bias_p;
        en_r <= en_p;
        first_r <= first_p;
        if (en_r) acc <= (first_r ? bias_r : acc) + sum_r;
    end
endmodule

// sqf_mac2: two processing elements that share their activations (PE i and i+1 of an engine),
// each lane's two products from ONE multiplier, so one DSP48E1/DSP48E2 does two int8 MACs:
//   a = w0 * 2^17 + (w1 + 128)   (25 bits signed: fits the DSP48E1's A port)
//   p = a * x = w0*x * 2^17 + (w1 + 128)*x, with 0 <= (w1 + 128)*x <= 65025 < 2^17, so
//   w0*x = p >>> 17 exactly, and w1*x = p[16:0] - x*128.
// Four stages as sqf_mac (inputs, products, sums, accumulators): acc0 <= (first ? bias0 :
// acc0) + sum_l x[l]*w0[l], acc1 likewise with w1. Latency 4.
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
    reg [8*SIMD-1:0] x_i, w0_i, w1_i;
    reg signed [31:0] bias0_i, bias1_i;
    reg en_i, first_i;
    wire [17*SIMD-1:0] hi;                   // w0*x per lane, 17 bits signed
    wire [17*SIMD-1:0] lo;                   // (w1 + 128)*x per lane, 17 bits unsigned
    genvar l;
    generate
        for (l = 0; l < SIMD; l = l + 1) begin : lane
            wire signed [24:0] a = {w0_i[8*l +: 8], 9'd0, ~w1_i[8*l+7], w1_i[8*l +: 7]};
            wire signed [33:0] p = a * $signed({1'b0, x_i[8*l +: 8]});
            assign hi[17*l +: 17] = p[33:17];
            // (w1 + 128)*x - 128*x = w1*x, 17 bits signed
            assign lo[17*l +: 17] = p[16:0] - {2'd0, x_i[8*l +: 8], 7'd0};
        end
    endgenerate
    reg [17*SIMD-1:0] hi_r, lo_r;            // the two products per lane, registered
    reg signed [31:0] bias0_p, bias1_p;
    reg en_p, first_p;
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
    reg en_r, first_r;
    initial begin
        x_i = {8*SIMD{1'b0}};
        w0_i = {8*SIMD{1'b0}};
        w1_i = {8*SIMD{1'b0}};
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
    always @(posedge clock) begin
        x_i <= x;
        w0_i <= w0;
        w1_i <= w1;
        bias0_i <= bias0;
        bias1_i <= bias1;
        en_i <= en;
        first_i <= first;
        bias0_p <= bias0_i;
        bias1_p <= bias1_i;
        en_p <= en_i;
        first_p <= first_i;
        sum0_r <= sum0;
        sum1_r <= sum1;
        bias0_r <= bias0_p;
        bias1_r <= bias1_p;
        en_r <= en_p;
        first_r <= first_p;
        if (en_r) begin
            acc0 <= (first_r ? bias0_r : acc0) + sum0_r;
            acc1 <= (first_r ? bias1_r : acc1) + sum1_r;
        end
    end
endmodule

// sqf_requant: y = clamp((acc * mult + 2^(shift-1)) >>> shift, 0, 2^OUT_BITS - 1).
// mult is unsigned 16-bit, shift 1..47, the product 49-bit signed. Three stages (the product,
// the rounding add, the shift and clamp): latency 3, no stalls.
module sqf_requant #(
    parameter OUT_BITS = 8                   // 8 for activations, 16 for logits
) (
    input  wire                 clock,
    input  wire signed [31:0]   acc,
    input  wire [15:0]          mult,
    input  wire [5:0]           shift,
    output reg  [OUT_BITS-1:0]  y
);
    reg signed [48:0] m;
    reg [5:0] shm;
    reg signed [48:0] p;
    reg [5:0] sh;
    wire signed [48:0] q = p >>> sh;
    initial begin
        m = 49'sd0;
        shm = 6'd1;
        p = 49'sd0;
        sh = 6'd1;
        y = {OUT_BITS{1'b0}};
    end
    always @(posedge clock) begin
        m  <= acc * $signed({1'b0, mult});
        shm <= shift;
        p  <= m + (49'sd1 <<< (shm - 6'd1));
        sh <= shm;
        y  <= q[48] ? {OUT_BITS{1'b0}}
            : (|q[47:OUT_BITS]) ? {OUT_BITS{1'b1}}
            : q[OUT_BITS-1:0];
    end
endmodule

// sqf_rom: a read-only memory initialised from a $readmemh file (relative to the tool's working
// directory, which for a bundle is the bundle directory). Synchronous read, latency 1.
module sqf_rom #(
    parameter WIDTH = 8,                     // bits per word
    parameter DEPTH = 1,                     // words
    parameter ABITS = 1,                     // address bits, at least clog2(DEPTH)
    parameter FILE  = "rom.mem"              // one hexadecimal word per line
) (
    input  wire              clock,
    input  wire [ABITS-1:0]  addr,
    output reg  [WIDTH-1:0]  data
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial begin
        $readmemh(FILE, mem);
        data = {WIDTH{1'b0}};
    end
    always @(posedge clock)
        data <= mem[addr];
endmodule

// sqf_rom_lut: sqf_rom in LUTs rather than block RAM (a weight ROM the fit moved out of block
// RAM). Yosys reads rom_style = "logic"; for Vivado write rom_style = "distributed".
module sqf_rom_lut #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1,
    parameter FILE  = "rom.mem"
) (
    input  wire              clock,
    input  wire [ABITS-1:0]  addr,
    output reg  [WIDTH-1:0]  data
);
    (* rom_style = "logic" *) reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial begin
        $readmemh(FILE, mem);
        data = {WIDTH{1'b0}};
    end
    always @(posedge clock)
        data <= mem[addr];
endmodule

// sqf_ram: simple dual-port RAM (one write port, one read port), synchronous read, latency 1.
module sqf_ram #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1
) (
    input  wire              clock,
    input  wire              we,
    input  wire [ABITS-1:0]  waddr,
    input  wire [WIDTH-1:0]  wdata,
    input  wire [ABITS-1:0]  raddr,
    output reg  [WIDTH-1:0]  rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial rdata = {WIDTH{1'b0}};
    always @(posedge clock) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule

`default_nettype wire
