// squeezeflow library module (hw/verilog/sqf_frame_guard.v).
`default_nettype none

// sqf_frame_guard: the network's input framing. A frame is PIXELS beats; the input's tlast says
// where the sender thinks it ends. The engines behind the guard only ever see whole frames:
//   - good frame: tlast on beat PIXELS-1 and nowhere before; passed through unchanged;
//   - short frame (tlast on beat k < PIXELS-1): beats 0..k pass, then the guard itself sends
//     PIXELS-1-k zero pixels (the input waits meanwhile); the frame is bad;
//   - long frame (no tlast on beat PIXELS-1): beat PIXELS-1 goes to the engines as the frame's
//     last, then input beats are taken and dropped up to and including the next tlast; bad;
//   - refused frame (`enable` low when its first beat arrives: the weights are not loaded):
//     every beat up to and including its tlast is taken and dropped; nothing reaches the
//     engines, no logits come out for it; counted as bad.
// A bad (short or long) frame's logits come out as usual and are marked: `bad` is high while
// the output frame they belong to is the oldest not yet finished (the top level puts it on
// m_axis_tuser). The guard keeps one flag a frame in flight, in order, in a FLAGS-entry queue
// pushed when a frame's last pixel enters the engines and popped on `done` (the last logit of a
// frame accepted); a frame does not start while the queue is full. `error` is sticky until reset;
// `errors` counts bad and refused frames, saturating at 65535.
// Parameters: W bits a beat, PIXELS >= 2 beats a frame, CB >= clog2(PIXELS) counter bits,
// FLAGS (a power of two >= 2).
// Latency 0 (combinational pass-through of data, valid and ready); throughput a beat a cycle.
module sqf_frame_guard #(
    parameter W      = 24,
    parameter PIXELS = 2,
    parameter CB     = 1,
    parameter FLAGS  = 32
) (
    input  wire          clock,
    input  wire          reset,
    input  wire          enable,
    input  wire [W-1:0]  s_tdata,
    input  wire          s_tvalid,
    input  wire          s_tlast,
    output wire          s_tready,
    output wire [W-1:0]  m_tdata,
    output wire          m_tvalid,
    output wire          m_tlast,
    input  wire          m_tready,
    input  wire          done,
    output wire          bad,
    output reg           error,
    output reg  [15:0]   errors
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (PIXELS < 2 || PIXELS > (1 << CB)) begin : bad_pixels
            sqf_frame_guard_PIXELS_at_least_2_and_within_CB bad_p();
        end
        if (FLAGS < 2 || (FLAGS & (FLAGS - 1)) != 0) begin : bad_flags
            sqf_frame_guard_FLAGS_a_power_of_two bad_f();
        end
    endgenerate
    localparam FB = $clog2(FLAGS);
    localparam PASS = 2'd0, PAD = 2'd1, DROP = 2'd2;
    localparam integer LASTM1_I = PIXELS - 2;
    localparam [CB-1:0] LASTM1 = LASTM1_I[CB-1:0];

    reg [1:0]    state;
    reg [CB-1:0] cnt;
    reg [FLAGS-1:0] flags;
    reg [FB-1:0] rd, wr;
    reg [FB:0]   used;
    // cnt == 0 and cnt == PIXELS - 1 as registers set with cnt, and "full" as used's top bit
    // (used <= FLAGS, a power of two): their compares, carry chains of the counter's width,
    // were the guard's deepest path into the flag queue (8.56 ns on the XC7A200T).
    reg start, at_last;
    wire next_last = (cnt == LASTM1);         // cnt + 1 is the frame's last pixel
    wire full    = used[FB];
    // A frame's first beat waits for room for its flag; without `enable` it is refused.
    wire refuse  = (state == PASS) && start && !enable;
    wire hold    = (state == PASS) && start && enable && full;
    wire pass    = (state == PASS) && !refuse && !hold;

    assign s_tready = !reset && ((pass && m_tready) || refuse || state == DROP);
    // The input ready waits out the reset, so a beat offered then is never taken. The output
    // valid leaves it out: everything downstream is in reset too, and the reset port's
    // thousands of loads in front of the next FIFO's count were a deepest path (docs/timing.md).
    assign m_tvalid = (pass && s_tvalid) || state == PAD;
    assign m_tdata  = (state == PAD) ? {W{1'b0}} : s_tdata;
    assign m_tlast  = at_last;
    assign bad      = (used != 0) && flags[rd];

    wire s_fire = s_tvalid && s_tready;
    wire m_fire = m_tvalid && m_tready;
    // The frame's last pixel enters the engines: its flag joins the queue.
    wire push = m_fire && at_last;
    wire push_bad = (state == PAD) || !s_tlast;
    wire pop = done && (used != 0);
    wire count_bad = (push && push_bad) || (refuse && s_fire);

    // The flag queue written a flag at a time, each from its own compare of wr (flags[wr] <=
    // made a 32-bit shifter and a carry chain in front of the queue, the guard's deepest path).
    genvar fi;
    generate
        for (fi = 0; fi < FLAGS; fi = fi + 1) begin : flag
            localparam [FB-1:0] AT = fi;
            always @(posedge clock)
                if (!reset && push && wr == AT) flags[fi] <= push_bad;
        end
    endgenerate
    always @(posedge clock) begin
        if (reset) begin
            state  <= PASS;
            cnt    <= {CB{1'b0}};
            start  <= 1'b1;
            at_last <= 1'b0;
            rd     <= {FB{1'b0}};
            wr     <= {FB{1'b0}};
            used   <= {(FB+1){1'b0}};
            error  <= 1'b0;
            errors <= 16'd0;
        end else begin
            if (push)
                wr <= wr + 1'b1;
            if (pop)
                rd <= rd + 1'b1;
            used <= used + {{FB{1'b0}}, push} - {{FB{1'b0}}, pop};
            if (count_bad) begin
                error <= 1'b1;
                if (errors != 16'hffff)
                    errors <= errors + 16'd1;
            end
            case (state)
                PASS: begin
                    if (refuse) begin
                        if (s_fire && !s_tlast)
                            state <= DROP;
                    end else if (m_fire) begin
                        if (at_last) begin
                            cnt <= {CB{1'b0}};
                            start <= 1'b1;
                            at_last <= 1'b0;
                            if (!s_tlast)
                                state <= DROP;
                        end else begin
                            cnt <= cnt + 1'b1;
                            start <= 1'b0;
                            at_last <= next_last;
                            if (s_tlast)
                                state <= PAD;
                        end
                    end
                end
                PAD: begin
                    if (m_fire) begin
                        cnt <= at_last ? {CB{1'b0}} : cnt + 1'b1;
                        start <= at_last;
                        at_last <= !at_last && next_last;
                    end
                    if (m_fire && at_last)
                        state <= PASS;
                end
                default: begin
                    if (s_fire && s_tlast)
                        state <= PASS;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
