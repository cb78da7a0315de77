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
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; head <= 0; tail <= 0;
        end else begin
            if (push) tail <= tail + 1'b1;
            if (pop) head <= head + 1'b1;
            count <= count + {{AB{1'b0}}, push} - {{AB{1'b0}}, pop};
        end
    end
endmodule

`default_nettype wire
