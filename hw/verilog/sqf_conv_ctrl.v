// squeezeflow library module (hw/verilog/sqf_conv_ctrl.v).
`default_nettype none

// sqf_conv_ctrl: the control of a convolution engine and its line buffer. The engine computes
// a KxK stride-STRIDE convolution with PAD zero padding of an H x W map of CG * SIMD channels
// into HO x WO x (OG * PE) outputs; the PEs' memories, MACs and requantizer chains are
// instantiated beside it (sqf_rom / sqf_rom_lut / sqf_wmem_loaded, sqf_mac / sqf_mac2,
// sqf_conv_chain) and driven by its outputs.
//  - Writer: input beats (SIMD channels) go into a line buffer of LB_ROWS rows (sqf_ram).
//  - Issuer: one MAC cycle a cycle in the order (oy, ox, g, ky, kx, j) when the window's rows
//    are in the buffer and the output FIFO has room for the group (credits); a padded tap
//    reads zeros (x1).
//  - The pipeline: issue -> (x1, mac_en, mac_first) -> MAC_LAT MAC stages -> hold (the PEs'
//    accumulators into the chains' hold registers) -> the chains' SHARE requantizer steps
//    (pa_next: the requantizer parameter word, read one step ahead) -> out_en -> push.
//  - The output FIFO's pointers and tlast; the data slots are in the chains.
// Ports: s_* the input stream; m_tvalid/m_tlast/m_tready the output stream's control (its data
// comes from the chains' FIFO slots at fifo_head); the datapath controls above.
// Parameters: K, STRIDE, PAD (PAD < K), H, W, HO, WO, CG, OG, SIMD (1..8), SHARE (PEs per
// requantizer), LB_ROWS (a power of two >= 2), FIFO_DEPTH (a power of two).
// Throughput: one MAC cycle a cycle; the latency from a group's last MAC cycle to its beat at
// the FIFO head is 6 + MAC_LAT + RQ_IN + SHARE cycles (hw/src/conv/geom.rs models it for the
// cycle estimate).
module sqf_conv_ctrl #(
    parameter K = 1,
    parameter STRIDE = 1,
    parameter PAD = 0,
    parameter H = 1,
    parameter W = 1,
    parameter HO = 1,
    parameter WO = 1,
    parameter CG = 1,
    parameter OG = 1,
    parameter SIMD = 1,
    parameter SHARE = 1,
    parameter LB_ROWS = 2,
    parameter FIFO_DEPTH = 16,
    // Derived (pass the defaults' values; checked below).
    parameter AB_W = 1,                      // weight memory address bits
    parameter AB_P = 1,                      // bias ROM address bits (the output group)
    parameter AB_Q = 1,                      // requantizer parameter ROM address bits
    parameter FB = 4,                        // FIFO pointer bits
    // 1: the line buffer is read a cycle early and its word registered (x1 below): for ECP5,
    // where that register becomes the block RAM's output register. Needs K > 1 or W * CG > 1.
    // 2: read at the tap's address register and its word registered, x1 a cycle after
    // mac_en (the MACs wait for it: MAC_LAT 8).
    parameter LB_REG = 0,
    // The PEs' MAC latency: 6 (sqf_mac, sqf_mac2), 7 (sqf_mac with ECP5_MUL: its
    // multipliers' input registers), a stage more between b and p below, or 8 (and X_LATE:
    // its other inputs wait for x1 a register), two stages more.
    parameter MAC_LAT = 6,
    // 1: the requantizers' multipliers take their operands into input registers (sqf_conv_chain
    // MUL_IN_REG), a stage (i) between h and m below.
    parameter RQ_IN = 0
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*SIMD-1:0]    s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready,
    output reg  [AB_W-1:0]      w_addr,      // weight word of this MAC cycle
    output wire [AB_W-1:0]      w_addr_next, // w_addr's next value out of reset (early ROM reads)
    output wire [AB_P-1:0]      grp_next,    // the output group's next value (below)
    output wire [8*SIMD-1:0]    x1,          // activations of the MAC cycle (zero when padded)
    output reg                  mac_en,
    output reg                  mac_first,
    output wire [AB_Q-1:0]      pa_next,     // requantizer parameter word of the next step
    output wire [AB_Q-1:0]      pa_early,    // pa_next's next value (block-RAM ROMs, MULT_REG)
    // The values the chains' controls take at the next clock edge: {hold (accumulators into
    // the hold registers), out_en (a requantized byte moves along), push (the bytes into the
    // FIFO slots), fifo_head, fifo_tail}. Every PE of every requantizer chain registers its
    // own copy (sqf_conv_chain), so no one register drives every PE; these registers keep
    // theirs.
    output wire [2*FB+2:0]      chain_next
);
    localparam LB_DEPTH = LB_ROWS * W * CG;
    localparam AB_LB = (LB_DEPTH > 1) ? $clog2(LB_DEPTH) : 1;
    localparam ROM_DEPTH = OG * K * K * CG;
    localparam RB = $clog2(LB_ROWS);
    localparam CB = (SHARE > 1) ? $clog2(SHARE) : 1;
    localparam SW = 8 * SIMD;
    generate
        if (PAD >= K || K < 1 || STRIDE < 1) begin : bad_window
            sqf_conv_ctrl_PAD_must_be_below_K bad();
        end
        if (LB_ROWS < 2 || (LB_ROWS & (LB_ROWS - 1)) != 0) begin : bad_rows
            sqf_conv_ctrl_LB_ROWS_must_be_a_power_of_two_at_least_2 bad();
        end
        if (SIMD < 1 || SIMD > 8 || SHARE < 1 || CG < 1 || OG < 1) begin : bad_folding
            sqf_conv_ctrl_SIMD_1_to_8_SHARE_CG_OG_at_least_1 bad();
        end
        if (AB_W != ((ROM_DEPTH > 1) ? $clog2(ROM_DEPTH) : 1) || AB_P != ((OG > 1) ? $clog2(OG) : 1)
            || AB_Q != ((OG * SHARE > 1) ? $clog2(OG * SHARE) : 1) || FB != $clog2(FIFO_DEPTH)) begin : bad_bits
            sqf_conv_ctrl_AB_W_AB_P_AB_Q_FB_must_match_the_geometry bad();
        end
        if (RQ_IN != 0 && RQ_IN != 1) begin : bad_rq_in
            sqf_conv_ctrl_RQ_IN_must_be_0_or_1 bad();
        end
        if (MAC_LAT < 6 || MAC_LAT > 8) begin : bad_mac_lat
            sqf_conv_ctrl_MAC_LAT_must_be_6_to_8 bad();
        end
        if (LB_REG < 0 || LB_REG > 2 || (LB_REG == 1 && K == 1 && W * CG == 1)
            || ((LB_REG == 2) != (MAC_LAT == 8)))
        begin : bad_lb_reg
            sqf_conv_ctrl_LB_REG_0_to_2_1_needs_K_or_W_CG_above_1_2_goes_with_MAC_LAT_8 bad();
        end
        if (HO != (H + 2 * PAD - K) / STRIDE + 1 || WO != (W + 2 * PAD - K) / STRIDE + 1) begin : bad_output
            sqf_conv_ctrl_HO_WO_must_be_the_convolution_output bad();
        end
    endgenerate

    // Constants at the counters' widths (16 bits; integers sliced, so negatives wrap).
    localparam integer HI0 = (K - 1 - PAD < H - 1) ? K - 1 - PAD : H - 1;
    localparam integer C_WM1 = W - 1, C_HM1 = H - 1, C_H = H;
    localparam integer C_NP = -PAD, C_BOT0 = K - 1 - PAD, C_S = STRIDE, C_NS = -STRIDE;
    localparam integer C_HM1S = H - 1 - STRIDE, C_HI0 = HI0, C_HTOP0 = H - PAD;
    localparam [15:0] S16 = C_S[15:0], HI0_16 = C_HI0[15:0];
    localparam signed [15:0] NP_S = C_NP[15:0], BOT0_S = C_BOT0[15:0], S_S = C_S[15:0];
    localparam signed [15:0] HM1_S = C_HM1[15:0], WM1_S = C_WM1[15:0];
    // The steps of the clamped window rows low (max(0, top)) and need (min(H - 1, bot)) when
    // oy moves on: within a frame from row 0 (DLOW0, DNEED0), and at the frame's end, to the
    // next frame's row 0 (H rows on), from row HO - 1 (DLOWW, DNEEDW).
    localparam integer C_TOPL = (HO - 1) * STRIDE - PAD, C_BOTL = C_TOPL + K - 1;
    localparam integer C_DLOW0 = (PAD == 0) ? STRIDE : (STRIDE > PAD) ? STRIDE - PAD : 0;
    localparam integer C_DNEED0 = (C_BOT0 + STRIDE <= H - 1) ? STRIDE
        : (C_BOT0 < H - 1) ? H - 1 - C_BOT0 : 0;
    localparam integer C_DLOWW = H - ((C_TOPL > 0) ? C_TOPL : 0);
    localparam integer C_DNEEDW = H + HI0 - ((C_BOTL < H - 1) ? C_BOTL : H - 1);
    localparam integer C_HM1S2 = H - 1 - 2 * STRIDE, C_NS2 = -2 * STRIDE, C_S2 = 2 * STRIDE;
    localparam integer C_DLOWI = (HO == 1) ? C_DLOWW : C_DLOW0;
    localparam integer C_DNEEDI = (HO == 1) ? C_DNEEDW : C_DNEED0;
    localparam [15:0] DLOWI = C_DLOWI[15:0], DNEEDI = C_DNEEDI[15:0];
    localparam [15:0] DLOWW = C_DLOWW[15:0], DNEEDW = C_DNEEDW[15:0], S2_16 = C_S2[15:0];
    localparam [15:0] HM1S16 = C_HM1S[15:0];
    localparam integer C_S2M1 = 2 * STRIDE - 1, C_HM1SM1 = H - 2 - STRIDE;
    localparam [15:0] S2M1_16 = C_S2M1[15:0], HM1SM1_16 = C_HM1SM1[15:0];
    localparam signed [15:0] HM1S2_S = C_HM1S2[15:0], NS2_S = C_NS2[15:0];
    localparam integer C_LBM1 = LB_DEPTH - 1, C_SM1 = SHARE - 1;
    localparam integer C_QLAST = OG * SHARE - 1;
    localparam integer C_DM2 = ROM_DEPTH - 2;
    localparam [AB_W-1:0] DM2 = C_DM2[AB_W-1:0];
    localparam [AB_LB-1:0] LBM1 = C_LBM1[AB_LB-1:0];
    localparam [CB-1:0] SM1 = C_SM1[CB-1:0];
    localparam [AB_Q-1:0] QLAST = C_QLAST[AB_Q-1:0];

    // Counters are 16 bits: row counts wrap, and only their differences (below 2^15) matter.
    reg [AB_LB-1:0] wr_addr;
    localparam XW = (W > 1) ? $clog2(W) : 1;
    reg [XW-1:0] wr_x;
    // The issuer's counters (and wr_j) at the bits their ranges need (fewer loads on the issue
    // decision).
    localparam JW = (CG > 1) ? $clog2(CG) : 1, KW = (K > 1) ? $clog2(K) : 1;
    reg [JW-1:0] wr_j;
    reg wjl_r, wxl_r;                        // wr_j == CG - 1, wr_x == W - 1
    reg wrl_r;                               // wjl_r && wxl_r: the next beat ends a row
    // w_addr == ROM_DEPTH - 1, a register: the compare on w_addr (the weight ROMs' address, over
    // 250 loads) in front of its own next value was 6.53 ns on the XC7A200T (fire3.squeeze).
    reg wl_r;
    localparam OXW = (WO > 1) ? $clog2(WO) : 1, OYW = (HO > 1) ? $clog2(HO) : 1;
    reg [OYW-1:0] oy;
    reg [OXW-1:0] ox;
    reg [AB_P-1:0] g;
    reg [KW-1:0] ky, kx;
    reg [JW-1:0] j;
    // frame_base (rows of the frames before) and fbtop_r only give line-buffer slots: their
    // bits below RB.
    reg [RB-1:0] frame_base;
    // committed_r: the beats in the output FIFO and the groups issued for it, together (the
    // credits spent): + 1 on a group's first issue, - 1 on a pop. Held as one register, so
    // that "credit left" is a bit of it, not an add and a compare in front of the issue
    // decision.
    reg [FB+1:0] committed_r;
    reg [FB:0] fifo_count;
    // fifo_count != 0 as a register of its own, moved with the count: decoded from its FB + 1
    // bits it was two LUT levels in front of the output's valid and the pop (the consumer's
    // ready into pop_r and the count, a path from one block into the next).
    reg fifo_nz;
    reg hold, out_en;                        // the chains' controls (see chain_next)
    reg [FB-1:0] fifo_head, fifo_tail;
    wire push;
    // The window of output row oy, held in registers updated when oy or frame_base moves (so
    // no arithmetic on oy sits in front of the issue decision): top_r = oy * STRIDE - PAD and
    // bot_r = top_r + K - 1 (the window's rows, unclamped), fbtop_r = frame_base + top_r
    // modulo LB_ROWS;
    // left_r = ox * STRIDE - PAD. Each update is one add and a compare with a constant.
    reg signed [15:0] top_r, bot_r, left_r;
    reg [RB-1:0] fbtop_r;
    // The row conditions, from two differences held in registers: ahead_r = rows written -
    // the window's first row (clamped to the map), ready_r = rows written - its last row.
    // rows_ok (ready_r not negative): the window's last row is in the buffer; s_ok_r: the
    // buffer has room for a row.
    // Each difference moves by +1 when a row has been written and by the window's step when
    // oy moves on (dlow_r, dneed_r: the step of the next move, from the window; at the frame's
    // end a constant), so no subtract sits between a register and the input's ready or the
    // issue decision (a 16-bit subtract and compare there was the XC7A200T network's deepest
    // path, docs/timing.md). In the Rust model they are rows_done - low and rows_done - need
    // (ready_r one less).
    // dlow_r and dneed_r already hold the frame's-end step when oy is at the last row, and
    // dlowm1_r, dneedm1_r are one less (so ahead_r - dlow_r + 1 is one subtract).
    reg [15:0] ahead_r, ready_r, dlow_r, dneed_r, dlowm1_r, dneedm1_r;
    // ready_r is kept one less (rows written - the last row - 1), so that "the last row is in"
    // is its sign bit, not a 16-bit compare in front of the issue decision.
    // s_ok is a register (s_ok_r), loaded with the room for a row after this cycle's moves:
    // from ahead_r, its compare (2 to 3 cells on ECP5) sat in front of the input's handshake,
    // and through it of the issue decision (8.28 ns in the ECP5 model, every engine). Its next
    // value is computed for each of ahead_r's next values and chosen by the late signals.
    // The ready leaves the reset out (the reset takes priority in the process below; during
    // it nothing upstream is valid): the reset port's thousands of loads in front of the
    // differences' next values, and through the upstream's pop into its count, were deepest
    // paths (docs/timing.md).
    reg s_ok_r;
    /* verilator lint_off UNUSEDSIGNAL */
    // The differences stay within -(K + STRIDE + 2) .. LB_ROWS + 1 (the input waits while
    // ahead_r reaches LB_ROWS; the window's first row moves at most STRIDE past the rows
    // written, its last row K - 1 further), so their signs and compares read their low DW bits
    // (twice the range, and more): a compare of a whole 16-bit subtract, a carry chain and a
    // tree of wide multiplexers into s_ok_r, was the XCZU7EV engines' deepest path (5.08 ns,
    // fire7.expand3x3 alone). The registers keep 16 bits; only the decisions read fewer.
    localparam DW = $clog2(LB_ROWS + K + STRIDE + PAD + 4) + 2;
    function room(input [DW-1:0] a);         // a < LB_ROWS, signed (a's low RB bits unused)
        room = a[DW-1] || (a[DW-2:RB] == 0);
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    assign s_tready = s_ok_r;
    wire wr_fire = s_tvalid && s_tready;
    // One LUT of the valid, a copy of the ready (s_okw_r, kept apart by `keep` on its
    // process) and a register: the handshake's LUT, its AND with the row-end flags and the row
    // differences' enables behind them, three LUTs from the converter's valid register to 128
    // enables, were the XCZU7EV folding's deepest path (4.03 ns, fire5.squeeze). With s_ok_r
    // itself Yosys merged the AND into the handshake's, the net kept or not.
    reg s_okw_r;
    (* keep *) wire row_written = s_tvalid && s_okw_r && wrl_r;
    wire pop = fifo_nz && m_tready;
    // Each issuer counter's "at its last value" flag, and "at the start of a group", held in
    // registers updated with the counters (chained 16-bit compares in front of the issue
    // decision and the window's next values were the engines' slowest paths on ECP5).
    localparam integer C_CGM2 = CG - 2, C_KM2 = K - 2, C_OGM2 = OG - 2, C_WOM2 = WO - 2;
    localparam integer C_HOM2 = HO - 2;
    localparam [JW-1:0] CGM2_J = C_CGM2[JW-1:0];
    localparam [KW-1:0] KM2_K = C_KM2[KW-1:0];
    localparam [AB_P-1:0] OGM2_G = C_OGM2[AB_P-1:0];
    localparam [OXW-1:0] WOM2_X = C_WOM2[OXW-1:0];
    localparam [OYW-1:0] HOM2_Y = C_HOM2[OYW-1:0];
    localparam [RB-1:0] H_R = C_H[RB-1:0], S_R = C_S[RB-1:0], HTOP0_R = C_HTOP0[RB-1:0];
    localparam [RB-1:0] NP_R = C_NP[RB-1:0];
    localparam integer C_WM2 = W - 2;
    localparam [XW-1:0] WM2_X = C_WM2[XW-1:0];
    localparam JL0 = (CG == 1), KL0 = (K == 1), GL0 = (OG == 1), OXL0 = (WO == 1);
    localparam OYL0 = (HO == 1);
    localparam MO0 = JL0 && KL0 && GL0 && OXL0;
    reg jl_r, kxl_r, kyl_r, gl_r, oxl_r, oyl_r, gs_r;
    // Which counters the next issue moves on, each the AND of the flags below it, held in
    // registers too (ky_r: kx's and j's flags; g_r: and ky's; ox_r, oy_r, wrap_r likewise):
    // four LUTs in a row in front of the window registers' enables, which have more than a
    // hundred loads, set the XC7A200T network's clock (docs/timing.md).
    localparam AKY0 = JL0 && KL0, AG0 = AKY0 && KL0, AOX0 = AG0 && GL0, AOY0 = MO0;
    localparam AW0 = AOY0 && OYL0;
    reg aky_r, ag_r, aox_r, aoy_r, aw_r;
    // A copy of aoy_r for the flags' next values alone: aoy_r enables the window registers,
    // over 100 loads, and its routing in front of the flags' chain was 6.74 ns in the
    // XC7A200T network. Both are kept, each in its own always block: Yosys merges a copy of
    // equal value into a kept one. Another (aoy_d) for the issue decision's and the room's
    // choices alone: after aoy_r's route, three LUTs to nissue_r were the XCZU7EV folding's
    // deepest paths in the engines (4.07 ns, fire3.expand1x1).
    reg aoy_f, aoy_d;
    wire group_start = gs_r;
    wire group_end = ag_r;
    // The issue decision, !group_start || (rows_ok && credit_ok), is a register (issue_r)
    // set a cycle ahead from the next values of gs_r, ready_r and committed_r (below): formed
    // from them in its own cycle, it reached the counters' and window registers' enables
    // (over 100 loads) one LUT later, 6.79 ns in every engine and 7.06 in conv1 on the
    // XC7A200T. credit_ok: committed_r < FIFO_DEPTH.
    reg issue_r;
    wire issue = issue_r;                    // used only out of reset
    localparam [15:0] READY0 = 16'hffff - HI0_16;
    localparam ISSUE0 = !READY0[15];         // group_start, no credits spent, ready_r's reset
    wire frame_end = aw_r;
    // The line-buffer read of the MAC cycle being issued: tap (iy, ix) = (top_r + ky, left_r +
    // kx) of the window, padded when outside the map, at address ((slot * W + ix) * CG + j)
    // modulo 2^AB_LB, slot = (fbtop_r + ky) modulo LB_ROWS. It is held in registers updated
    // with the counters on each issue (iy_r, ix_r, slot_r, and addr_r, which steps by one along
    // a window row), so the read address is a register: computed from the counters in the
    // issuing cycle it was the engines' slowest path on ECP5. A padded tap reads whatever its
    // address holds (pad1 zeroes it). lcg_r = left_r * CG, lcg_inc_r = lcg_r + STRIDE * CG;
    // rowmul(s) = s * W * CG.
    localparam integer C_NPCG = -PAD * CG, C_SCG = STRIDE * CG;
    localparam integer C_SLOT0 = (LB_ROWS - (PAD % LB_ROWS)) % LB_ROWS;
    localparam integer C_ADDR0 = C_SLOT0 * W * CG - PAD * CG;
    localparam [AB_LB-1:0] NPCG = C_NPCG[AB_LB-1:0], SCG = C_SCG[AB_LB-1:0];
    localparam [AB_LB-1:0] ADDR0 = C_ADDR0[AB_LB-1:0];
    localparam integer C_SLOT_INC0 = STRIDE - PAD, C_SLOT_WRAP0 = H - PAD;
    localparam [RB-1:0] SLOT0 = C_SLOT0[RB-1:0], SLOT_INC0 = C_SLOT_INC0[RB-1:0];
    localparam [RB-1:0] SLOT_WRAP0 = C_SLOT_WRAP0[RB-1:0];
    reg signed [15:0] iy_r, ix_r;
    // slot_r + 1 is held too (slot_inc_r): its carry chain sat in front of the row table and
    // the address add (conv1, 7.31 ns).
    reg [RB-1:0] slot_r, slot_inc_r;
    localparam integer C_SLOT1 = C_SLOT0 + 1;
    localparam [RB-1:0] SLOT1 = C_SLOT1[RB-1:0];
    reg [AB_LB-1:0] lcg_r, lcg_inc_r, addr_r;
    // Which counters move on this issue, and the window registers' next values.
    wire adv_kx = jl_r;
    wire adv_ky = aky_r;
    wire adv_g = ag_r;
    wire adv_ox = aox_r;
    wire adv_oy = aoy_r;
    wire wrap_frame = aw_r;
    // The flags' values after this issue, and the moves of the issue after.
    wire jl_n = adv_kx ? JL0 : (j == CGM2_J);
    wire kxl_n = !adv_kx ? kxl_r : adv_ky ? KL0 : (kx == KM2_K);
    wire kyl_n = !adv_ky ? kyl_r : adv_g ? KL0 : (ky == KM2_K);
    wire gl_n = !adv_g ? gl_r : adv_ox ? GL0 : (g == OGM2_G);
    wire oxl_n = !adv_ox ? oxl_r : aoy_f ? OXL0 : (ox == WOM2_X);
    wire oyl_n = !aoy_f ? oyl_r : wrap_frame ? OYL0 : (oy == HOM2_Y);
    wire aky_n = jl_n && kxl_n, ag_n = aky_n && kyl_n, aox_n = ag_n && gl_n;
    wire aoy_n = aox_n && oxl_n, aw_n = aoy_n && oyl_n;
    (* keep *) always @(posedge clock) begin
        if (reset) aoy_r <= AOY0;
        else if (issue) aoy_r <= aoy_n;
    end
    (* keep *) always @(posedge clock) begin
        if (reset) aoy_f <= AOY0;
        else if (issue) aoy_f <= aoy_n;
    end
    (* keep *) always @(posedge clock) begin
        if (reset) aoy_d <= AOY0;
        else if (issue) aoy_d <= aoy_n;
    end
    // The steps of a move from the next row (rows top_r + s .. bot_r + s), and the steps less
    // one, each a choice among constants and one add on top_r or bot_r.
    // The four compares are registers (top_in_r: top_r >= -S, top_part_r: top_r > -2S,
    // bot_in_r: bot_r <= H - 1 - 2S, bot_part_r: bot_r < H - 1 - S), set with top_r and
    // bot_r from compares of their values before the move (a compare in front of the steps'
    // selects was conv1's deepest path).
    reg top_in_r, top_part_r, bot_in_r, bot_part_r;
    wire top_in = top_in_r, top_part = top_part_r, bot_in = bot_in_r, bot_part = bot_part_r;
    localparam integer C_NS3 = -3 * STRIDE, C_HM1S3 = H - 1 - 3 * STRIDE;
    localparam signed [15:0] NS3_S = C_NS3[15:0], HM1S3_S = C_HM1S3[15:0];
    // Their values at the frame's first row (top_r = -PAD, bot_r = K - 1 - PAD).
    localparam TI0 = (C_NP >= C_NS), TP0 = (C_NP > C_NS2);
    localparam BI0 = (C_BOT0 <= C_HM1S2), BP0 = (C_BOT0 < C_HM1S);
    wire [15:0] low_step_n = top_in ? S16 : top_part ? top_r + S2_16 : 16'd0;
    wire [15:0] low_step_m1_n = top_in ? S16 - 1'b1 : top_part ? top_r + S2M1_16 : 16'hffff;
    wire [15:0] need_step_n = bot_in ? S16 : bot_part ? HM1S16 - bot_r : 16'd0;
    wire [15:0] need_step_m1_n = bot_in ? S16 - 1'b1 : bot_part ? HM1SM1_16 - bot_r : 16'hffff;
    // The differences' next values: all four cases (a row written or not, oy moving on or
    // not) from registers, and the late signals (the input's valid, the issue decision) only
    // choosing among them. "An issue now moves oy on" (aoy_r, a register) chooses first, so
    // the issue decision comes last, into one LUT a bit: with "issue and aoy_r" first,
    // synthesis moved that choice in front of the subtracts as an operand select, over 100
    // loads (8.68 ns, docs/timing.md).
    wire [15:0] ahead_m = ahead_r - dlow_r, ahead_m1 = ahead_r - dlowm1_r;
    wire [15:0] ready_m = ready_r - dneed_r, ready_m1 = ready_r - dneedm1_r;
    wire [15:0] ahead_inc = ahead_r + 1'b1, ready_inc = ready_r + 1'b1;
    wire [15:0] ahead_iw = aoy_r ? ahead_m1 : ahead_inc, ahead_i = aoy_r ? ahead_m : ahead_r;
    wire [15:0] ready_iw = aoy_r ? ready_m1 : ready_inc, ready_i = aoy_r ? ready_m : ready_r;
    wire [15:0] ahead_n = issue ? (row_written ? ahead_iw : ahead_i)
        : (row_written ? ahead_inc : ahead_r);
    wire [15:0] ready_n = issue ? (row_written ? ready_iw : ready_i)
        : (row_written ? ready_inc : ready_r);
    // Each candidate's room in a form of its own: with room() of ahead_iw, ahead_i and
    // ahead_inc, Yosys shared one compare after ahead_n's multiplexers (10.10 ns in the ECP5
    // model). ahead_r + 1 < LB_ROWS is ahead_r < LB_ROWS - 1, a compare of the register alone.
    // ahead_r < LB_ROWS - 1 without a carry chain (LB_ROWS is 2^RB): the bits above RB clear
    // and the low RB not all ones.
    wire ok_inc = ahead_r[DW-1] || (ahead_r[DW-2:RB] == 0 && ahead_r[RB-1:0] != {RB{1'b1}});
    // The candidates' compares on the subtracts' low DW bits, which their carry chains reach
    // first (subtracts of DW bits of their own were shared by Yosys into one, its operand
    // chosen by the input's handshake, 5.95 ns).
    wire [DW-1:0] ahead_m_w = ahead_m[DW-1:0], ahead_m1_w = ahead_m1[DW-1:0];
    wire [DW-1:0] ready_m_w = ready_m[DW-1:0], ready_m1_w = ready_m1[DW-1:0];
    wire ok_iw = aoy_d ? room(ahead_m1_w) : ok_inc, ok_i = aoy_d ? room(ahead_m_w) : s_ok_r;
    // Chosen last by "a row is written", as issue_n is (below).
    (* keep *) wire s_ok_w1 = issue ? ok_iw : ok_inc;
    (* keep *) wire s_ok_w0 = issue ? ok_i : s_ok_r;
    wire s_ok_n = row_written ? s_ok_w1 : s_ok_w0;
    // The decision's own inputs take it from an inverted copy (nissue_r, whose few loads are
    // these and the window registers' enables, below; inverted so that Yosys does not merge
    // it with issue_r): after issue_r's 174
    // loads, four LUTs to issue_n were fire2.expand1x1's deepest path (7.39 ns).
    (* keep = "true" *) reg nissue_r;
    wire issue_c = !nissue_r;
    // committed_r's next value, a choice among its values one up, one down and unchanged
    // (cinc_r and cdec_r hold the first two), and credit_ok after it from compares of
    // committed_r with constants (one down always leaves credit: committed_r <= FIFO_DEPTH).
    // One add of the issue and the pop after the issue register's 158 loads was conv1's
    // deepest path (8.72 ns on the XC7A200T); Yosys shares the +1 and the -1 of one register
    // as one add again.
    // A pop returns its credit a cycle later (pop_r): pop comes from the consumer's ready,
    // which can sit across the chip, and its route into the issue decision was the ULX3S
    // network's critical path (10.57 ns, 8.54 of them routing: conv1's FIFO count, the
    // converter's room, a 5.46 ns hop, three LUTs to nissue_r). committed_r counts the beat
    // popped last cycle still; 16 credits cover the loop either way.
    reg pop_r;
    always @(posedge clock) pop_r <= !reset && pop;
    wire c_up = issue_c && group_start && !pop_r, c_down = pop_r && !(issue_c && group_start);
    reg [FB+1:0] cinc_r, cdec_r;
    wire [FB+1:0] committed_n = c_up ? cinc_r : c_down ? cdec_r : committed_r;
    localparam integer C_FDM1 = FIFO_DEPTH - 1;
    wire credit_now = (committed_r[FB+1:FB] == 2'b00);             // committed_r < FIFO_DEPTH
    wire credit_inc = credit_now && (committed_r[FB-1:0] != C_FDM1[FB-1:0]);
    // ready_inc's sign from an AND of ready_r's bits, not from the end of its carry chain.
    wire rinc15 = ready_r[DW-1] ^ (&ready_r[DW-2:0]);
    // issue_n for each value of the decision now (issue_c): with no issue, gs_r is
    // 1 (mid-group every cycle issues), so gs_r stays 1 and only a pop moves committed_r; with
    // one, gs_r becomes adv_g. rdy1, ready_n's sign after an issue, chooses by aoy_r first:
    // the signs of the subtracts (ready_m1, ready_m: carry chains from registers) when oy
    // moves on, rdy0 otherwise. Chosen by the row written first, the chains led four wide LUT
    // levels into issue_n on ECP5 (8.31 to 8.83 ns in the model on three engines; 7.81 to 7.94
    // so, and 7.81 to 9.09 over the ULX3S network's 26, ABC's mapping varying). One LUT of
    // both signs and all the rest did as well on ECP5 but cost UltraScale+ 0.6 to 1 ns (4.05
    // ns so).
    // Since the credits return from a register (pop_r), the one late signal left is "a row is
    // written" (the upstream's valid): issue_n is formed for each of its values from
    // registers alone (kept, so that ABC does not fold the choice back in), and it chooses
    // last. Mapped together, ABC made a tree of wide multiplexers behind it (MUXF7 to MUXF9,
    // 4.80 ns on the XCZU7EV, fire3.expand3x3).
    // rdy0/rdy1: ready_n's sign with no issue / with one, for each value of row_written.
    wire rdy0_w0 = ready_r[DW-1], rdy0_w1 = rinc15;
    wire rdy1_w0 = aoy_d ? ready_m_w[DW-1] : rdy0_w0;
    wire rdy1_w1 = aoy_d ? ready_m1_w[DW-1] : rdy0_w1;
    wire credit1 = (group_start && !pop_r) ? credit_inc : (pop_r && !group_start) || credit_now;
    (* keep *) wire issue_nw0 = issue_c ? !adv_g || (!rdy1_w0 && credit1)
        : !rdy0_w0 && (pop_r || credit_now);
    (* keep *) wire issue_nw1 = issue_c ? !adv_g || (!rdy1_w1 && credit1)
        : !rdy0_w1 && (pop_r || credit_now);
    wire issue_n = row_written ? issue_nw1 : issue_nw0;
    // The read address's copies of "oy moves on" and "the frame wraps", held inverted (na_oy,
    // na_wrap): Yosys 0.23 merges a copy of equal value back into its original, keep or not,
    // and merged, "oy moves on" drove the window registers' enables and every LUT of the
    // slot's row table, 100 loads (a net of 100 loads and more costs about 2.8 ns of routing
    // on Artix-7, docs/timing.md).
    (* keep = "true" *) reg na_oy, na_wrap;
    (* keep *) always @(posedge clock) begin
        if (reset) begin
            na_oy <= !AOY0; na_wrap <= !AW0;
        end else if (issue) begin
            na_oy <= !aoy_n; na_wrap <= !aw_n;
        end
    end
    wire signed [15:0] left_n = !adv_ox ? left_r : oxl_r ? NP_S : left_r + S_S;
    wire signed [15:0] top_n = !adv_oy ? top_r : wrap_frame ? NP_S : top_r + S_S;
    // The window's first slot when oy moves on: (fbtop_r + STRIDE) or, at the frame's end,
    // (frame_base + H - PAD) modulo LB_ROWS, each held in a register (fbslot_inc_r,
    // fbslot_wrap_r) updated when fbtop_r or frame_base moves.
    reg [RB-1:0] fbslot_inc_r, fbslot_wrap_r;
    wire [RB-1:0] fbslot_n = na_oy ? fbtop_r : !na_wrap ? fbslot_wrap_r : fbslot_inc_r;
    wire [RB-1:0] fbtop_n = !adv_oy ? fbtop_r : wrap_frame ? frame_base + HTOP0_R : fbtop_r + S_R;
    wire [RB-1:0] fbtop_n_inc = fbtop_n + S_R;
    wire [RB-1:0] fb_wrap_n = (wrap_frame ? frame_base + H_R : frame_base) + HTOP0_R;
    wire [AB_LB-1:0] lcg_n = !aox_r ? lcg_r : oxl_r ? NPCG : lcg_inc_r;
    wire signed [15:0] ix_n = !adv_kx ? ix_r : adv_ky ? left_n : ix_r + 16'sd1;
    wire signed [15:0] iy_n = !adv_ky ? iy_r : adv_g ? top_n : iy_r + 16'sd1;
    wire [RB-1:0] slot_n = !aky_r ? slot_r : ag_r ? fbslot_n : slot_inc_r;
    // slot_n * W * CG, the row's first address, where it is used (aky_r): a choice among
    // products held in registers beside the slots they are of (rtop_r = fbtop_r * W * CG and
    // so on), each from a table of the LB_ROWS products (sqf_const_mul). The table between
    // slot_n and the add was the read address's deepest path (7.22 ns on the XC7A200T). The
    // next row's (rinc) is a table on slot_inc_r itself, one LUT after a register: held in a
    // register, its table came after slot_n and its increment (7.75 ns, conv1).
    localparam integer C_WCG = W * CG;
    function [AB_LB-1:0] row_of(input [RB-1:0] sl);
        /* verilator lint_off UNUSEDSIGNAL */
        integer pr;                          // sl * W * CG; its low AB_LB bits are used
        /* verilator lint_on UNUSEDSIGNAL */
        begin
            pr = sl * C_WCG;
            row_of = pr[AB_LB-1:0];
        end
    endfunction
    reg [AB_LB-1:0] rtop_r, rwrap_r, rfinc_r;
    wire [AB_LB-1:0] rtop_n, rwrap_n, rfinc_n, rinc;
    wire [RB-1:0] slot_n_inc = slot_n + 1'b1;
    sqf_const_mul #(.C(C_WCG), .WIDTH(AB_LB), .ABITS(RB)) m_top (.a(fbtop_n), .y(rtop_n));
    sqf_const_mul #(.C(C_WCG), .WIDTH(AB_LB), .ABITS(RB)) m_wrap (.a(fb_wrap_n), .y(rwrap_n));
    sqf_const_mul #(.C(C_WCG), .WIDTH(AB_LB), .ABITS(RB)) m_finc (.a(fbtop_n_inc), .y(rfinc_n));
    sqf_const_mul #(.C(C_WCG), .WIDTH(AB_LB), .ABITS(RB)) m_inc (.a(slot_inc_r), .y(rinc));
    // The row's first address plus lcg_n, formed for both values of ag_r (the next group's
    // row, or the next row of this window) and chosen after the adds: ag_r (tens of loads) in
    // front of the add was 6.61 ns in the XC7A200T network (conv1). The choice is an AND-OR:
    // as a multiplexer of two sums, Yosys shares one adder between them, behind ag_r again.
    wire [AB_LB-1:0] row_g = na_oy ? rtop_r : !na_wrap ? rwrap_r : rfinc_r;
    wire [AB_LB-1:0] sum_g = row_g + lcg_n, sum_k = rinc + lcg_n;
    wire [AB_LB-1:0] row_sum = (sum_g & {AB_LB{ag_r}}) | (sum_k & {AB_LB{!ag_r}});
    wire [AB_LB-1:0] addr_n = aky_r ? row_sum : addr_r + 1'b1;
    wire pad = iy_r[15] || (iy_r > HM1_S) || ix_r[15] || (ix_r > WM1_S);
    // The read address: addr_r, or with LB_REG its next value, so the word is read a cycle
    // early and registered (x1_r), and the padding's zero applied after that register. On
    // ECP5 the register is then the block RAM's output register (hw/src/ecp5_outreg.rs): the
    // DP16KD's read without it (5.83 ns) and the padding's LUT in front of the MAC lanes'
    // operand registers were the ULX3S network's critical path (97.0 MHz). The padding stays
    // out of the register: as its reset (the block RAM's RST) it put the window's compares
    // and a long route in front of the block RAM (docs/timing.md).
    // The read meets no write of its own word: the rows a tap reads were complete when the
    // tap was decided, and the last beat of a row (written at the edge the early read may
    // share) is read later, by a later tap of the window, or, for K = 1, by the row's last tap
    // (so W * CG > 1); the RAM is told so (NO_RW), or Yosys puts a bypass multiplexer between
    // the read and x1_r.
    // With LB_REG 2 the address is the register itself, read when the tap issues (as without
    // LB_REG) and x1_r a cycle later, the MACs' other inputs waiting for it (MAC_LAT 8): the
    // next address's adds and the issue's choice in front of the block RAM's address pins
    // were the ULX3S network's critical path (102.8 MHz, 7.2 ns of it routing). That read
    // meets no write of its word either: the tap's rows were complete when it was decided,
    // and a row it frees takes its first write a cycle later (s_ok_r); a padded tap's word,
    // which may be anything, is zeroed.
    wire [AB_LB-1:0] rd_addr = (LB_REG == 1 && issue_c) ? addr_n : addr_r;
    wire [SW-1:0] lb_data;
    localparam NO_RW = (LB_REG != 0) ? 1 : 0;
    sqf_ram #(.WIDTH(SW), .DEPTH(LB_DEPTH), .ABITS(AB_LB), .NO_RW(NO_RW)) lb (
        .clock(clock), .we(wr_fire), .waddr(wr_addr), .wdata(s_tdata),
        .raddr(rd_addr), .rdata(lb_data));
    reg last1, pad1, tlast1, vb, lastb, tlastb, vp, lastp, tlastp, va, lasta, tlasta, tlast2;
    reg vl, lastl, tlastl, vs, lasts, tlasts;  // the MACs' lane and half-sum stages
    // With MAC_LAT = 7, stage x after b (the multipliers' input registers); p takes it. With
    // MAC_LAT = 8, stage y after x too (sqf_mac's X_LATE).
    reg vx, lastx, tlastx, vy, lasty, tlasty;
    wire vb_p = (MAC_LAT == 8) ? vy : (MAC_LAT == 7) ? vx : vb;
    wire lastb_p = (MAC_LAT == 8) ? lasty : (MAC_LAT == 7) ? lastx : lastb;
    wire tlastb_p = (MAC_LAT == 8) ? tlasty : (MAC_LAT == 7) ? tlastx : tlastb;
    reg vh, tlasth, vm, lastm, tlastm, v3, last3, tlast3, last4, tlast4;
    reg vi, lasti, tlasti;                   // with RQ_IN, the requantizers' input stage
    wire vi_m = RQ_IN ? vi : vh;             // what stage m takes
    wire lasti_m = RQ_IN ? lasti : vh && (cnt == SM1);
    wire tlasti_m = RQ_IN ? tlasti : tlasth;
    reg vq, lastq, tlastq;                   // the requantizers' fourth stage (ROUND_REG)
    reg [CB-1:0] cnt;                        // position in the requantizers' chains
    // pa_next addresses the parameter ROMs, which are in LUTs in the large fits. It is a
    // register (qa_r), set a cycle ahead from the next values of vh, pa and the step after pa
    // (pa_inc_r), so nothing sits between a register and the ROMs' multiplexers: an
    // increment and a compare there, then vh's choice (its net has over 100 loads), were the
    // XC7A200T network's deepest paths (docs/timing.md).
    reg [AB_Q-1:0] pa, pa_inc_r, qa_r;
    localparam integer C_PA_INC0 = (C_QLAST == 0) ? 0 : 1;
    localparam [AB_Q-1:0] PA_INC0 = C_PA_INC0[AB_Q-1:0];
    wire [AB_Q-1:0] pa_n = vh ? pa_inc_r : pa;                  // pa after this cycle
    wire [AB_Q-1:0] pa_inc_step = (pa_inc_r == QLAST) ? {AB_Q{1'b0}} : pa_inc_r + 1'b1;
    wire [AB_Q-1:0] pa_inc_n = vh ? pa_inc_step : pa_inc_r;     // pa_inc_r after it
    wire vh_n = hold || (vh && cnt != SM1);                       // vh after it
    assign pa_next = qa_r;
    // A parameter ROM in block RAM reads the word a cycle before the requantizer takes it,
    // into the multipliers' input registers (sqf_requant MULT_REG): its address is qa_r's
    // next value, whose logic has no wide multiplexer behind it there.
    wire [AB_Q-1:0] qa_n = vh_n ? pa_inc_n : pa_n;
    assign pa_early = qa_n;
    // w_addr's next value out of reset (in a reset cycle it may be anything: the cycle after a
    // reset issues nothing, and from then on it is w_addr's next value). Weight ROMs in logic
    // register copies of it (sqf_rom SPLIT), and index ROMs in block RAM read at it. One LUT a
    // bit from registers of few loads: issue's inverted copy, wl_r, w_inc (w_addr + 1) and
    // w_hold (a copy of w_addr). With the reset in it, the reset port's fan-out came before
    // conv10's 176 block-RAM address pins (7.48 ns in the 6-bit fit on the XC7A200T); with
    // w_addr + 1 from w_addr, a carry chain behind w_addr's 386 loads (6.45 ns). w_addr,
    // w_hold and every copy are kept, each in an always block of its own: Yosys merges equal
    // registers unless all of them are kept (the copies went back into w_addr, 507 loads).
    localparam [AB_W-1:0] W_ONE = 1;
    reg [AB_W-1:0] w_inc, w_hold;
    assign w_addr_next = !issue_c ? w_hold : wl_r ? {AB_W{1'b0}} : w_inc;
    (* keep *) always @(posedge clock) w_addr <= reset ? {AB_W{1'b0}} : w_addr_next;
    (* keep *) always @(posedge clock) w_hold <= reset ? {AB_W{1'b0}} : w_addr_next;
    always @(posedge clock)
        if (reset) w_inc <= W_ONE;
        else if (issue_c) w_inc <= wl_r ? W_ONE : w_inc + 1'b1;
    assign push = out_en && last4;
    // The chains' copies take hold, push and fifo_tail from registers of their next values,
    // set a cycle ahead from the stages before (reset clears them as it clears what they
    // copy), and out_en from vq: a LUT after vq and lastq in front of conv10's 100 copies of
    // push, and its route, were the XCZU7EV folding's deepest paths (4.07 ns). fifo_head's
    // next value waits for the consumer's ready (pop).
    wire [FB-1:0] tail_n = push ? fifo_tail + 1'b1 : fifo_tail;
    reg hold_e, push_e;
    reg [FB-1:0] tail_e;
    always @(posedge clock) begin
        hold_e <= !reset && vs && lasts;
        push_e <= !reset && v3 && last3;
        tail_e <= reset ? {FB{1'b0}} : (vq && lastq) ? tail_n + 1'b1 : tail_n;
    end
    assign chain_next = {hold_e, vq, push_e, pop ? fifo_head + 1'b1 : fifo_head, tail_e};
    generate
        if (LB_REG != 0) begin : lb_reg
            // The word registered; with LB_REG 2 a cycle after mac_en, its padding flag too.
            reg [SW-1:0] x1_r;
            reg pad2;
            always @(posedge clock) begin
                x1_r <= lb_data;
                pad2 <= pad1;
            end
            assign x1 = ((LB_REG == 2) ? pad2 : pad1) ? {SW{1'b0}} : x1_r;
        end else begin : lb_comb
            assign x1 = pad1 ? {SW{1'b0}} : lb_data;
        end
    endgenerate
    // The output group at the next edge, reset included: the engine's bias ROMs read register
    // copies of it, each for a few PEs. g itself (one register) addressed all of them: in
    // conv10 (100 PEs) its bit 3 had 300 loads in front of the bias ROMs in LUTs, the
    // XCZU7EV folding's deepest path (4.47 ns).
    assign grp_next = reset ? {AB_P{1'b0}}
        : (issue_c && adv_g) ? (adv_ox ? {AB_P{1'b0}} : g + 1'b1) : g;
    reg fifo_last [0:FIFO_DEPTH-1];
    always @(posedge clock) if (push) fifo_last[fifo_tail] <= tlast4;
    assign m_tvalid = fifo_nz;
    assign m_tlast = fifo_last[fifo_head];
    (* keep *)
    always @(posedge clock) s_okw_r <= reset || s_ok_n;
    always @(posedge clock) begin
        if (reset) begin
            wr_addr <= 0; wr_x <= 0; wr_j <= 0; wjl_r <= (CG == 1); wxl_r <= (W == 1);
            wrl_r <= (CG == 1) && (W == 1);
            oy <= 0; ox <= 0; g <= 0; ky <= 0; kx <= 0; j <= 0; frame_base <= 0;
            wl_r <= (ROM_DEPTH == 1);
            top_r <= NP_S; bot_r <= BOT0_S; left_r <= NP_S;
            top_in_r <= TI0; top_part_r <= TP0; bot_in_r <= BI0; bot_part_r <= BP0;
            iy_r <= NP_S; ix_r <= NP_S;
            slot_r <= SLOT0; slot_inc_r <= SLOT1; lcg_r <= NPCG;
            fbslot_inc_r <= SLOT_INC0; fbslot_wrap_r <= SLOT_WRAP0; lcg_inc_r <= NPCG + SCG; addr_r <= ADDR0;
            rtop_r <= row_of(NP_R); rwrap_r <= row_of(SLOT_WRAP0); rfinc_r <= row_of(SLOT_INC0);
            jl_r <= JL0; kxl_r <= KL0; kyl_r <= KL0; gl_r <= GL0; oxl_r <= OXL0;
            oyl_r <= OYL0; gs_r <= 1'b1;
            aky_r <= AKY0; ag_r <= AG0; aox_r <= AOX0; aw_r <= AW0;
            fbtop_r <= NP_R;
            ahead_r <= 16'd0; s_ok_r <= 1'b1; ready_r <= READY0; issue_r <= ISSUE0;
            nissue_r <= !ISSUE0;
            dlow_r <= DLOWI; dneed_r <= DNEEDI; dlowm1_r <= DLOWI - 1'b1; dneedm1_r <= DNEEDI - 1'b1;
            committed_r <= 0; cinc_r <= 1; cdec_r <= {(FB+2){1'b1}};
            fifo_count <= 0; fifo_nz <= 1'b0; fifo_head <= 0; fifo_tail <= 0;
            mac_en <= 0; vb <= 0; va <= 0; hold <= 0; vh <= 0; cnt <= 0; pa <= 0; vm <= 0;
            pa_inc_r <= PA_INC0; qa_r <= 0;
            v3 <= 0; out_en <= 0; lastm <= 0; last3 <= 0; last4 <= 0;
            vi <= 0; lasti <= 0; tlasti <= 0;
            vq <= 0; lastq <= 0; tlastq <= 0;
            vx <= 0; lastx <= 0; tlastx <= 0; vy <= 0; lasty <= 0; tlasty <= 0;
            lastb <= 0; tlastb <= 0; lasta <= 0; tlasta <= 0; vp <= 0; lastp <= 0; tlastp <= 0;
            vl <= 0; lastl <= 0; tlastl <= 0; vs <= 0; lasts <= 0; tlasts <= 0;
            mac_first <= 0; last1 <= 0; pad1 <= 0; tlast1 <= 0; tlast2 <= 0; tlast3 <= 0;
            tlast4 <= 0;
        end else begin
            fifo_tail <= tail_n;
            if (pop) fifo_head <= fifo_head + 1'b1;
            fifo_count <= fifo_count + {{FB{1'b0}}, push} - {{FB{1'b0}}, pop};
            if (push && !pop) fifo_nz <= 1'b1;
            else if (pop && !push) fifo_nz <= (fifo_count != 1);
            out_en <= vq; last4 <= lastq; tlast4 <= tlastq;
            vq <= v3; lastq <= last3; tlastq <= tlast3;
            pa <= pa_n;
            pa_inc_r <= pa_inc_n;
            qa_r <= qa_n;
            v3 <= vm; last3 <= lastm; tlast3 <= tlastm;
            vm <= vi_m; lastm <= lasti_m; tlastm <= tlasti_m;
            vi <= vh; lasti <= vh && (cnt == SM1); tlasti <= tlasth;
            if (hold) begin
                vh <= 1'b1; cnt <= 0; tlasth <= tlast2;
            end else if (vh) begin
                if (cnt == SM1) vh <= 1'b0;
                else cnt <= cnt + 1'b1;
            end
            if (va && lasta) tlast2 <= tlasta;
            hold <= va && lasta;
            va <= vs; lasta <= lasts; tlasta <= tlasts;
            vs <= vl; lasts <= lastl; tlasts <= tlastl;
            vl <= vp; lastl <= lastp; tlastl <= tlastp;
            vp <= vb_p; lastp <= lastb_p; tlastp <= tlastb_p;
            vy <= vx; lasty <= lastx; tlasty <= tlastx;
            vx <= vb; lastx <= lastb; tlastx <= tlastb;
            vb <= mac_en; lastb <= last1; tlastb <= tlast1;
            mac_en <= issue;
            mac_first <= issue && group_start;
            last1 <= issue && group_end;
            pad1 <= pad;
            tlast1 <= issue && frame_end;
            committed_r <= committed_n;
            cinc_r <= c_up ? cinc_r + 1'b1 : c_down ? committed_r : cinc_r;
            cdec_r <= c_up ? committed_r : c_down ? cdec_r - 1'b1 : cdec_r;
            issue_r <= issue_n;
            nissue_r <= !issue_n;
            if (issue) begin
                iy_r <= iy_n;
                ix_r <= ix_n;
                slot_r <= slot_n;
                slot_inc_r <= slot_n_inc;
                fbslot_inc_r <= fbtop_n_inc;
                fbslot_wrap_r <= fb_wrap_n;
                rtop_r <= rtop_n; rwrap_r <= rwrap_n; rfinc_r <= rfinc_n;
                lcg_r <= lcg_n;
                lcg_inc_r <= lcg_n + SCG;
                addr_r <= addr_n;
                gs_r <= adv_g;
                jl_r <= jl_n; kxl_r <= kxl_n; kyl_r <= kyl_n; gl_r <= gl_n; oxl_r <= oxl_n;
                oyl_r <= oyl_n;
                aky_r <= aky_n; ag_r <= ag_n; aox_r <= aox_n; aw_r <= aw_n;
                wl_r <= wl_r ? (ROM_DEPTH == 1) : (w_addr == DM2);
                // Each counter moves on when the flags below it are all at their last values
                // (one register each, not a chain), to 0 when its own is too.
                j <= adv_kx ? {JW{1'b0}} : j + 1'b1;
                if (adv_kx) kx <= adv_ky ? {KW{1'b0}} : kx + 1'b1;
                if (adv_ky) ky <= adv_g ? {KW{1'b0}} : ky + 1'b1;
                if (adv_g) g <= adv_ox ? {AB_P{1'b0}} : g + 1'b1;
                if (adv_ox) begin
                    ox <= adv_oy ? {OXW{1'b0}} : ox + 1'b1;
                    left_r <= adv_oy ? NP_S : left_r + S_S;
                end
            end
            // The window's registers move with oy, enabled by the decision's inverted copy
            // (issue_c: a few loads) rather than issue_r (174): issue_r's routing and two LUTs
            // in front of their enables, over 100 of them, were conv1's deepest path on
            // UltraScale+ (4.05 ns).
            if (issue_c) begin
                if (wrap_frame) begin
                    oy <= 0;
                    frame_base <= frame_base + H_R;
                    top_r <= NP_S;
                    bot_r <= BOT0_S;
                    top_in_r <= TI0; top_part_r <= TP0; bot_in_r <= BI0; bot_part_r <= BP0;
                    fbtop_r <= frame_base + HTOP0_R;
                    dlow_r <= DLOWI;
                    dneed_r <= DNEEDI;
                    dlowm1_r <= DLOWI - 1'b1;
                    dneedm1_r <= DNEEDI - 1'b1;
                end else if (adv_oy) begin
                    oy <= oy + 1'b1;
                    top_r <= top_r + S_S;
                    bot_r <= bot_r + S_S;
                    // The compares of top_r + S and bot_r + S.
                    top_in_r <= top_r >= NS2_S; top_part_r <= top_r > NS3_S;
                    bot_in_r <= bot_r <= HM1S3_S; bot_part_r <= bot_r < HM1S2_S;
                    fbtop_r <= fbtop_r + S_R;
                    // The steps of the next move: to the next frame when the new row is the
                    // last, else from the window, whose rows are then top_r + s .. bot_r + s.
                    if (oy == HOM2_Y) begin
                        dlow_r <= DLOWW; dlowm1_r <= DLOWW - 1'b1;
                        dneed_r <= DNEEDW; dneedm1_r <= DNEEDW - 1'b1;
                    end else begin
                        dlow_r <= low_step_n;
                        dlowm1_r <= low_step_m1_n;
                        dneed_r <= need_step_n;
                        dneedm1_r <= need_step_m1_n;
                    end
                end
            end
            ahead_r <= ahead_n;
            s_ok_r <= s_ok_n;
            ready_r <= ready_n;
            if (wr_fire) begin
                wr_addr <= (wr_addr == LBM1) ? {AB_LB{1'b0}} : wr_addr + 1'b1;
                if (wjl_r) begin
                    wr_j <= 0;
                    wjl_r <= (CG == 1);
                    if (wxl_r) begin
                        wr_x <= 0;
                        wxl_r <= (W == 1);
                        wrl_r <= (CG == 1) && (W == 1);
                    end else begin
                        wr_x <= wr_x + 1'b1;
                        wxl_r <= (wr_x == WM2_X);
                        wrl_r <= (CG == 1) && (wr_x == WM2_X);
                    end
                end else begin
                    wr_j <= wr_j + 1'b1;
                    wjl_r <= (wr_j == CGM2_J);
                    wrl_r <= (wr_j == CGM2_J) && wxl_r;
                end
            end
        end
    end
endmodule

`default_nettype wire
