// squeezeflow library module (hw/verilog/sqf_axis_weights.v).
`default_nettype none

// sqf_axis_weights: fills the loadable weight memories from an AXI4-Stream, so a DMA (or the
// board shell) loads them. One load is one packet: the words of memory 0 in address order, then
// memory 1, ..., memory NMEM-1, one word a beat in the low bits of s_tdata, tlast on the very
// last word. FILE is a $readmemh file holding, for each memory, its last address (depth - 1).
// Every accepted word leaves one cycle later on the weight-load port (wl_valid, wl_sel,
// wl_addr, wl_data) that every engine watches.
//   - `complete` rises when a load ends with tlast exactly on the last word of memory NMEM-1;
//     a new packet clears it at its first word (a reload) and sets it again when it completes.
//   - A packet whose tlast comes early, or that runs past the last word, is a bad load:
//     `error` rises (sticky until reset), `complete` stays low, the rest of the packet up to its
//     tlast is dropped, and the next packet starts again from memory 0.
// After each memory the input pauses one cycle while the next memory's size is read.
// Parameters: NMEM >= 1 memories, SB >= clog2(NMEM) select bits (at most 16), FILE.
// Throughput a word a cycle within a memory.
module sqf_axis_weights #(
    parameter NMEM   = 1,
    parameter SB     = 1,
    parameter FILE   = "weights_layout.mem"
) (
    input  wire         clock,
    input  wire         reset,
    input  wire [63:0]  s_tdata,
    input  wire         s_tvalid,
    input  wire         s_tlast,
    output wire         s_tready,
    output reg          wl_valid,
    output reg  [15:0]  wl_sel,
    output reg  [15:0]  wl_addr,
    output reg  [63:0]  wl_data,
    output reg          complete,
    output reg          error
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (NMEM < 1 || NMEM > (1 << SB) || SB > 16) begin : bad_nmem
            sqf_axis_weights_NMEM_at_least_1_and_within_SB_at_most_16 bad();
        end
    endgenerate
    localparam FETCH = 2'd0, RUN = 2'd1, DROP = 2'd2;
    localparam integer LAST_I = NMEM - 1;
    localparam [SB-1:0] LAST_MEM = LAST_I[SB-1:0];

    reg [1:0]    state;
    reg [SB-1:0] sel;
    reg [15:0]   addr;
    wire [15:0]  last_addr;
    sqf_rom #(.WIDTH(16), .DEPTH(NMEM), .ABITS(SB), .FILE(FILE)) layout (
        .clock(clock), .addr(sel), .data(last_addr));

    assign s_tready = !reset && (state == RUN || state == DROP);
    wire fire = s_tvalid && s_tready;
    wire mem_end = (addr == last_addr);
    wire load_end = mem_end && (sel == LAST_MEM);

    always @(posedge clock) begin
        wl_valid <= !reset && fire && state == RUN;
        wl_sel   <= {{(16 - SB){1'b0}}, sel};
        wl_addr  <= addr;
        wl_data  <= s_tdata;
        if (reset) begin
            state    <= FETCH;
            sel      <= {SB{1'b0}};
            addr     <= 16'd0;
            complete <= 1'b0;
            error    <= 1'b0;
        end else case (state)
            FETCH: state <= RUN;
            RUN: if (fire) begin
                if (sel == {SB{1'b0}} && addr == 16'd0)
                    complete <= 1'b0;
                if (load_end) begin
                    sel  <= {SB{1'b0}};
                    addr <= 16'd0;
                    if (s_tlast) begin
                        complete <= 1'b1;
                        state <= FETCH;
                    end else begin
                        error <= 1'b1;
                        state <= DROP;
                    end
                end else if (s_tlast) begin
                    error <= 1'b1;
                    sel   <= {SB{1'b0}};
                    addr  <= 16'd0;
                    state <= FETCH;
                end else if (mem_end) begin
                    sel   <= sel + 1'b1;
                    addr  <= 16'd0;
                    state <= FETCH;
                end else
                    addr <= addr + 16'd1;
            end
            default: if (fire && s_tlast) state <= FETCH;
        endcase
    end
endmodule

`default_nettype wire
