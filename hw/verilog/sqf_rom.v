// squeezeflow library module (hw/verilog/sqf_rom.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_rom: a read-only memory initialised from a $readmemh file (relative to the tool's working
// directory, which for a bundle is the bundle directory). Synchronous read, latency 1.
module sqf_rom #(
    parameter WIDTH = 8,                     // bits per word
    parameter DEPTH = 1,                     // words
    parameter ABITS = 1,                     // address bits, at least clog2(DEPTH)
    parameter FILE  = "rom.mem"              // one hexadecimal word per line
) (
    input  wire              clock,
    input  wire [ABITS-1:0]  addr,
    output reg  [WIDTH-1:0]  data
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (WIDTH < 1 || DEPTH < 1 || DEPTH > (1 << ABITS)) begin : bad_shape
            sqf_rom_WIDTH_DEPTH_at_least_1_and_DEPTH_within_ABITS bad();
        end
    endgenerate
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    // data has no initial value: a bit that is the same in every word is then a constant, not
    // a register of it. Registers of equal constants with an initial value were merged by
    // Yosys across engines (the requantizers' shift: one register, 319 loads).
    initial $readmemh(FILE, mem);
    always @(posedge clock)
        data <= mem[addr];
endmodule

`default_nettype wire
