// squeezeflow library module (hw/verilog/sqf_avg_pool.v).
`default_nettype none

// sqf_avg_pool: global average pool and logit requantizer. Sums each of the C = CG * LANES
// channels over PIXELS pixels in int32 (input LANES channels a beat, pixel-major), then drains
// the C sums, one a cycle, through sqf_requant (16-bit output, constant MULT and SHIFT): one
// logit a beat, two lanes (low byte, high byte), tlast on the last logit. The input waits while
// the sums drain. s_tlast is ignored.
// Parameters: LANES >= 1, CG >= 1, PIXELS >= 1, MULT (16 bits), SHIFT (1..47), DEPTH (the
// output FIFO, a power of two >= 2, at least 5 so the pipeline never waits).
// Pipeline: the sum read (row1, every lane's sum of the group), the lane picked into a register
// (r2: the block RAM's output goes straight into a flip-flop, never into the multiplier; on
// ECP5 that path alone took 13 ns), the requantizer's four stages (ROUND_REG: the shifted
// value's facts in registers before the rounding; the 32-bit overflow test's OR tree and the
// rounding in one cycle were 4.03 ns in the XCZU7EV folding): latency, not cycles a frame (the
// input waits only for the last sum's read). With ECP5_MUL the requantizer's operands go into
// the MULT18X18Ds' input registers, a stage more (MUL_IN_REG): the sum's register, a block
// RAM's output register, into the multipliers' unregistered inputs (the multiply in their
// setup, 3.49 ns, after 3.92 ns of routing) was the ULX3S build's critical path (119.6 MHz,
// 2026-12-05).
// Cycles a frame: PIXELS * CG + C + 4 at full rate.
module sqf_avg_pool #(
    parameter LANES = 1,
    parameter CG = 1,
    parameter PIXELS = 1,
    parameter MULT = 1,
    parameter SHIFT = 1,
    parameter DEPTH = 8,
    parameter ECP5_MUL = 0                   // 1: the requantizer's products in MULT18X18Ds
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire [15:0]          m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    generate
        if (LANES < 1 || CG < 1 || PIXELS < 1) begin : bad_shape
            sqf_avg_pool_LANES_CG_PIXELS_must_be_at_least_1 bad();
        end
        if (MULT < 0 || MULT > 65535 || SHIFT < 1 || SHIFT > 47) begin : bad_requant
            sqf_avg_pool_MULT_must_fit_16_bits_SHIFT_be_1_to_47 bad();
        end
        if (DEPTH < 5 + ECP5_MUL) begin : bad_depth
            sqf_avg_pool_DEPTH_must_be_at_least_5_or_6_with_ECP5_MUL bad();
        end
        if (ECP5_MUL != 0 && ECP5_MUL != 1) begin : bad_ecp5_mul
            sqf_avg_pool_ECP5_MUL_must_be_0_or_1 bad();
        end
    endgenerate
    localparam AB = (CG > 1) ? $clog2(CG) : 1;
    localparam CB = $clog2(DEPTH) + 1;
    localparam [15:0] MULT16 = MULT;
    localparam [5:0] SHIFT6 = SHIFT;

    // Counters at the bits they need (32-bit ones, and a division and remainder by LANES, were
    // the block's deepest paths): p < PIXELS, j < CG, and the drained channel dc = dj * LANES
    // + dl as two counters, dl < LANES and dj < CG.
    localparam PB = $clog2(PIXELS + 1), JB = $clog2(CG + 1), LB = $clog2(LANES + 1);
    localparam integer C_PM1 = PIXELS - 1, C_CGM1 = CG - 1, C_LM1 = LANES - 1;
    localparam [PB-1:0] PM1 = C_PM1[PB-1:0];
    localparam [JB-1:0] CGM1 = C_CGM1[JB-1:0];
    localparam [LB-1:0] LM1 = C_LM1[LB-1:0];
    /* verilator lint_off UNUSEDSIGNAL */
    wire [CB-1:0] f_count;                   // committed_r counts it with the pipeline
    /* verilator lint_on UNUSEDSIGNAL */
    reg [PB-1:0] p;
    // p == 0 as a register: the compare in front of the 32 bits' zeroing and the add into the
    // sums' block RAM was 6.55 ns in the XC7A200T network.
    reg p0;
    reg [JB-1:0] j, dj;
    reg [LB-1:0] dl;
    // committed_r: the sums issued and not yet popped from the output FIFO (those in the
    // pipeline and those in the FIFO), one register, so that "room" is its top bit (DEPTH is a
    // power of two): an add of the FIFO's count and the pipeline's, then a compare, after the
    // reset port were the block's deepest path (7.82 ns in the XC7A200T network).
    reg [CB-1:0] committed_r;
    reg drain;                               // draining the sums: the input waits
    assign s_tready = !drain;
    wire fire = s_tvalid && s_tready;
    // Used only out of reset (the reset takes priority in the process below; the drain's read
    // registers may load in a reset cycle, see row1).
    wire issue = drain && !committed_r[CB-1];
    wire f_pop = m_tvalid && m_tready;
    wire dc_last = (dj == CGM1) && (dl == LM1);
    reg signed [31:0] r2;
    reg v1, last1, vr, lastr, vi, lasti, vm, lastm, v2, last2, v3, last3, v4, last4;
    // The beat whose sum is at the products' operands: r2 itself, or with ECP5_MUL the
    // multipliers' input registers a cycle later (vi).
    wire vq = (ECP5_MUL == 1) ? vi : vr;
    wire lastq = (ECP5_MUL == 1) ? lasti : lastr;
    wire [15:0] y3;
    sqf_requant #(.OUT_BITS(16), .ROUND_REG(1), .ECP5_MUL(ECP5_MUL), .MUL_IN_REG(ECP5_MUL)) rq (
        .clock(clock), .acc(r2), .mult(MULT16), .shift(SHIFT6), .y(y3));
    wire [32*LANES-1:0] sums_at_dj;          // every lane's sum of channel group dj
    // The running sums are read a cycle ahead (rd), at j's next value, rd_addr: written as a
    // read of sum[j] in the cycle of the add, Yosys moved j into the read port and emulated a
    // read of the word being written in that cycle, an address compare behind the input's
    // valid and the reset (7.24 ns in the XC7A200T network). With CG >= 2 the word read ahead
    // is never the one written at the same edge (a write moves j on); with CG = 1 the sum is
    // one register, read as it is.
    wire [JB-1:0] j_inc = (j == CGM1) ? {JB{1'b0}} : j + 1'b1;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [JB-1:0] rd_addr = fire ? j_inc : j;  // unused when CG = 1
    /* verilator lint_on UNUSEDSIGNAL */
    // With CG >= 3 the add has a stage of its own: at a fire the sum read ahead (rd, a block
    // RAM's output) and the byte go into registers, the old sum zeroed at a frame's first
    // pixel, and the sum is written a cycle later, at the group fired (wj, with wv): block RAM
    // -> add -> block RAM in one cycle was the average pool's deepest path (5.39 ns on the
    // XCZU7EV, 9.81 ns on ECP5). The word read ahead at an edge is never the one written
    // there, the group fired the cycle before: rd_addr is the group after the current one (a
    // fire) or the current one (none), and both differ from the group before the current one
    // when CG >= 3. With CG = 2 the group after next is the one fired before, so there the
    // add stays in the cycle of the fire. The drain reads no sum written later than the edge
    // after the last fire (the last group is read last, CG - 1 drain cycles on).
    /* verilator lint_off UNUSEDSIGNAL */
    reg wv;                                  // the add stage holds a fired beat (CG >= 3)
    reg [AB-1:0] wj;                         // and its group
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clock) begin
        wv <= fire;
        wj <= j[AB-1:0];
    end
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            // No read of the sums ever meets a write of the same word at the same edge (see
            // above; the drain reads while no beat is taken), so Yosys need not emulate one:
            // on ECP5 it did, with a register of the word written and an address compare in
            // front of the read's register (9.92 ns).
            (* no_rw_check *) reg signed [31:0] sum [0:CG-1];
            wire [7:0] byte_in = s_tdata[8*l +: 8];
            if (CG == 1) begin : one
                always @(posedge clock)
                    if (fire) sum[0] <= (p0 ? 32'sd0 : sum[0]) + $signed({24'd0, byte_in});
            end else if (CG == 2) begin : ahead
                reg signed [31:0] rd;
                always @(posedge clock) begin
                    rd <= sum[rd_addr[AB-1:0]];
                    if (fire) sum[j[AB-1:0]] <= (p0 ? 32'sd0 : rd) + $signed({24'd0, byte_in});
                end
            end else begin : staged
                reg signed [31:0] rd, old_r;
                reg [7:0] byte_r;
                always @(posedge clock) begin
                    rd <= sum[rd_addr[AB-1:0]];
                    old_r <= p0 ? 32'sd0 : rd;
                    byte_r <= byte_in;
                    if (wv) sum[wj] <= old_r + $signed({24'd0, byte_r});
                end
            end
            assign sums_at_dj[32*l +: 32] = sum[dj[AB-1:0]];
        end
    endgenerate
    // The drain reads every lane's sum of group dj into row1 (a block RAM's own read register
    // when the sums are in block RAM), and the lane dl1 is picked between row1 and r2. Picked
    // in front of the read's register, Yosys moved dj into the read port as its next value,
    // the reset and the issue decision included, and the pick after it (5.83 ns, the
    // XCZU7EV's average pool).
    // row1, dl1 and r2 take no reset: their words count only with v1 and the flags after it,
    // which the reset clears.
    reg [32*LANES-1:0] row1;
    reg [LB-1:0] dl1;
    reg signed [31:0] picked;                // the sum of channel dc, from row1
    integer k;
    always @(*) begin
        picked = 32'sd0;
        for (k = 0; k < LANES; k = k + 1)
            if ({{(32-LB){1'b0}}, dl1} == k) picked = row1[32*k +: 32];
    end
    always @(posedge clock) begin
        if (issue) begin
            row1 <= sums_at_dj;
            dl1 <= dl;
        end
        r2 <= picked;
    end
    sqf_out_fifo #(.LANES(2), .DEPTH(DEPTH)) f (
        .clock(clock), .reset(reset), .push(v4), .din(y3), .last_in(last4), .count(f_count),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));
    always @(posedge clock) begin
        if (reset) begin
            p <= 0; p0 <= 1; j <= 0; dl <= 0; dj <= 0; drain <= 0; committed_r <= 0;
            v1 <= 0; vr <= 0; vi <= 0; vm <= 0; v2 <= 0; v3 <= 0; v4 <= 0;
            last1 <= 0; lastr <= 0; lasti <= 0; lastm <= 0; last2 <= 0; last3 <= 0; last4 <= 0;
        end else begin
            v4 <= v3; last4 <= last3;
            v3 <= v2; last3 <= last2;
            v2 <= vm; last2 <= lastm;
            vm <= vq; lastm <= lastq;
            vi <= vr; lasti <= lastr;
            vr <= v1; lastr <= last1;
            v1 <= issue;
            committed_r <= committed_r + {{(CB-1){1'b0}}, issue} - {{(CB-1){1'b0}}, f_pop};
            if (issue) begin
                last1 <= dc_last;
                if (dc_last) begin dl <= 0; dj <= 0; drain <= 0; end
                else if (dl == LM1) begin dl <= 0; dj <= dj + 1'b1; end
                else dl <= dl + 1'b1;
            end
            if (fire) begin
                j <= j_inc;
                if (j == CGM1) begin
                    if (p == PM1) begin p <= 0; drain <= 1; end else p <= p + 1'b1;
                    p0 <= (p == PM1);
                end
            end
        end
    end
endmodule

`default_nettype wire
