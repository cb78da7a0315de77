// squeezeflow library module (hw/verilog/sqf_wmem_loaded.v).
`default_nettype none

// sqf_wmem_loaded: a PE's weight memory filled through the weight-load port instead of a
// $readmemh file (UltraRAM on the XCZU7EV fit): an sqf_ram whose write port takes the load
// port's word when it selects memory SEL at an address below DEPTH; reads as sqf_rom.
// The write is registered: the decode of the port (the address compared against DEPTH and the
// select against SEL, carry chains) lands in a register, and the word is written the cycle after
// it is on the port. The load port fans out to every memory of the network; this keeps the
// decode out of the memories' write-enable timing (on the XCZU7EV it was the deepest path).
// The extra cycle is never seen: the network's input opens when the loader's `complete` rises,
// the cycle the last word is on the port, and no engine reads a weight before its line buffer
// holds a window's rows.
// Parameters: WIDTH (1..64), DEPTH >= 1, ABITS = clog2(DEPTH) (at least 1), SEL (the memory's
// number on the load port, below 2^16).
// Read latency 1. A word on the load port is in the memory after the second clock edge.
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
    reg              we_r;
    reg [ABITS-1:0]  waddr_r;
    reg [WIDTH-1:0]  wdata_r;
    initial we_r = 1'b0;
    always @(posedge clock) begin
        we_r    <= wl_valid && (wl_addr < DEPTH16) && (wl_sel == SEL16);
        waddr_r <= wl_addr[ABITS-1:0];
        wdata_r <= wl_data[WIDTH-1:0];
    end
    sqf_ram #(.WIDTH(WIDTH), .DEPTH(DEPTH), .ABITS(ABITS)) ram (
        .clock(clock), .we(we_r), .waddr(waddr_r), .wdata(wdata_r),
        .raddr(raddr), .rdata(rdata));
endmodule

`default_nettype wire
