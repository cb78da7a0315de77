// squeezeflow library module (hw/verilog/sqf_bank_pick.v). Tested inside a convolution engine
// against the engine's Rust model (tests/tests/hw_conv_verilog.rs, case "banks").
`default_nettype none

// sqf_bank_pick: the far side of a ROM split into NB banks of block RAM (the ECP5 weight ROMs,
// hw/src/conv/verilog.rs). Every bank reads the same low address bits a cycle early; `sel` is
// the bank of that address, given with it. The banks' words are registered as they leave the
// block RAMs, with nothing between (a DP16KD's read takes 5.83 ns clock to out; Yosys's own
// depth cascade put a multiplexer of the banks behind it), and the word of bank `sel` is picked
// after that register. Together with the banks' read: latency 2 from `sel`, no stall (the
// address a cycle early makes it the ROM's latency 1 from the address itself).
//   d: the banks' words, bank b in bits b*WIDTH ..; q: the word of the bank `sel` named two
//   edges before.
module sqf_bank_pick #(
    parameter WIDTH = 8,                     // bits per word
    parameter NB = 2,                        // banks
    parameter SB = 1                         // bits of sel, at least clog2(NB)
) (
    input  wire                 clock,
    input  wire [SB-1:0]        sel,
    input  wire [NB*WIDTH-1:0]  d,
    output reg  [WIDTH-1:0]     q
);
    // Parameter checks at elaboration (see sqf_out_fifo.v).
    generate
        if (WIDTH < 1 || NB < 2 || NB > (1 << SB)) begin : bad_shape
            sqf_bank_pick_WIDTH_at_least_1_NB_at_least_2_and_within_SB bad();
        end
    endgenerate
    reg [SB-1:0] sel1, sel2;
    reg [NB*WIDTH-1:0] dq;
    always @(posedge clock) begin
        sel1 <= sel;
        sel2 <= sel1;
        dq <= d;
    end
    // An index past the last bank never comes (the ROM's addresses end in bank NB - 1).
    always @(*) q = dq[sel2 * WIDTH +: WIDTH];
endmodule

`default_nettype wire
