// squeezeflow library module (hw/verilog/sqf_ram.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_ram: simple dual-port RAM (one write port, one read port), synchronous read, latency 1.
// NO_RW = 1: the caller never reads a word at the edge that writes it, so synthesis needs no
// logic for that case (`no_rw_check`); Yosys otherwise put a bypass multiplexer behind an
// ECP5 block RAM's read (a convolution engine's line buffer read a cycle early, whose register
// then could not be the block RAM's output register).
module sqf_ram #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1,
    parameter NO_RW = 0
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
        if (WIDTH < 1 || DEPTH < 1 || DEPTH > (1 << ABITS) || (NO_RW != 0 && NO_RW != 1))
        begin : bad_shape
            sqf_ram_WIDTH_DEPTH_at_least_1_DEPTH_within_ABITS_NO_RW_0_or_1 bad();
        end
    endgenerate
    (* no_rw_check = NO_RW *) reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial rdata = {WIDTH{1'b0}};
    always @(posedge clock) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule

`default_nettype wire
