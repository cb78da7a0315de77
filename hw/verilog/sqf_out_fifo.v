// squeezeflow library module (hw/verilog/sqf_out_fifo.v).
`default_nettype none

// sqf_out_fifo: the output FIFO every stream block ends in. The block pushes a beat (LANES
// bytes and tlast) at a clock edge when `push` is set; the head drives the AXI4-Stream master
// (tvalid = count != 0; the data straight from the memory's read, or with OUT_REG from a
// register). `count` is a register, so a block's tready logic that reads it has no
// combinational path from the consumer's tready.
// Ports: push, din (lane l in bits [8l+7:8l]), last_in; count (beats held); m_* the stream.
// Parameters: LANES >= 1 bytes a beat, DEPTH a power of two >= 2, OUT_REG (0, 1 or 2; 1 needs
// DEPTH >= 4, 2 DEPTH >= 8), RADDR_REG (0 or 1; 1 needs OUT_REG = 1: the memory read at a register
// address, for LUT RAM; below).
// OUT_REG = 1 (for the FIFOs deep enough for block RAM): the head beat is a register of its
// own, and the memory is read a beat ahead into it, so the memory's read (an ECP5 DP16KD's is
// 5.83 ns clock to out without its output register, which Yosys does not use) ends in that
// register rather than in the consumer's logic: a bypass FIFO's block RAM read into a
// concatenation's multiplexer and on into its FIFO was the ECP5 network's deepest path
// (9.18 ns). Same ports, latency and behaviour as OUT_REG = 0.
// OUT_REG = 2 (block RAM with its output register, ECP5): the memory's read goes into a
// register with nothing between (rd2, which the ECP5 flow moves into the DP16KD's output
// register), two cycles after its address, and the head is the first of four registers the
// reads fill ahead (below). With OUT_REG = 1 the DP16KD's read (5.83 ns clock to out) met a
// multiplexer before its register, the ULX3S build's critical path (108.2 MHz, the bypass
// FIFOs). Same ports, latency and behaviour as OUT_REG = 0.
// Latency 1 (a beat pushed at an edge is at the head after it); throughput a beat a cycle.
// The caller must not push into a full FIFO (count == DEPTH with no pop).
module sqf_out_fifo #(
    parameter LANES = 1,
    parameter DEPTH = 4,
    parameter OUT_REG = 0,
    parameter RADDR_REG = 0
) (
    input  wire                 clock,
    input  wire                 reset,       // synchronous, active high
    input  wire                 push,
    input  wire [8*LANES-1:0]   din,
    input  wire                 last_in,
    output reg  [$clog2(DEPTH):0] count,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    localparam AB = $clog2(DEPTH);
    // Parameter checks at elaboration: a bad combination instantiates a module that does not
    // exist, whose name says what is wrong (Verilator, Icarus, Yosys and Vivado all stop there).
    generate
        if (LANES < 1) begin : bad_lanes
            sqf_out_fifo_LANES_must_be_at_least_1 bad();
        end
        if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin : bad_depth
            sqf_out_fifo_DEPTH_must_be_a_power_of_two_at_least_2 bad();
        end
        if (OUT_REG < 0 || OUT_REG > 2 || (OUT_REG == 1 && DEPTH < 4) || (OUT_REG == 2 && DEPTH < 8))
        begin : bad_out_reg
            sqf_out_fifo_OUT_REG_0_1_or_2_and_1_needs_DEPTH_4_and_2_DEPTH_8 bad();
        end
        if ((RADDR_REG != 0 && RADDR_REG != 1) || (RADDR_REG == 1 && OUT_REG != 1))
        begin : bad_raddr
            sqf_out_fifo_RADDR_REG_0_or_1_and_1_needs_OUT_REG bad();
        end
    endgenerate

    reg [AB-1:0] tail;
    // count != 0 as a register of its own (nz), moved with the count: decoded from the count,
    // it was a LUT level (two at 16 beats and more) in front of the consumer's handshake and
    // of this FIFO's pop, in paths that cross from one block into the next (the ULX3S build).
    reg nz;
    wire pop = nz && m_tready;
    assign m_tvalid = nz;
    // The count's next value is chosen by push and pop among values formed from the register
    // alone: push and pop come late (the consumer's ready, the block's input handshake), and
    // an add of both ended in a carry chain (6.58 ns in the XC7A200T network). count - 1 is
    // written ~(~count + 1): as count - 1, Yosys shares one adder between the two sums, its
    // operand chosen by pop, and the carry chain is back behind pop.
    wire [AB:0] count_up = count + 1'b1, count_dn = ~(~count + 1'b1);
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; tail <= 0; nz <= 1'b0;
        end else begin
            if (push) tail <= tail + 1'b1;
            if (push && !pop) begin
                count <= count_up; nz <= 1'b1;
            end else if (pop && !push) begin
                count <= count_dn; nz <= (count != 1);
            end
        end
    end
    // The head is cleared a cycle after the rest, by a copy of reset of its own (kept: Yosys
    // would merge the copies of every FIFO into one): Yosys moves the head register into the
    // memory's read port (memory_dff), so its next value is the read address, and reset, a
    // net of thousands of loads, in front of it was the XC7A200T network's deepest path
    // (7.42 ns). The cycle after reset holds count = 0, so nothing pops and the head's value
    // is unseen; the first push goes to tail = 0, where the head then is.
    // head + 1 is a register too (head_inc; head_inc2 in the OUT_REG form), so the read
    // address's next value has no carry chain: head + 1 in front of a tlast memory's
    // multiplexers was 6.50 ns (XC7A200T).
    /* verilator lint_off UNUSEDSIGNAL */   // unused with OUT_REG = 2
    reg head_rst;
    /* verilator lint_on UNUSEDSIGNAL */
    (* keep *) always @(posedge clock) head_rst <= reset;
    generate
        if (OUT_REG == 0) begin : comb_head
            reg [AB-1:0] head, head_inc;
            always @(posedge clock) begin
                if (head_rst) begin
                    head <= 0; head_inc <= 1;
                end else if (pop) begin
                    head <= head_inc; head_inc <= head_inc + 1'b1;
                end
            end
            // One word a slot (all lanes): Verilator simulates this far faster than a memory a
            // lane once there are many lanes (measured: 25x at 512 lanes).
            reg [8*LANES-1:0] q [0:DEPTH-1];
            always @(posedge clock) if (push) q[tail] <= din;
            assign m_tdata = q[head];
            reg ql [0:DEPTH-1];
            always @(posedge clock) if (push) ql[tail] <= last_in;
            assign m_tlast = ql[head];
        end else if (OUT_REG == 2) begin : pre_head
            // The head and the three beats after it are slots r[0..3] (slot k: the beat k
            // places from the head; val[k]: it is there). The memory holds the beats from the
            // fifth place on, bn of them not yet read (written at wp, read at rp): a pushed beat
            // whose place (w, the beats in the slots or read) is below 4 goes straight into
            // slot w while the memory holds none, into the memory otherwise. A read is issued
            // when the memory's first beat's place falls below 4 (at 3: the pops move it one
            // place a cycle, so it is taken in the cycle it comes to 3); its data are on the
            // memory's pins a cycle later (v1), in rd2 the next (v2), and go into the first
            // empty slot (its place, as the beats read before it are in theirs), three cycles
            // after the read at one pop a cycle: the head is never missing. Every choice is
            // from registers but the pop and the push. Reset clears these at once (not a cycle
            // later, as the other forms' heads): a beat may be pushed in the cycle after it.
            wire [8*LANES:0] word = {last_in, din};
            (* no_rw_check *) reg [8*LANES:0] q [0:DEPTH-1];
            reg [8*LANES:0] rd1, rd2;
            reg [8*LANES:0] r [0:3];
            reg [3:0] val;
            reg [AB-1:0] wp, rp;
            reg [AB:0] bn;                           // beats in the memory, not read
            reg bz, b1;                              // bn == 0, bn == 1
            reg v1, v2;
            reg [4:0] w;                             // one-hot: w[k], k beats in the slots or read
            wire direct = bz && !w[4];
            wire dp = push && direct;
            wire to_mem = push && !direct;
            wire issue = !bz && !w[4];
            // fi[k]: slot k is the first empty one.
            wire [4:0] fi = {&val, val[2:0] == 3'b111 && !val[3], val[1:0] == 2'b11 && !val[2],
                val[0] && !val[1], !val[0]};
            always @(posedge clock) if (to_mem) q[wp] <= word;
            always @(posedge clock) begin
                rd1 <= q[rp];
                rd2 <= rd1;
            end
            always @(posedge clock) begin
                if (reset) begin
                    wp <= 0; rp <= 0; bn <= 0; bz <= 1'b1; b1 <= 1'b0; v1 <= 1'b0; v2 <= 1'b0;
                    w <= 5'b00001;
                end else begin
                    if (to_mem) wp <= wp + 1'b1;
                    if (issue) rp <= rp + 1'b1;
                    if (to_mem && !issue) begin
                        bn <= bn + 1'b1; bz <= 1'b0; b1 <= bz;
                    end else if (issue && !to_mem) begin
                        bn <= bn - 1'b1; bz <= b1; b1 <= (bn == 2);
                    end
                    v1 <= issue;
                    v2 <= v1;
                    if ((dp || issue) && !pop) w <= {w[3:0], 1'b0};
                    else if (pop && !(dp || issue)) w <= {1'b0, w[4:1]};
                end
            end
            // Slot k after the edge: the beat of place k (popping: k + 1) before it, from rd2
            // if that place is the first empty one and a read arrives, from the push if it is
            // the push's place (w), else the slot's (popping: the next slot's) own.
            genvar k;
            for (k = 0; k < 4; k = k + 1) begin : slot
                localparam N = (k < 3) ? k + 1 : k;
                wire at_rd = pop ? fi[k + 1] : fi[k];
                wire at_dp = pop ? w[k + 1] : w[k];
                wire [8*LANES:0] own = pop ? ((k < 3) ? r[N] : r[k]) : r[k];
                wire own_v = pop ? ((k < 3) && val[N]) : val[k];
                always @(posedge clock) begin
                    r[k] <= (v2 && at_rd) ? rd2 : (dp && at_dp) ? word : own;
                    if (reset) val[k] <= 1'b0;
                    else val[k] <= own_v || (v2 && at_rd) || (dp && at_dp);
                end
            end
            assign {m_tlast, m_tdata} = r[0];
        end else begin : reg_head
            // out_r holds the head beat (tlast and bytes). Every beat is written to the memory,
            // and a pop moves the head's successor (head + 1) into out_r:
            //  - with 3 or more beats held, the successor from the memory's read (rd, below):
            //    it was pushed two edges or more before, so the read saw it, and no write
            //    meets that read's address;
            //  - with 2, the last beat pushed, last_r (it may be in the memory only from this
            //    very edge);
            //  - with 1, the beat pushed at this edge if any.
            // An empty FIFO takes a pushed beat straight into out_r.
            wire [8*LANES:0] word = {last_in, din};
            (* no_rw_check *) reg [8*LANES:0] q [0:DEPTH-1];
            reg [8*LANES:0] rd, last_r, out_r;
            always @(posedge clock) if (push) q[tail] <= word;
            // count == 0, 1, 2 and >= 3 as one-hot registers moved with the count (decoded
            // from it, they joined the memory's read in a four-level multiplexer tree), and
            // the read's data chosen last.
            reg f0, f1, f2, f3;
            wire cnt3 = (count == 3);
            always @(posedge clock) begin
                if (reset) begin
                    f0 <= 1'b1; f1 <= 1'b0; f2 <= 1'b0; f3 <= 1'b0;
                end else if (push && !pop) begin
                    f0 <= 1'b0; f1 <= f0; f2 <= f1; f3 <= f2 || f3;
                end else if (pop && !push) begin
                    f0 <= f1; f1 <= f2; f2 <= cnt3; f3 <= f3 && !cnt3;
                end
            end
            wire take_succ = pop && f3;
            wire [8*LANES:0] other = pop ? (f2 ? last_r : word) : (f0 ? word : out_r);
            always @(posedge clock) if (push) last_r <= word;
            reg [AB-1:0] head_inc2;
            if (RADDR_REG == 0) begin : pop_raddr
                // The successor is read every cycle at the next cycle's head + 1 (head_inc2
                // when popping, head_inc otherwise), so rd is the successor itself, and it
                // meets one multiplexer (a block RAM's read on ECP5: 5.83 ns clock to out).
                reg [AB-1:0] head_inc;
                always @(posedge clock) begin
                    if (head_rst) begin
                        head_inc <= 1; head_inc2 <= 2;
                    end else if (pop) begin
                        head_inc <= head_inc2; head_inc2 <= head_inc2 + 1'b1;
                    end
                end
                always @(posedge clock) begin
                    rd <= q[pop ? head_inc2 : head_inc];
                    out_r <= take_succ ? rd : other;
                end
            end else begin : reg_raddr
                // The memory is read every cycle at head + 2 (head_inc2, a register), so the
                // pop (the consumer's ready) chooses only after the read: the pop choosing the
                // address in front of the LUT RAM was the XCZU7EV folding's deepest path
                // (4.59 ns). The successor is then rd after a pop (two past the old head is
                // one past the new), otherwise hold: the successor itself while 3 or more
                // beats are held, the last beat pushed while 2 are. The read meets two
                // multiplexers on the way to out_r: for LUT RAM, not for ECP5's block RAM.
                reg [8*LANES:0] hold;
                reg pop_r;
                always @(posedge clock) begin
                    if (head_rst) head_inc2 <= 2;
                    else if (pop) head_inc2 <= head_inc2 + 1'b1;
                end
                wire [8*LANES:0] succ = pop_r ? rd : hold;
                always @(posedge clock) begin
                    rd <= q[head_inc2];
                    pop_r <= pop;
                    hold <= f3 ? succ : last_r;
                    out_r <= take_succ ? succ : other;
                end
            end
            assign {m_tlast, m_tdata} = out_r;
        end
    endgenerate
endmodule

`default_nettype wire
