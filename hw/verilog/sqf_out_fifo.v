// squeezeflow library module (hw/verilog/sqf_out_fifo.v).
`default_nettype none

// sqf_out_fifo: the output FIFO every stream block ends in. The block pushes a beat (LANES
// bytes and tlast) at a clock edge when `push` is set; the head drives the AXI4-Stream master
// combinationally (tvalid = count != 0). `count` is a register, so a block's tready logic that
// reads it has no combinational path from the consumer's tready.
// Ports: push, din (lane l in bits [8l+7:8l]), last_in; count (beats held); m_* the stream.
// Parameters: LANES >= 1 bytes a beat, DEPTH a power of two >= 2.
// Latency 1 (a beat pushed at an edge is at the head after it); throughput a beat a cycle.
// The caller must not push into a full FIFO (count == DEPTH with no pop).
module sqf_out_fifo #(
    parameter LANES = 1,
    parameter DEPTH = 4
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
    endgenerate

    reg [AB-1:0] head, tail;
    wire pop = (count != 0) && m_tready;
    // One word a slot (all lanes): Verilator simulates this far faster than a memory a lane
    // once there are many lanes (measured: 25x at 512 lanes).
    reg [8*LANES-1:0] q [0:DEPTH-1];
    always @(posedge clock) if (push) q[tail] <= din;
    assign m_tdata = q[head];
    reg ql [0:DEPTH-1];
    always @(posedge clock) if (push) ql[tail] <= last_in;
    assign m_tlast = ql[head];
    assign m_tvalid = (count != 0);
    // The count's next value is chosen by push and pop among values formed from the register
    // alone: push and pop come late (the consumer's ready, the block's input handshake), and
    // an add of both ended in a carry chain (6.58 ns in the XC7A200T network). count - 1 is
    // written ~(~count + 1): as count - 1, Yosys shares one adder between the two sums, its
    // operand chosen by pop, and the carry chain is back behind pop.
    wire [AB:0] count_up = count + 1'b1, count_dn = ~(~count + 1'b1);
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; tail <= 0;
        end else begin
            if (push) tail <= tail + 1'b1;
            if (push && !pop) count <= count_up;
            else if (pop && !push) count <= count_dn;
        end
    end
    // The head is cleared a cycle after the rest, by a copy of reset of its own (kept: Yosys
    // would merge the copies of every FIFO into one): Yosys moves the head register into the
    // memory's read port (memory_dff), so its next value is the read address, and reset, a
    // net of thousands of loads, in front of it was the XC7A200T network's deepest path
    // (7.42 ns). The cycle after reset holds count = 0, so nothing pops and the head's value
    // is unseen; the first push goes to tail = 0, where the head then is.
    // head + 1 is a register too (head_inc), so the read address's next value has no carry
    // chain: head + 1 in front of a tlast memory's multiplexers was 6.50 ns (XC7A200T).
    reg head_rst;
    reg [AB-1:0] head_inc;
    (* keep *) always @(posedge clock) head_rst <= reset;
    always @(posedge clock) begin
        if (head_rst) begin
            head <= 0; head_inc <= 1;
        end else if (pop) begin
            head <= head_inc; head_inc <= head_inc + 1'b1;
        end
    end
endmodule

`default_nettype wire
