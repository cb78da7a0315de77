// squeezeflow library module (hw/verilog/sqf_max_pool.v).
`default_nettype none

// sqf_max_pool: 3x3 stride-2 max pool with ceil mode (SqueezeNet's pools), fully streaming.
// Input: an H x W map of CG * LANES channels, pixel-major, channel-minor, LANES channels a beat.
// Output: the HO x WO map, same order; tlast on the frame's last beat (s_tlast is ignored).
// Holds a partial horizontal maximum per channel group (hp) and a partial vertical maximum per
// output column and channel group (vm): (WO + 1) * CG * LANES bytes.
// Parameters: LANES >= 1, H, W >= 3, CG >= 1, HO = ceil((H - 3) / 2) + 1, likewise WO; DEPTH
// (the output FIFO, a power of two >= 2).
// Throughput one input beat a cycle; an output beat leaves three cycles after the input beat
// that completes it (the data path's three stages, below).
module sqf_max_pool #(
    parameter LANES = 1,
    parameter H = 3,
    parameter W = 3,
    parameter CG = 1,
    parameter HO = 1,
    parameter WO = 1,
    parameter DEPTH = 4
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    generate
        if (H < 3 || W < 3 || CG < 1 || LANES < 1) begin : bad_shape
            sqf_max_pool_H_W_must_be_at_least_3_CG_LANES_at_least_1 bad();
        end
        if (HO != (H - 2) / 2 + 1 || WO != (W - 2) / 2 + 1) begin : bad_output
            sqf_max_pool_HO_WO_must_be_the_ceil_mode_3x3_stride_2_output bad();
        end
    endgenerate
    localparam AB_H = (CG > 1) ? $clog2(CG) : 1;           // hp address bits
    localparam AB_V = (WO * CG > 1) ? $clog2(WO * CG) : 1; // vm address bits
    localparam CB = $clog2(DEPTH) + 1;

    // Counters and positions at the bits the geometry needs (32-bit ones were the block's
    // deepest paths): x < W, y < H, j < CG; hox < WO, or all ones (-1) at x = 0, where nothing
    // is emitted; the vm address hox * CG + j modulo 2^AB_V.
    localparam XB = $clog2(W + 1), YB = $clog2(H + 1), JB = $clog2(CG + 1);
    localparam OXB = $clog2(WO + 1);
    localparam integer C_WM1 = W - 1, C_HM1 = H - 1, C_CGM1 = CG - 1;
    localparam integer C_WOM1 = WO - 1;
    localparam [XB-1:0] WM1 = C_WM1[XB-1:0];
    localparam [YB-1:0] HM1 = C_HM1[YB-1:0];
    localparam [JB-1:0] CGM1 = C_CGM1[JB-1:0];
    localparam [OXB-1:0] WOM1 = C_WOM1[OXB-1:0];
    localparam integer C_X2WO = 2 * WO, C_Y2HO = 2 * HO;
    localparam [XB-1:0] X2WO = C_X2WO[XB-1:0];
    localparam [YB-1:0] Y2HO = C_Y2HO[YB-1:0];
    wire [CB-1:0] f_count;
    reg [XB-1:0] x;
    reg [YB-1:0] y;
    reg [JB-1:0] j;
    wire fire = s_tvalid && s_tready;
    // Where the counters go this cycle out of reset. The reset sets the counters and the
    // registers computed from their next values in a branch of its own (to their values at
    // 0): inside the next values, the reset port's thousands of loads led the flags' paths.
    wire j_wrap = (j == CGM1);
    // x + 1 and y + 1 are held in x_p1 and y_p1 (an add in front of the next column's flags
    // was the pools' deepest path once the data path was cut).
    localparam [XB-1:0] X1 = 1;
    localparam [YB-1:0] Y1 = 1;
    reg [XB-1:0] x_p1;
    reg [YB-1:0] y_p1;
    wire [XB-1:0] x_adv = (x == WM1) ? {XB{1'b0}} : x_p1;
    wire [YB-1:0] y_adv = (x == WM1) ? ((y == HM1) ? {YB{1'b0}} : y_p1) : y;
    wire [XB-1:0] x_n = (fire && j_wrap) ? x_adv : x;
    wire [YB-1:0] y_n = (fire && j_wrap) ? y_adv : y;
    wire [JB-1:0] j_n = !fire ? j : j_wrap ? {JB{1'b0}} : j + 1'b1;
    // What follows from the counters, held in registers computed from their next values (from
    // the counters themselves, the vm address and the emit decisions were the block's deepest
    // paths): the column and row are even (xeven, yeven), the beat completes a horizontal
    // maximum (h_emit) or an output (v_emit), the vm address va = hox * CG + j (one more
    // along a pixel's channel groups), and the output is the frame's last pixel (at_last).
    function [OXB-1:0] hox_of(input [XB-1:0] xx);
        /* verilator lint_off WIDTH */
        hox_of = !xx[0] ? (xx >> 1) - 1'b1 : WOM1;
        /* verilator lint_on WIDTH */
    endfunction
    function h_emit_of(input [XB-1:0] xx);
        h_emit_of = (xx != 0) && (!xx[0] || (xx == WM1));
    endfunction
    function [AB_V-1:0] times_cg(input [OXB-1:0] a);
        integer b;
        begin
            times_cg = {AB_V{1'b0}};
            /* verilator lint_off WIDTH */
            for (b = 0; b < AB_V && b < 31; b = b + 1)
                if (((CG >> b) & 1) != 0) times_cg = times_cg + (a << b);
            /* verilator lint_on WIDTH */
        end
    endfunction
    reg xeven, yeven, h_emit, v_emit, at_last;
    reg [AB_V-1:0] va;
    // A new column's vm address without arithmetic on x in front of va: column 0 and the odd
    // columns have constant ones (hox all ones, or WO - 1), and the even columns' go up by CG
    // from one to the next, held ahead in ev_next_r (x -> its half -> x CG was the block's
    // deepest path, docs/timing.md).
    localparam integer C_CG = CG;
    localparam [AB_V-1:0] VA_COL0 = times_cg(hox_of({XB{1'b0}})), VA_ODD = times_cg(WOM1);
    localparam [AB_V-1:0] CG_V = C_CG[AB_V-1:0];
    reg [AB_V-1:0] ev_next_r;
    wire [AB_V-1:0] va_col = (x == WM1) ? VA_COL0 : !x[0] ? VA_ODD : ev_next_r;
    wire [AB_V-1:0] va_n = !fire ? va : j_wrap ? va_col : va + 1'b1;
    always @(posedge clock)
        if (reset || (fire && j_wrap && x == WM1)) ev_next_r <= {AB_V{1'b0}};
        else if (fire && j_wrap && x[0]) ev_next_r <= ev_next_r + CG_V;
    always @(posedge clock) begin
        if (reset) begin
            xeven <= 1'b1; yeven <= 1'b1; h_emit <= 1'b0; v_emit <= 1'b0; at_last <= 1'b0;
            va <= VA_COL0;
        end else begin
            // The flags are functions of x and y alone, so they change only when the counters
            // move on, and then to their values at x_adv and y_adv, which come from registers:
            // the compares no longer wait for fire (through x_n and y_n they followed the
            // input's valid and ready, the ECP5 model's deepest path in pool1, 9.67 ns).
            if (fire && j_wrap) begin
                xeven <= !x_adv[0];
                yeven <= !y_adv[0];
                h_emit <= h_emit_of(x_adv);
                v_emit <= h_emit_of(x_adv) && (y_adv != 0) && (!y_adv[0] || (y_adv == HM1));
                // hox_of(x) == WO - 1 exactly when x is odd or x == 2 * WO (likewise for y),
                // so no subtract sits in front of at_last (pool3's deepest path, 8.51 ns).
                at_last <= (y_adv[0] || (y_adv == Y2HO)) && (x_adv[0] || (x_adv == X2WO));
            end
            va <= va_n;
        end
    end
    // The data path in three stages, so that vm's read goes straight into a flip-flop (a block
    // RAM read without its output register, then the compares, was the network's deepest path
    // on the XC7A200T and the ECP5, docs/timing.md):
    // - stage 0, the cycle a beat is taken: hp's read into hpo1, and vm's read at va into vq
    //   (read-first: a write at the same edge is not seen);
    // - stage 1: the horizontal maximum hmax1 from hpo1 and din1, and hp's write (below); vq
    //   into vq2 (a block RAM's output register, or a flip-flop after LUT RAM);
    // - stage 2: the vertical maximum vmax from vq2 and hmax2, the push into the output FIFO,
    //   and vm's write (hmax2 on even rows, vmax on the others).
    // The stages move every cycle; we/push/last/ye/a carry a beat's facts along them.
    reg we1, we2, push1, push2, last1, last2, ye1, ye2;
    reg [AB_V-1:0] a1, a2;
    always @(posedge clock) begin
        we1 <= !reset && fire && h_emit;
        push1 <= !reset && fire && v_emit;
        last1 <= at_last && j_wrap;
        ye1 <= yeven;
        a1 <= va;
        we2 <= !reset && we1;
        push2 <= !reset && push1;
        last2 <= last1;
        ye2 <= ye1;
        a2 <= a1;
    end
    // Room in the output FIFO counts the beats in stages 1 and 2 that will push: a beat taken
    // now pushes two cycles later. Registers only, so no path from the consumer's ready.
    // f_count + push1 + push2 < DEPTH as compares with constants (DEPTH is a power of two and
    // the count at most DEPTH): an adder there was the block's deepest path, into fire.
    localparam integer C_DM1 = DEPTH - 1, C_DM2 = DEPTH - 2;
    localparam [CB-1:0] DM1 = C_DM1[CB-1:0], DM2 = C_DM2[CB-1:0];
    assign s_tready = !f_count[CB-1] && !((push1 || push2) && f_count == DM1)
        && !(push1 && push2 && f_count == DM2);
    // vm needs no bypass: a beat's read misses only the write made at the same edge, by the
    // beat taken two cycles before it, and an address comes back only after a row, W * CG >= 3
    // beats (the beat taken three cycles before has written at the edge before the read).
    // With rows of 4 beats or more (every network's pools) the write is a stage later still,
    // from registers (we3, a3, and wd3 from the vertical maximum): the compare in front of
    // the block RAM's data pins was among the ULX3S build's late paths (8.4 to 8.6 ns, one
    // long route after the compare, 2026-12-04). Its word is read again W * CG >= 4 beats
    // after the beat that wrote it, so at the fourth edge or later: after the write.
    localparam LATE_W = (W * CG >= 4);
    // hp is written a cycle late, from registers (hw_pend, hw_a, and hw_d from xe1, din1 and
    // hmax1): its read, the compare and the selects in front of its write were pool3's deepest
    // path. A channel group's word is read again CG beats later, so only with CG == 1 can a
    // read meet the pending write; then the pending word is taken.
    reg hw_pend, xe1;
    reg [AB_H-1:0] hw_a;
    always @(posedge clock) begin
        hw_pend <= fire;
        xe1 <= xeven;
        hw_a <= j[AB_H-1:0];
    end
    wire [8*LANES-1:0] vmax_all;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            reg [7:0] hp [0:CG-1];
            // no_rw_check: the reads used never meet a write of their word (above), so
            // Yosys puts no bypass between a block RAM's read and vq2, which then becomes its
            // output register on ECP5 (hw/src/ecp5_outreg.rs).
            (* no_rw_check *) reg [7:0] vm [0:WO*CG-1];
            wire [7:0] din = s_tdata[8*l +: 8];
            // hp's word and the input go into registers (hpo1, din1) and the horizontal maximum
            // hmax1 is formed from them a cycle later: the LUT RAM read, then the compare, in
            // one cycle was the 6-bit fit's pool3 path (6.75 ns on the XC7A200T).
            // hp's pending word: xeven ? din : hmax, a cycle later.
            reg [7:0] din1, hpo1;
            wire [7:0] hmax1 = (hpo1 > din1) ? hpo1 : din1;
            wire [7:0] hw_d = xe1 ? din1 : hmax1;
            wire [7:0] hpo = (CG == 1 && hw_pend) ? hw_d : hp[j[AB_H-1:0]];
            reg [7:0] hmax2, vq, vq2;
            wire [7:0] vmax = (vq2 > hmax2) ? vq2 : hmax2;
            wire [7:0] wdata = ye2 ? hmax2 : vmax;
            always @(posedge clock) begin
                din1 <= din;
                hpo1 <= hpo;
                if (hw_pend) hp[hw_a] <= hw_d;
            end
            always @(posedge clock) begin
                hmax2 <= hmax1;
                vq <= vm[va];
                vq2 <= vq;
            end
            if (LATE_W) begin : late_w
                reg we3;
                reg [AB_V-1:0] a3;
                reg [7:0] wd3;
                always @(posedge clock) begin
                    we3 <= !reset && we2;
                    a3 <= a2;
                    wd3 <= wdata;
                    if (we3) vm[a3] <= wd3;
                end
            end else begin : now_w
                always @(posedge clock) if (we2) vm[a2] <= wdata;
            end
            assign vmax_all[8*l +: 8] = vmax;
        end
    endgenerate
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) f (
        .clock(clock), .reset(reset), .push(push2), .din(vmax_all),
        .last_in(last2), .count(f_count),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));
    always @(posedge clock) begin
        if (reset) begin
            x <= {XB{1'b0}}; y <= {YB{1'b0}}; j <= {JB{1'b0}}; x_p1 <= X1; y_p1 <= Y1;
        end else begin
            x <= x_n;
            // x_n + 1 and y_n + 1, with the adds on x_p1 and y_p1 themselves (beside fire,
            // not after it)
            x_p1 <= (fire && j_wrap) ? ((x == WM1) ? X1 : x_p1 + 1'b1) : x_p1;
            y_p1 <= (fire && j_wrap && x == WM1) ? ((y == HM1) ? Y1 : y_p1 + 1'b1) : y_p1;
            y <= y_n;
            j <= j_n;
        end
    end
endmodule

`default_nettype wire
