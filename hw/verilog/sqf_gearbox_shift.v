// squeezeflow library module (hw/verilog/sqf_gearbox_shift.v).
`default_nettype none

// sqf_gearbox_shift: a stream width converter for any two widths: WI bytes a beat in, WO bytes
// a beat out, bytes in order, tlast on the beat that completes a frame of FRAME bytes (s_tlast
// is ignored). The buffer is a shift register of 2 * (WI + WO) bytes, each byte loadable from
// any input lane (sqf_gearbox_banked is far smaller when one width divides the other). There
// is no output FIFO: the buffer is the output.
// Parameters: WI, WO >= 1; FRAME a multiple of both.
// Throughput min(WI, WO) bytes a cycle; an output beat is valid the cycle after its last byte
// arrives.
module sqf_gearbox_shift #(
    parameter WI = 1,
    parameter WO = 1,
    parameter FRAME = 1
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*WI-1:0]      s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire [8*WO-1:0]      m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    localparam CAP = 2 * (WI + WO);          // bytes
    localparam CB = $clog2(CAP + 1);
    generate
        if (WI < 1 || WO < 1) begin : bad_widths
            sqf_gearbox_shift_WI_WO_must_be_at_least_1 bad();
        end
        if (FRAME % WI != 0 || FRAME % WO != 0) begin : bad_frame
            sqf_gearbox_shift_FRAME_must_be_a_multiple_of_WI_and_WO bad();
        end
    endgenerate

    reg [CB-1:0] count;                      // bytes held, oldest in byte 0
    reg [31:0] done;                         // bytes of the frame sent
    assign s_tready = !reset && ({1'b0, count} + WI <= CAP);
    wire push = s_tready && s_tvalid;
    wire valid = (count >= WO);
    wire pop = valid && m_tready;
    assign m_tvalid = valid;
    assign m_tlast = valid && (done == FRAME - WO);
    wire [CB-1:0] keep = count - (pop ? WO[CB-1:0] : {CB{1'b0}});
    wire [8*CAP+8*WO-1:0] bytes;             // the buffer, then WO zero bytes (shifted in)
    assign bytes[8*CAP +: 8*WO] = {8*WO{1'b0}};
    assign m_tdata = bytes[0 +: 8*WO];
    genvar i;
    generate
        for (i = 0; i < CAP; i = i + 1) begin : byte_
            localparam [CB-1:0] IC = i;
            reg [7:0] b;
            reg [7:0] nb;
            integer l;
            // Byte i comes from input lane (i - keep) when pushing and i >= keep, else from
            // byte i + WO when popping.
            always @(*) begin
                nb = pop ? bytes[8*(i+WO) +: 8] : b;
                for (l = WI - 1; l >= 0; l = l - 1)
                    if (push && (IC == keep + l[CB-1:0])) nb = s_tdata[8*l +: 8];
            end
            always @(posedge clock) if (!reset) b <= nb;
            assign bytes[8*i +: 8] = b;
        end
    endgenerate
    always @(posedge clock) begin
        if (reset) begin
            count <= 0; done <= 0;
        end else begin
            count <= keep + (push ? WI[CB-1:0] : {CB{1'b0}});
            if (pop) done <= (done == FRAME - WO) ? 0 : done + WO;
        end
    end
endmodule

`default_nettype wire
