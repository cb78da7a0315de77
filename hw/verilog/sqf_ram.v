// squeezeflow library module (hw/verilog/sqf_ram.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_ram: simple dual-port RAM (one write port, one read port), synchronous read, latency 1.
module sqf_ram #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1
) (
    input  wire              clock,
    input  wire              we,
    input  wire [ABITS-1:0]  waddr,
    input  wire [WIDTH-1:0]  wdata,
    input  wire [ABITS-1:0]  raddr,
    output reg  [WIDTH-1:0]  rdata
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (WIDTH < 1 || DEPTH < 1 || DEPTH > (1 << ABITS)) begin : bad_shape
            sqf_ram_WIDTH_DEPTH_at_least_1_and_DEPTH_within_ABITS bad();
        end
    endgenerate
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial rdata = {WIDTH{1'b0}};
    always @(posedge clock) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule

`default_nettype wire
