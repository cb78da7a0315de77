// squeezeflow library module (hw/verilog/sqf_rom.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_rom: a read-only memory initialised from a $readmemh file (relative to the tool's working
// directory, which for a bundle is the bundle directory). Synchronous read, latency 1.
module sqf_rom #(
    parameter WIDTH = 8,                     // bits per word
    parameter DEPTH = 1,                     // words
    parameter ABITS = 1,                     // address bits, at least clog2(DEPTH)
    parameter FILE  = "rom.mem",             // one hexadecimal word per line
    // Data bits read at each address: part c (bits c*SPLIT ..) reads at addr[c*ABITS +: ABITS],
    // so that register copies of one address each drive a share of a ROM in logic's LUTs.
    parameter SPLIT = WIDTH
) (
    input  wire              clock,
    input  wire [ABITS*((WIDTH+SPLIT-1)/SPLIT)-1:0] addr,
    output wire [WIDTH-1:0]  data
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (WIDTH < 1 || DEPTH < 1 || DEPTH > (1 << ABITS) || SPLIT < 1) begin : bad_shape
            sqf_rom_WIDTH_DEPTH_SPLIT_at_least_1_and_DEPTH_within_ABITS bad();
        end
    endgenerate
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    // data has no initial value: a bit that is the same in every word is then a constant, not
    // a register of it. Registers of equal constants with an initial value were merged by
    // Yosys across engines (the requantizers' shift: one register, 319 loads).
    initial $readmemh(FILE, mem);
    localparam NP = (WIDTH + SPLIT - 1) / SPLIT;
    genvar c;
    generate
        for (c = 0; c < NP; c = c + 1) begin : part
            localparam LO = c * SPLIT;
            localparam HI = (LO + SPLIT < WIDTH) ? LO + SPLIT : WIDTH;
            reg [HI-LO-1:0] d;
            always @(posedge clock)
                d <= mem[addr[c*ABITS +: ABITS]][HI-1:LO];
            assign data[HI-1:LO] = d;
        end
    endgenerate
endmodule

`default_nettype wire
