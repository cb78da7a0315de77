// squeezeflow library module (hw/verilog/sqf_gearbox.v).
`default_nettype none

// sqf_gearbox: a stream width converter: WI bytes a beat in, WO bytes a beat out, bytes in
// order, tlast on the beat that completes a frame of FRAME bytes (s_tlast is ignored). There is
// no output FIFO: the buffer is the output, and it behaves as a byte FIFO of CAP bytes.
// BANKED = 1 (one width a multiple K >= 2 of the other): with G = min(WI, WO), 2K slots of G
// bytes (two banks of the wider width, CAP = 2 max(WI, WO)); the wide side reads or writes a
// whole bank, the narrow side one slot, so each output byte is a 2K:1 or 2:1 multiplexer.
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
    wire room = (count <= ROOM_MAX);         // WI bytes free: the count register alone
    assign s_tready = room;
    wire push = s_tready && s_tvalid;
    wire valid = (count >= WO);
    wire pop = valid && m_tready;
    assign m_tvalid = valid;
    assign m_tlast = valid && (done == LASTB);
    wire [CB-1:0] keep = count - (pop ? WO[CB-1:0] : {CB{1'b0}});
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; done <= 0;
        end else begin
            count <= keep + (push ? WI[CB-1:0] : {CB{1'b0}});
            if (pop) done <= (done == LASTB) ? {DB{1'b0}} : done + WOD;
        end
    end

    genvar j, i;
    generate
        if (BANKED) begin : banked
            localparam K = MX / G;
            localparam N = 2 * K;            // slots
            localparam SB = $clog2(N);
            localparam DOWN = WI > WO;       // a bank in, a slot out
            localparam N_POW2 = (N & (N - 1)) == 0;
            // Pointers: the slot side counts slots (0 .. N-1), the bank side one bit.
            reg [(DOWN ? SB : 1)-1:0] head;
            reg [(DOWN ? 1 : SB)-1:0] tail;
            wire [8*G*N-1:0] slots;          // slot j in bits [8Gj +: 8G]
            for (j = 0; j < N; j = j + 1) begin : slot
                reg [8*G-1:0] b;
                // Going down a push writes bank `tail` (slots K*tail ..), going up slot `tail`.
                localparam integer AT_I = DOWN ? j / K : j;
                localparam [(DOWN ? 1 : SB)-1:0] AT = AT_I[(DOWN ? 1 : SB)-1:0];
                // Written whenever the slot is the free one at the tail, valid beat or not: a
                // slot with no valid byte is not read, and a push writes it again. The enable
                // (8 G loads a slot, 1,000 in the 125 -> 1 converter before the average
                // pool) then comes from registers alone, not from the producer's valid.
                wire hit = (tail == AT);
                always @(posedge clock)
                    if (room && hit) b <= s_tdata[8*G*(DOWN ? j % K : 0) +: 8*G];
                assign slots[8*G*j +: 8*G] = b;
            end
            // Going down a pop reads slot `head`, going up bank `head`.
            assign m_tdata = slots[8*WO*head +: 8*WO];
            // The slot pointer counts 0 .. N-1 (wrapping by itself when N is a power of two),
            // the bank pointer toggles.
            localparam integer LAST_I = N - 1;
            localparam [SB-1:0] LAST_SLOT = LAST_I[SB-1:0];
            if (DOWN) begin : down
                always @(posedge clock) begin
                    if (reset) begin
                        head <= 0; tail <= 0;
                    end else begin
                        if (pop) head <= (N_POW2 || head != LAST_SLOT) ? head + 1'b1 : {SB{1'b0}};
                        if (push) tail <= tail + 1'b1;
                    end
                end
            end else begin : up
                always @(posedge clock) begin
                    if (reset) begin
                        head <= 0; tail <= 0;
                    end else begin
                        if (pop) head <= head + 1'b1;
                        if (push) tail <= (N_POW2 || tail != LAST_SLOT) ? tail + 1'b1 : {SB{1'b0}};
                    end
                end
            end
        end else begin : shift
            wire [8*CAP+8*WO-1:0] bytes;     // the buffer, then WO zero bytes (shifted in)
            assign bytes[8*CAP +: 8*WO] = {8*WO{1'b0}};
            assign m_tdata = bytes[0 +: 8*WO];
            for (i = 0; i < CAP; i = i + 1) begin : byte_
                localparam [CB-1:0] IC = i;
                reg [7:0] b;
                reg [7:0] nb;
                integer l;
                // Byte i comes from input lane (i - keep) when i >= keep, else from byte i + WO
                // when popping. The lane is found for both values of keep (count and count -
                // WO) from the count register, and pop only chooses between them: pop comes
                // from the consumer's ready, which was the end of the XC7A200T network's
                // deepest path (docs/timing.md). A byte at or above keep is free, so it takes
                // its lane whether a beat is pushed or not (no push, no valid, in its path).
                reg [WI-1:0] at_keep, at_popped;
                always @(*) begin
                    for (l = 0; l < WI; l = l + 1) begin
                        // count compared with constants (modulo 2^CB, as the sums were)
                        at_keep[l] = (count == IC - l[CB-1:0]);
                        at_popped[l] = (count == IC + WO[CB-1:0] - l[CB-1:0]);
                    end
                end
                wire [WI-1:0] at_lane = pop ? at_popped : at_keep;
                always @(*) begin
                    nb = pop ? bytes[8*(i+WO) +: 8] : b;
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
