// squeezeflow library module (hw/verilog/sqf_max_pool.v).
`default_nettype none

// sqf_max_pool: 3x3 stride-2 max pool with ceil mode (SqueezeNet's pools), fully streaming.
// Input: an H x W map of CG * LANES channels, pixel-major, channel-minor, LANES channels a beat.
// Output: the HO x WO map, same order; tlast on the frame's last beat (s_tlast is ignored).
// Holds a partial horizontal maximum per channel group (hp) and a partial vertical maximum per
// output column and channel group (vm): (WO + 1) * CG * LANES bytes.
// Parameters: LANES >= 1, H, W >= 2, CG >= 1, HO = ceil((H - 3) / 2) + 1, likewise WO; DEPTH
// (the output FIFO, a power of two >= 2).
// Throughput one input beat a cycle; an output beat leaves one cycle after the input beat that
// completes it.
module sqf_max_pool #(
    parameter LANES = 1,
    parameter H = 3,
    parameter W = 3,
    parameter CG = 1,
    parameter HO = 1,
    parameter WO = 1,
    parameter DEPTH = 4
) (
    input  wire                 clock,
    input  wire                 reset,
    input  wire [8*LANES-1:0]   s_tdata,
    input  wire                 s_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 s_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                 s_tready,
    output wire [8*LANES-1:0]   m_tdata,
    output wire                 m_tvalid,
    output wire                 m_tlast,
    input  wire                 m_tready
);
    generate
        if (H < 2 || W < 2 || CG < 1 || LANES < 1) begin : bad_shape
            sqf_max_pool_H_W_must_be_at_least_2_CG_LANES_at_least_1 bad();
        end
        if (HO != (H - 2) / 2 + 1 || WO != (W - 2) / 2 + 1) begin : bad_output
            sqf_max_pool_HO_WO_must_be_the_ceil_mode_3x3_stride_2_output bad();
        end
    endgenerate
    localparam AB_H = (CG > 1) ? $clog2(CG) : 1;           // hp address bits
    localparam AB_V = (WO * CG > 1) ? $clog2(WO * CG) : 1; // vm address bits
    localparam CB = $clog2(DEPTH) + 1;

    wire [CB-1:0] f_count;
    reg [31:0] x, y, j;
    assign s_tready = !reset && (f_count < DEPTH);
    wire fire = s_tvalid && s_tready;
    wire xeven = !x[0];
    wire h_emit = (x != 0) && (xeven || (x == W - 1));
    wire [31:0] hox = xeven ? (x >> 1) - 1 : WO - 1;
    wire yeven = !y[0];
    wire v_emit = h_emit && (y != 0) && (yeven || (y == H - 1));
    wire [31:0] voy = yeven ? (y >> 1) - 1 : HO - 1;
    wire [31:0] hox_cg;
    sqf_const_mul #(.C(CG)) hox_times_cg (.a(hox), .y(hox_cg));
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] va = hox_cg + j;
    /* verilator lint_on UNUSEDSIGNAL */
    // The vm buffers are written one cycle late from registers (wpend, wa_d, wd), with a
    // bypass for a read of the word being written: their write address is then a register
    // apart from the read address, so Yosys maps them as simple dual-port LUT RAM (on
    // UltraScale+, Yosys 0.23 cannot map asynchronous-read single-port RAMs).
    reg wpend;
    reg [AB_V-1:0] wa_d;
    always @(posedge clock) begin
        wpend <= !reset && fire && h_emit;
        wa_d <= va[AB_V-1:0];
    end
    wire [8*LANES-1:0] vmax_all;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            reg [7:0] hp [0:CG-1];
            reg [7:0] vm [0:WO*CG-1];
            wire [7:0] din = s_tdata[8*l +: 8];
            wire [7:0] hpo = hp[j[AB_H-1:0]];
            wire [7:0] hmax = (hpo > din) ? hpo : din;
            reg [7:0] wd;
            wire [7:0] vmo = (wpend && (wa_d == va[AB_V-1:0])) ? wd : vm[va[AB_V-1:0]];
            wire [7:0] vmax = (vmo > hmax) ? vmo : hmax;
            always @(posedge clock) if (fire) hp[j[AB_H-1:0]] <= xeven ? din : hmax;
            always @(posedge clock) begin
                wd <= yeven ? hmax : vmax;
                if (wpend) vm[wa_d] <= wd;
            end
            assign vmax_all[8*l +: 8] = vmax;
        end
    endgenerate
    sqf_out_fifo #(.LANES(LANES), .DEPTH(DEPTH)) f (
        .clock(clock), .reset(reset), .push(fire && v_emit), .din(vmax_all),
        .last_in((voy == HO - 1) && (hox == WO - 1) && (j == CG - 1)), .count(f_count),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tlast(m_tlast), .m_tready(m_tready));
    always @(posedge clock) begin
        if (reset) begin
            x <= 0; y <= 0; j <= 0;
        end else if (fire) begin
            if (j == CG - 1) begin
                j <= 0;
                if (x == W - 1) begin
                    x <= 0;
                    y <= (y == H - 1) ? 0 : y + 1;
                end else x <= x + 1;
            end else j <= j + 1;
        end
    end
endmodule

`default_nettype wire
