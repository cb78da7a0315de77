// squeezeflow library module (hw/verilog/sqf_wmem_loaded.v).
`default_nettype none

// sqf_wmem_loaded: a PE's weight memory filled through the weight-load port instead of a
// $readmemh file (UltraRAM on the XCZU7EV fit): an sqf_ram whose write port takes the load
// port's word when it selects memory SEL at an address below DEPTH; reads as sqf_rom.
// Parameters: WIDTH (1..64), DEPTH >= 1, ABITS = clog2(DEPTH) (at least 1), SEL (the memory's
// number on the load port, below 2^16).
// Read latency 1.
module sqf_wmem_loaded #(
    parameter WIDTH = 8,
    parameter DEPTH = 1,
    parameter ABITS = 1,
    parameter SEL = 0
) (
    input  wire              clock,
    input  wire              wl_valid,
    input  wire [15:0]       wl_sel,
    input  wire [15:0]       wl_addr,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [63:0]       wl_data,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [ABITS-1:0]  raddr,
    output wire [WIDTH-1:0]  rdata
);
    generate
        if (WIDTH < 1 || WIDTH > 64 || SEL < 0 || SEL > 65535 || DEPTH < 1 || DEPTH > 65535
            || ABITS > 16) begin : bad_parameters
            sqf_wmem_loaded_WIDTH_1_to_64_SEL_16_bits_ABITS_at_most_16 bad();
        end
    endgenerate
    localparam integer C_SEL = SEL, C_DEPTH = DEPTH;
    localparam [15:0] SEL16 = C_SEL[15:0];
    localparam [15:0] DEPTH16 = C_DEPTH[15:0];
    wire we = wl_valid && (wl_addr < DEPTH16) && (wl_sel == SEL16);
    sqf_ram #(.WIDTH(WIDTH), .DEPTH(DEPTH), .ABITS(ABITS)) ram (
        .clock(clock), .we(we), .waddr(wl_addr[ABITS-1:0]), .wdata(wl_data[WIDTH-1:0]),
        .raddr(raddr), .rdata(rdata));
endmodule

`default_nettype wire
