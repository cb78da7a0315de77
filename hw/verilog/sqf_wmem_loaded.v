// squeezeflow library module (hw/verilog/sqf_wmem_loaded.v).
`default_nettype none

// sqf_wmem_loaded: a PE's weight memory filled through the weight-load port instead of a
// $readmemh file (UltraRAM on the XCZU7EV fit): an sqf_ram whose write port takes the load
// port's word when it selects memory SEL at an address below DEPTH; reads as sqf_rom.
// The write is registered twice: the two compares of the port (the address against DEPTH, a
// carry chain, and the select against SEL) land in registers of their own, their AND in the
// write enable's register, and the word is written two cycles after it is on the port. The
// load port fans out to every memory of the network; one register after the whole decode
// (the fan-out's route, both compares and the AND) was the XCZU7EV folding's deepest path
// (4.39 ns), and the decode into the write enables before that. The extra cycles are never
// seen: the network's input opens when the loader's `complete` rises, the cycle the last word
// is on the port, and no engine reads a weight before its line buffer holds a window's rows.
// Parameters: WIDTH (1..64), DEPTH >= 1, ABITS = clog2(DEPTH) (at least 1), SEL (the memory's
// number on the load port, below 2^16).
// Read latency 1. A word on the load port is in the memory after the third clock edge.
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
    reg              valid1, in1, hit1, we_r;
    reg [ABITS-1:0]  addr1, waddr_r;
    reg [WIDTH-1:0]  data1, wdata_r;
    initial begin
        valid1 = 1'b0;
        we_r = 1'b0;
    end
    always @(posedge clock) begin
        valid1  <= wl_valid;
        in1     <= wl_addr < DEPTH16;
        hit1    <= wl_sel == SEL16;
        addr1   <= wl_addr[ABITS-1:0];
        data1   <= wl_data[WIDTH-1:0];
        we_r    <= valid1 && in1 && hit1;
        waddr_r <= addr1;
        wdata_r <= data1;
    end
    sqf_ram #(.WIDTH(WIDTH), .DEPTH(DEPTH), .ABITS(ABITS)) ram (
        .clock(clock), .we(we_r), .waddr(waddr_r), .wdata(wdata_r),
        .raddr(raddr), .rdata(rdata));
endmodule

`default_nettype wire
