// squeezeflow library module (hw/verilog/sqf_gearbox_banked.v).
`default_nettype none

// sqf_gearbox_banked: a stream width converter for widths that are multiples of each other:
// WI bytes a beat in, WO bytes a beat out, bytes in order, tlast on the beat that completes a
// frame of FRAME bytes (s_tlast is ignored). With G = min(WI, WO) and K = max / min, the buffer
// is 2K slots of G bytes (two banks of the wider width): the wide side reads or writes a whole
// bank, the narrow side one slot, so each output byte is a 2K:1 or 2:1 multiplexer. There is no
// output FIFO: the buffer is the output. Behaves as a byte FIFO of 2 * max(WI, WO) bytes.
// Parameters: WI, WO >= 1 with one a multiple K >= 2 of the other; FRAME a multiple of both.
// Throughput min(WI, WO) bytes a cycle; an output beat is valid the cycle after its last byte
// arrives.
module sqf_gearbox_banked #(
    parameter WI = 2,
    parameter WO = 1,
    parameter FRAME = 2
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
    localparam K = MX / G;
    localparam N = 2 * K;                    // slots
    localparam CAP = 2 * MX;                 // bytes
    localparam CB = $clog2(CAP + 1);
    localparam SB = $clog2(N);
    localparam DOWN = WI > WO;               // a bank in, a slot out
    localparam N_POW2 = (N & (N - 1)) == 0;
    generate
        if (WI < 1 || WO < 1 || WI == WO || MX % G != 0) begin : bad_widths
            sqf_gearbox_banked_WI_WO_must_be_distinct_multiples bad();
        end
        if (FRAME % WI != 0 || FRAME % WO != 0) begin : bad_frame
            sqf_gearbox_banked_FRAME_must_be_a_multiple_of_WI_and_WO bad();
        end
    endgenerate

    reg [CB-1:0] count;                      // bytes held
    reg [31:0] done;                         // bytes of the frame sent
    assign s_tready = !reset && ({1'b0, count} + WI <= CAP);
    wire push = s_tready && s_tvalid;
    wire valid = (count >= WO);
    wire pop = valid && m_tready;
    assign m_tvalid = valid;
    assign m_tlast = valid && (done == FRAME - WO);
    wire [CB-1:0] keep = count - (pop ? WO[CB-1:0] : {CB{1'b0}});
    // Pointers: the slot side counts slots (0 .. N-1), the bank side one bit.
    reg [(DOWN ? SB : 1)-1:0] head;
    reg [(DOWN ? 1 : SB)-1:0] tail;
    wire [8*G*N-1:0] slots;                  // slot j in bits [8Gj +: 8G]
    genvar j;
    generate
        for (j = 0; j < N; j = j + 1) begin : slot
            reg [8*G-1:0] b;
            // Going down a push writes bank `tail` (slots K*tail ..), going up slot `tail`.
            localparam integer AT_I = DOWN ? j / K : j;
            localparam [(DOWN ? 1 : SB)-1:0] AT = AT_I[(DOWN ? 1 : SB)-1:0];
            wire hit = (tail == AT);
            always @(posedge clock)
                if (!reset && push && hit) b <= s_tdata[8*G*(DOWN ? j % K : 0) +: 8*G];
            assign slots[8*G*j +: 8*G] = b;
        end
    endgenerate
    // Going down a pop reads slot `head`, going up bank `head`.
    assign m_tdata = slots[8*WO*head +: 8*WO];
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; done <= 0;
        end else begin
            count <= keep + (push ? WI[CB-1:0] : {CB{1'b0}});
            if (pop) done <= (done == FRAME - WO) ? 0 : done + WO;
        end
    end
    // The slot pointer counts 0 .. N-1 (wrapping by itself when N is a power of two), the
    // bank pointer toggles.
    localparam integer LAST_I = N - 1;
    localparam [SB-1:0] LAST_SLOT = LAST_I[SB-1:0];
    generate
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
    endgenerate
endmodule

`default_nettype wire
