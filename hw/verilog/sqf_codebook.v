// squeezeflow library module (hw/verilog/sqf_codebook.v). The arithmetic is the int8 contract of
// model/src/quant.rs and model/src/codebook.rs; hw/src/leaf.rs holds an independent Rust model.
`default_nettype none

// sqf_codebook: Deep Compression's weight decoder. SIMD lanes of K-bit indices (lane l in bits
// [K*l +: K]) become SIMD int8 weights (lane l in bits [8*l +: 8]) through a codebook of 2^K
// bytes read from FILE (one 2-digit hexadecimal byte a line, entry 0 first; the file holds all
// 2^K lines, unused entries 0). Combinational: each lane reads its own weight every cycle, so
// each has its own copy of the codebook, a ROM in logic (K <= 6: one LUT6 an output bit).
module sqf_codebook #(
    parameter SIMD = 1,
    parameter K = 4,
    parameter FILE = "codebook.mem"
) (
    input  wire [K*SIMD-1:0] idx,
    output wire [8*SIMD-1:0] w
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (SIMD < 1 || K < 1 || K > 8) begin : bad_parameters
            sqf_codebook_SIMD_at_least_1_and_K_1_to_8 bad();
        end
    endgenerate
    genvar l;
    generate
        for (l = 0; l < SIMD; l = l + 1) begin : lane
            // Logic, not block RAM (see sqf_rom_lut.v for the attributes).
            (* rom_style = "logic", romstyle = "logic" *) reg [7:0] book [0:(1<<K)-1];
            initial $readmemh(FILE, book);
            assign w[8*l +: 8] = book[idx[K*l +: K]];
        end
    endgenerate
endmodule

`default_nettype wire
