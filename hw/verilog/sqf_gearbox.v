// squeezeflow library module (hw/verilog/sqf_gearbox.v).
`default_nettype none

// sqf_gearbox: a stream width converter: WI bytes a beat in, WO bytes a beat out, bytes in
// order, tlast on the beat that completes a frame of FRAME bytes (s_tlast is ignored). There is
// no output FIFO: the buffer is the output, and it behaves as a byte FIFO of CAP bytes.
// BANKED = 1 (one width a multiple K >= 2 of the other): two banks of the wider width, CAP =
// 2 max(WI, WO). Widening, 2K slots of WI bytes, written one a push and read a bank a pop;
// narrowing, a bank read at its front and shifted WO bytes a pop, and a bank for the next beat.
// BANKED = 0 (any widths): a shift register of CAP = 2 (WI + WO) bytes, each byte loadable from
// any input lane (measured with Yosys: 5,965 LUTs for 32 -> 4, far more than banked).
// Parameters: WI, WO >= 1; FRAME a multiple of both; BANKED.
// Throughput min(WI, WO) bytes a cycle; an output beat is valid the cycle after its last byte
// arrives.
module sqf_gearbox #(
    parameter WI = 1,
    parameter WO = 1,
    parameter FRAME = 1,
    parameter BANKED = 0
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*WI-1:0]      s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire [8*WO-1:0]      m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    localparam G = (WI < WO) ? WI : WO;
    localparam MX = (WI > WO) ? WI : WO;
    localparam CAP = BANKED ? 2 * MX : 2 * (WI + WO);   // bytes
    localparam CB = $clog2(CAP + 1);
    generate
        if (WI < 1 || WO < 1) begin : bad_widths
            sqf_gearbox_WI_WO_must_be_at_least_1 bad();
        end
        if (BANKED && (WI == WO || MX % G != 0)) begin : bad_banked
            sqf_gearbox_BANKED_needs_distinct_widths_one_a_multiple_of_the_other bad();
        end
        if (FRAME % WI != 0 || FRAME % WO != 0) begin : bad_frame
            sqf_gearbox_FRAME_must_be_a_multiple_of_WI_and_WO bad();
        end
    endgenerate

    // The frame's byte counter at the bits FRAME needs (a 32-bit counter and its compare
    // were the block's deepest path).
    localparam DB = $clog2(FRAME + 1);
    localparam integer C_LASTB = FRAME - WO, C_WO = WO;
    localparam [DB-1:0] LASTB = C_LASTB[DB-1:0], WOD = C_WO[DB-1:0];
    reg [CB-1:0] count;                      // bytes held
    reg [DB-1:0] done;                       // bytes of the frame sent
    localparam integer C_ROOM = CAP - WI;
    localparam [CB-1:0] ROOM_MAX = C_ROOM[CB-1:0];
    // room: WI bytes free; valid: WO bytes held. From the count register alone, or (going
    // down, banked) from the banks' state registers, one flip-flop each.
    wire room, valid;
    assign s_tready = room;
    wire push = s_tready && s_tvalid;
    wire pop = valid && m_tready;
    assign m_tvalid = valid;
    assign m_tlast = valid && (done == LASTB);
    // The count's next value is chosen by push and pop among sums formed from the register
    // alone: pop is the consumer's ready (an engine's line-buffer write), and an add of both
    // behind it ended in a carry chain (6.75 ns in the XC7A200T network).
    wire [CB-1:0] count_p = count - WO[CB-1:0], count_u = count + WI[CB-1:0];
    localparam integer C_NET = WI - WO;      // a push and a pop together (mod 2^CB)
    wire [CB-1:0] count_pu = count + C_NET[CB-1:0];
    // room and valid of the count-based forms are registers too, chosen by push and pop among
    // compares of the same four sums: `count >= WO` after the count register was a carry chain
    // in front of the consumer's write handshake (the ECP5 network's deepest path, 9.43 ns,
    // the 1 -> 8 converter into fire3.expand3x3). Unused when narrowing banked.
    /* verilator lint_off UNUSEDSIGNAL */
    reg room_c, valid_c;
    /* verilator lint_on UNUSEDSIGNAL */
    localparam [CB-1:0] WOC = C_WO[CB-1:0];
    wire valid_n = pop ? (push ? count_pu >= WOC : count_p >= WOC)
        : (push ? count_u >= WOC : count >= WOC);
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; done <= 0;
            room_c <= 1'b1; valid_c <= 1'b0;
        end else begin
            count <= pop ? (push ? count_pu : count_p) : (push ? count_u : count);
            room_c <= pop ? (push ? count_pu <= ROOM_MAX : count_p <= ROOM_MAX)
                : (push ? count_u <= ROOM_MAX : count <= ROOM_MAX);
            valid_c <= valid_n;
            if (pop) done <= (done == LASTB) ? {DB{1'b0}} : done + WOD;
        end
    end

    genvar j, i;
    generate
        if (BANKED && WI > WO) begin : down
            // Narrowing: two banks of WI bytes. A is read at its front and shifts by WO bytes a
            // pop; B holds the next beat while A still holds bytes. Held: A's first a_n slots
            // of WO bytes, then all of B when b_full (count = a_n * WO + WI * b_full). A empty
            // means B empty: A takes B's bytes as its last slot leaves. The output comes from
            // A's first slot, a register, where a 2K:1 multiplexer on a read pointer with 1,000
            // loads was the XC7A200T network's deepest path (the 125 -> 1 converter in front
            // of the average pool, 8.18 ns, docs/timing.md).
            localparam integer K = WI / WO;
            localparam KB = $clog2(K + 1);
            localparam [KB-1:0] KS = K[KB-1:0], K2 = 2;
            reg [8*WI-1:0] a, bk;
            reg [KB-1:0] a_n;
            reg b_full, a_last, a_mt;            // a_last: a_n == 1; a_mt: a_n == 0
            // A moves whenever it is empty or the consumer takes a slot (a_mt || m_tready,
            // the only select with the consumer's ready in it); what it takes depends on the
            // registers alone: B's bytes when its last slot leaves and B is full, the input when
            // it is empty or its last slot leaves with B empty, else its own bytes shifted. B
            // takes the input whenever it is empty, valid beat or not (its bytes count only
            // once b_full is set, by a push while A holds bytes). The selects with the
            // consumer's ready and the pointers in front of their 1,000 loads were the
            // block's deepest paths.
            // room is b_room, a copy of !b_full of its own: b_full also enables B's 1,000
            // flip-flops, and its net in front of the producer's pop was the XC7A200T
            // network's deepest path (8.12 ns, conv10's FIFO pointers). Held inverted, so
            // that synthesis does not merge it back into b_full.
            reg b_room;
            assign room = b_room;
            assign valid = !a_mt;
            // A's selects are registers too (sel_b = a_last && b_full, sel_in = a_mt ||
            // (a_last && !b_full)), set from the next values of the three: formed from b_full,
            // whose net also enables B, they reached A's 1,000 flip-flops one LUT later
            // (6.99 ns on the XC7A200T).
            reg sel_b, sel_in;
            wire pl = pop && a_last, bp = b_full || push;
            wire a_last_n = pl ? bp && (K == 1) : a_mt ? (push ? (K == 1) : a_last)
                : pop ? (a_n == K2) : a_last;
            wire b_full_n = !pl && !a_mt && (b_full || push);
            wire a_mt_n = pl ? !bp : a_mt && !push;
            assign m_tdata = a[0 +: 8*WO];
            // A's enable takes "A empty" from a copy of its own (a_fill, inverted so that
            // synthesis does not merge it back): sharing a_mt, the enable's LUT (1,000 loads)
            // became a step of the pop's logic into a_n (9.85 ns in the XC7A200T network).
            (* keep = "true" *) reg a_fill;
            always @(posedge clock)
                if (reset) a_fill <= 1'b0;
                else a_fill <= !a_mt_n;
            always @(posedge clock) begin
                if (!a_fill || m_tready)
                    a <= sel_b ? bk : sel_in ? s_tdata : {{8*WO{1'b0}}, a[8*WI-1:8*WO]};
                if (!b_full) bk <= s_tdata;
            end
            always @(posedge clock) begin
                if (reset) begin
                    sel_b <= 1'b0; sel_in <= 1'b1;
                end else begin
                    sel_b <= a_last_n && b_full_n;
                    sel_in <= a_mt_n || (a_last_n && !b_full_n);
                end
            end
            always @(posedge clock) begin
                if (reset) begin
                    a_n <= 0; a_last <= 1'b0; b_full <= 1'b0; a_mt <= 1'b1; b_room <= 1'b1;
                end else if (pop && a_last) begin
                    // A's last slot leaves: B's bytes or the pushed beat take its place.
                    a_n <= (b_full || push) ? KS : {KB{1'b0}};
                    a_last <= (b_full || push) && (K == 1);
                    a_mt <= !(b_full || push);
                    b_full <= 1'b0;
                    b_room <= 1'b1;
                end else if (a_mt) begin
                    if (push) begin
                        a_n <= KS;
                        a_last <= (K == 1);
                        a_mt <= 1'b0;
                    end
                end else begin
                    if (pop) begin
                        a_n <= a_n - 1'b1;
                        a_last <= (a_n == K2);
                    end
                    if (push) begin
                        b_full <= 1'b1;
                        b_room <= 1'b0;
                    end
                end
            end
        end else if (BANKED) begin : up
            assign room = room_c;             // count <= ROOM_MAX
            assign valid = valid_c;           // count >= WO
            // Widening: 2K slots of WI bytes (two banks of WO); a push writes slot `tail`, a
            // pop reads bank `head`, so each output byte is a 2:1 multiplexer.
            localparam K = WO / WI;
            localparam N = 2 * K;            // slots
            localparam SB = $clog2(N);
            localparam N_POW2 = (N & (N - 1)) == 0;
            reg head;
            reg [SB-1:0] tail;
            wire [8*WI*N-1:0] slots;         // slot j in bits [8 WI j +: 8 WI]
            for (j = 0; j < N; j = j + 1) begin : slot
                reg [8*WI-1:0] b;
                localparam [SB-1:0] AT = j;
                // Written whenever the slot is the free one at the tail, valid beat or not: a
                // slot with no valid byte is not read, and a push writes it again. The enable
                // then comes from registers alone, not from the producer's valid.
                wire hit = (tail == AT);
                always @(posedge clock)
                    if (room && hit) b <= s_tdata;
                assign slots[8*WI*j +: 8*WI] = b;
            end
            assign m_tdata = slots[8*WO*head +: 8*WO];
            // The slot pointer counts 0 .. N-1 (wrapping by itself when N is a power of two),
            // the bank pointer toggles.
            localparam integer LAST_I = N - 1;
            localparam [SB-1:0] LAST_SLOT = LAST_I[SB-1:0];
            always @(posedge clock) begin
                if (reset) begin
                    head <= 0; tail <= 0;
                end else begin
                    if (pop) head <= head + 1'b1;
                    if (push) tail <= (N_POW2 || tail != LAST_SLOT) ? tail + 1'b1 : {SB{1'b0}};
                end
            end
        end else begin : shift
            assign room = room_c;             // count <= ROOM_MAX
            assign valid = valid_c;           // count >= WO
            wire [8*CAP+8*WO-1:0] bytes;     // the buffer, then WO zero bytes (shifted in)
            assign bytes[8*CAP +: 8*WO] = {8*WO{1'b0}};
            assign m_tdata = bytes[0 +: 8*WO];
            // The count once more, one-hot (oh[c]: count == c), moved by the same push and pop
            // as a shift. The byte selects below read one bit of it each: compared with
            // constants, count's bits had 126 loads and two LUTs behind them, the 6-bit fit's
            // deepest path (7.55 ns on the XC7A200T, fire6.expand1x1's 3 -> 4 converter).
            // ohx is oh with WI zeros below and WO above, so that every select reads a bit.
            reg [CAP:0] oh;
            wire [CAP+WI+WO:0] ohx = {{WO{1'b0}}, oh, {WI{1'b0}}};
            wire [CAP:0] oh_pu = (WI >= WO) ? oh << (WI - WO) : oh >> (WO - WI);
            always @(posedge clock) begin
                if (reset) oh <= {{CAP{1'b0}}, 1'b1};
                else oh <= pop ? (push ? oh_pu : oh >> WO) : (push ? oh << WI : oh);
            end
            // Each group of PG bytes takes its pop from a copy of its own, the copy's valid
            // (a register, kept apart by `keep` on its process) and the consumer's ready: one
            // pop into all CAP bytes had 159 loads, and its hop was the XCZU7EV network's
            // deepest path (4.76 ns, fire7.expand3x3's 3 -> 8 converter, docs/timing.md).
            localparam PG = 4;
            localparam NG = (CAP + PG - 1) / PG;
            wire [NG-1:0] pops;
            for (j = 0; j < NG; j = j + 1) begin : pop_copy
                reg v;
                (* keep *)
                always @(posedge clock)
                    if (reset) v <= 1'b0;
                    else v <= valid_n;
                (* keep *) wire p = v && m_tready;
                assign pops[j] = p;
            end
            for (i = 0; i < CAP; i = i + 1) begin : byte_
                wire pop_i = pops[i / PG];
                reg [7:0] b;
                reg [7:0] nb;
                integer l;
                // Byte i comes from input lane (i - keep) when i >= keep, else from byte i + WO
                // when popping. The lane is found for both values of keep (count and count -
                // WO), and pop only chooses between them: pop comes from the consumer's ready,
                // which was the end of the XC7A200T network's deepest path (docs/timing.md). A
                // byte at or above keep is free, so it takes its lane whether a beat is pushed
                // or not (no push, no valid, in its path).
                reg [WI-1:0] at_keep, at_popped;
                always @(*) begin
                    for (l = 0; l < WI; l = l + 1) begin
                        at_keep[l] = ohx[i - l + WI];             // count == i - l
                        at_popped[l] = ohx[i + WO - l + WI];      // count == i + WO - l
                    end
                end
                wire [WI-1:0] at_lane = pop_i ? at_popped : at_keep;
                always @(*) begin
                    nb = pop_i ? bytes[8*(i+WO) +: 8] : b;
                    for (l = WI - 1; l >= 0; l = l - 1)
                        if (at_lane[l]) nb = s_tdata[8*l +: 8];
                end
                always @(posedge clock) if (!reset) b <= nb;
                assign bytes[8*i +: 8] = b;
            end
        end
    endgenerate
endmodule

`default_nettype wire
