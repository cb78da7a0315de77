// squeezeflow library module (hw/verilog/sqf_rom_lut.v). The arithmetic is the int8 contract of
// model/src/quant.rs; hw/src/leaf.rs holds an independent Rust model tested against it.
`default_nettype none

// sqf_rom_lut: sqf_rom in LUTs rather than block RAM (a weight ROM the fit moved out of block
// RAM). Yosys reads rom_style = "logic"; for Vivado write rom_style = "distributed".
module sqf_rom_lut #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1,
    parameter FILE  = "rom.mem"
) (
    input  wire              clock,
    input  wire [ABITS-1:0]  addr,
    output reg  [WIDTH-1:0]  data
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (WIDTH < 1 || DEPTH < 1 || DEPTH > (1 << ABITS)) begin : bad_shape
            sqf_rom_lut_WIDTH_DEPTH_at_least_1_and_DEPTH_within_ABITS bad();
        end
    endgenerate
    // Logic, not block RAM: `rom_style` for Yosys (Vivado reads the same attribute and takes
    // "distributed" for it; it warns on "logic" and chooses itself), `romstyle` for Quartus.
    (* rom_style = "logic", romstyle = "logic" *) reg [WIDTH-1:0] mem [0:DEPTH-1];
    // data has no initial value: a bit that is the same in every word is then a constant, not
    // a register of it. Registers of equal constants with an initial value were merged by
    // Yosys across engines (the requantizers' shift: one register, 319 loads).
    initial $readmemh(FILE, mem);
    always @(posedge clock)
        data <= mem[addr];
endmodule

`default_nettype wire
