// squeezeflow library module (hw/verilog/sqf_shell_core.v).
`default_nettype none

// sqf_shell_core: the board shell's core (docs/protocol.md): a UART (DIV clocks a bit, 8N1), a
// parser of framed requests (sync 0xA5, command, 16-bit length, payload, CRC-16/CCITT-FALSE)
// with a timeout of TIMEOUT clocks between bytes, a frame buffer of PIXELS RGB pixels (LOAD),
// a streamer that feeds a frame to the network on START (m_*: 3 lanes, R G B), the capture of
// CLASSES 16-bit logits from the network (s_*), the reply sequencer (IDENTIFY, LOAD, START,
// STATUS, READ_LOGITS, WEIGHTS and error replies), and the weight-load port (wl_*) that
// WEIGHTS messages fill for the memories the fit put in RAM.
// The protocol's codes are localparams below, named as in hw/src/shell/protocol.rs (a test
// holds the two equal); hw/src/shell/core_model.rs is an independent Rust model of this module.
// Parameters: DIV >= 4, TIMEOUT >= 1, MAXP (the largest payload), PIXELS, CLASSES >= 1,
// ID_PAYLOAD (the IDENTIFY payload, byte j in bits [8j +: 8]), NMEM (weight memories on the
// load port) and their depths as NRUNS runs: memories below RUN_ENDS[16r +: 16] (and past the
// previous run) hold RUN_DEPTHS[16r +: 16] words.
// Throughput: one pixel a cycle into the network; the UART is the bottleneck elsewhere.
module sqf_shell_core #(
    parameter DIV = 16,
    parameter TIMEOUT = 1000,
    parameter MAXP = 2,
    parameter PIXELS = 1,
    parameter CLASSES = 1,
    parameter [8*23-1:0] ID_PAYLOAD = 0,
    parameter NMEM = 0,
    parameter NRUNS = 1,
    parameter RUN_ENDS = 16'd0,
    parameter RUN_DEPTHS = 16'd0
) (
    input  wire         clock,
    input  wire         reset,
    input  wire         uart_rx,
    output wire         uart_tx,
    output wire [23:0]  m_tdata,
    output wire         m_tvalid,
    output wire         m_tlast,
    input  wire         m_tready,
    input  wire [15:0]  s_tdata,
    input  wire         s_tvalid,
    input  wire         s_tlast,
    output wire         s_tready,
    output wire         wl_valid,
    output wire [15:0]  wl_sel,
    output wire [15:0]  wl_addr,
    output wire [63:0]  wl_data
);
    generate
        if (DIV < 4 || TIMEOUT < 1 || PIXELS < 1 || CLASSES < 1 || MAXP < 2 || MAXP > 65535)
        begin : bad_parameters
            sqf_shell_core_DIV_at_least_4_TIMEOUT_PIXELS_CLASSES_at_least_1 bad();
        end
        if (NMEM < 0 || NMEM > 65534 || NRUNS < 1 || PIXELS > 65535 || 2 * CLASSES > 65535)
        begin : bad_sizes
            sqf_shell_core_NMEM_below_65535_NRUNS_at_least_1_sizes_16_bits bad();
        end
    endgenerate
    // The protocol (hw/src/shell/protocol.rs).
    localparam [7:0] SYNC_REQUEST = 8'ha5, SYNC_REPLY = 8'h5a, REPLY_ERROR = 8'hff;
    localparam [7:0] REPLY_OK = 8'h80;       // a good reply's code: the command | REPLY_OK
    localparam [7:0] CMD_IDENTIFY = 8'd1, CMD_LOAD = 8'd2, CMD_START = 8'd3, CMD_STATUS = 8'd4;
    localparam [7:0] CMD_READ_LOGITS = 8'd5, CMD_WEIGHTS = 8'd6;
    localparam [7:0] ERR_CRC = 8'd1, ERR_LENGTH = 8'd2, ERR_COMMAND = 8'd3, ERR_TIMEOUT = 8'd4;
    localparam [7:0] ERR_OFFSET = 8'd5, ERR_RANGE = 8'd6, ERR_BUSY = 8'd7, ERR_NOT_LOADED = 8'd8;
    localparam [7:0] ERR_NO_LOGITS = 8'd9;
    localparam [7:0] FLAG_CRC = 8'h01, FLAG_LENGTH = 8'h02, FLAG_COMMAND = 8'h04;
    localparam [7:0] FLAG_TIMEOUT = 8'h08, FLAG_FRAMING = 8'h10, FLAG_OVERRUN = 8'h20;
    localparam [7:0] FLAG_REJECTED = 8'h40, FLAG_STREAM = 8'h80;
    localparam [15:0] IDENTIFY_LEN = 16'd23, STATUS_LEN = 16'd16, WEIGHTS_REPLY_LEN = 16'd4;
    localparam [15:0] LOAD_REPLY_LEN = 16'd2, ERROR_REPLY_LEN = 16'd2;
    localparam [3:0] P_PAY = 4'd4;           // the parser's payload state
    localparam PB = $clog2(PIXELS + 1);      // pixel counters
    localparam LB = $clog2(CLASSES + 1);     // logit counters
    localparam integer C_DIV_M1 = DIV - 1, C_HALF_M1 = DIV / 2 - 1;
    localparam integer C_MAXP = MAXP, C_PIX_M1 = PIXELS - 1, C_CLS_M1 = CLASSES - 1;
    localparam integer C_NLOG2 = 2 * CLASSES, C_NMEM = NMEM, C_PIXELS = PIXELS;
    localparam [15:0] DIV_M1 = C_DIV_M1[15:0];
    localparam [15:0] HALF_M1 = C_HALF_M1[15:0];
    localparam [31:0] TMO_M1 = TIMEOUT - 32'd1;   // TIMEOUT may be a 32-bit unsigned value
    localparam [15:0] MAXP16 = C_MAXP[15:0];
    localparam [PB-1:0] PIXELS_PB = C_PIXELS[PB-1:0];
    localparam [PB-1:0] PIX_M1 = C_PIX_M1[PB-1:0];
    localparam [LB-1:0] CLS_M1 = C_CLS_M1[LB-1:0];
    localparam [15:0] NLOG2 = C_NLOG2[15:0];
    localparam [15:0] NMEM16 = C_NMEM[15:0];

    // words of weight memory `sel` on the load port (0 past the last)
    function [15:0] depth_of(input [15:0] sel);
        integer r;
        reg found;
        begin
            depth_of = 16'd0;
            found = 1'b0;
            for (r = 0; r < NRUNS; r = r + 1)
                /* verilator lint_off UNSIGNED */ // a run ending at 0: no memories
                if (!found && sel < RUN_ENDS[16*r +: 16]) begin
                /* verilator lint_on UNSIGNED */
                    depth_of = RUN_DEPTHS[16*r +: 16];
                    found = 1'b1;
                end
        end
    endfunction

    function [15:0] crc_byte(input [15:0] c, input [7:0] b);
        integer k;
        reg [15:0] x;
        begin
            x = c ^ {b, 8'h00};
            for (k = 0; k < 8; k = k + 1)
                x = x[15] ? ({x[14:0], 1'b0} ^ 16'h1021) : {x[14:0], 1'b0};
            crc_byte = x;
        end
    endfunction

    function [7:0] err_flag(input [7:0] code);
        case (code)
            ERR_CRC: err_flag = FLAG_CRC;
            ERR_LENGTH: err_flag = FLAG_LENGTH;
            ERR_COMMAND: err_flag = FLAG_COMMAND;
            ERR_TIMEOUT: err_flag = FLAG_TIMEOUT;
            default: err_flag = FLAG_REJECTED;
        endcase
    endfunction

    function [15:0] reply_len(input [7:0] kind);
        case (kind)
            CMD_IDENTIFY: reply_len = IDENTIFY_LEN;
            CMD_LOAD: reply_len = LOAD_REPLY_LEN;
            CMD_START: reply_len = 16'd0;
            CMD_STATUS: reply_len = STATUS_LEN;
            CMD_READ_LOGITS: reply_len = NLOG2;
            CMD_WEIGHTS: reply_len = WEIGHTS_REPLY_LEN;
            default: reply_len = ERROR_REPLY_LEN;
        endcase
    endfunction

    // UART receiver
    reg rx_s1, rx_s2, rx_valid;
    // A byte is taken (rx_data) a cycle before the parser sees it (rx_pre, then rx_valid), and
    // the parser's compares of it are registered in that cycle (w_after .. cnt_end below): the
    // registers they read move only with the parser or cycles after a message's last byte
    // (loaded, the watermark), never between a byte's arrival and its parse. The 16-bit
    // compares of the offset against the watermark and the memory's depth, then the error's
    // and the watermark's enables, were the ULX3S build's critical path (110.3 MHz, 9.07 ns).
    reg rx_pre;
    reg [1:0] rx_st;
    reg [15:0] rx_cnt;
    reg [2:0] rx_bit;
    reg [7:0] rx_sh, rx_data;
    // UART transmitter
    reg tx_busy, tx_out;
    reg [15:0] tx_cnt;
    reg [3:0] tx_bit;
    reg [8:0] tx_sh;
    // parser
    reg [3:0] p_st;
    reg [7:0] cmd, perr, off_lo;
    reg [15:0] len, cnt, crc, pbuf;
    reg [31:0] tmo;
    // tmo == TMO_M1, kept with tmo (every write of tmo writes it): the 32-bit compare in
    // front of the parser state's enable (through the timeout's reply) was a late path on the
    // ULX3S (8.91 ns).
    reg tmo_end;
    localparam TMO_END0 = (TMO_M1 == 32'd0) ? 1'b1 : 1'b0;
    localparam [31:0] TMO_M2 = TMO_M1 - 32'd1;
    reg [PB-1:0] waddr, loaded, pix;
    reg [1:0] phase;
    // frame control
    reg busy, feeding, primed, logits_valid;
    reg [LB-1:0] lidx;
    reg [31:0] cyc, last_cyc, frames_done;
    reg [7:0] errs;
    // reply sequencer
    // The reply byte is registered (r_byte_q) before the transmitter and the CRC take it: from
    // r_i through the byte's multiplexers and the CRC in one cycle was the shell's slowest path
    // on ECP5. The logit RAM's read is registered on its own (lg_q) before the byte's
    // multiplexers: an ECP5 block RAM's read without its output register takes 5.83 ns clock to
    // out, and with the multiplexers behind it that was the ULX3S build's critical path
    // (70.9 MHz). The payload's byte (the case on the reply's kind and r_j) is registered too
    // (p_byte_q), before the header's and the CRC's choice: both in one cycle, from r_j through
    // ten LUT levels, were the ULX3S build's critical path (98.0 MHz). A byte is sent four
    // cycles after r_i moves (r_rdy0, r_rdy1, r_rdy2, then r_rdy): the logit RAM's read, lg_q,
    // p_byte_q, r_byte_q.
    // r_j (= r_i - 4, the payload index) and r_end (= 4 + the reply's payload length, the CRC's
    // first byte) are registers kept equal to those sums, stepped with r_i, and r_past says
    // r_i > r_end (r_i steps by one from 0): the subtract, the add and the compares in front of
    // the byte's multiplexers were the ULX3S build's critical path (81.4 MHz).
    reg r_past;
    reg r_act, r_rdy0, r_rdy1, r_rdy2, r_rdy;
    reg [7:0] r_byte_q, p_byte_q;
    reg [15:0] lg_q;
    reg [7:0] r_kind, r_code, r_cmd;
    reg [15:0] r_i, r_j, r_end, r_crc;
    // weights (see the Rust model)
    reg [15:0] w_sel, w_adr, wm_sel, wm_adr, wl_s, wl_a;
    reg [2:0] w_ph;
    reg [55:0] w_buf;
    reg [63:0] wl_d;
    reg wl_v;

    wire [15:0] loaded16;
    generate
        if (PB < 16) begin : loaded_ext
            assign loaded16 = {{(16-PB){1'b0}}, loaded};
        end else begin : loaded_full
            assign loaded16 = loaded;
        end
    endgenerate
    wire [15:0] rlen = reply_len(r_kind);
    wire [15:0] crc_rx = crc_byte(crc, rx_data);
    wire [15:0] len_full = {rx_data, len[7:0]};
    wire [15:0] off_full = {rx_data, off_lo};
    wire [15:0] w_depth = depth_of(w_sel);
    reg w_after, w_before, w_deep, w_nomem, l_past, l_below, len_big, len_w_bad, len_l_bad;
    reg len_zero, cnt_end;
    always @(posedge clock) begin
        w_after <= (w_sel > wm_sel) || (w_sel == wm_sel && off_full > wm_adr);
        w_before <= (w_sel < wm_sel) || (w_sel == wm_sel && off_full < wm_adr);
        w_deep <= off_full >= w_depth;
        /* verilator lint_off UNSIGNED */ // constant without memories
        w_nomem <= off_full >= NMEM16;
        /* verilator lint_on UNSIGNED */
        l_past <= off_full > loaded16;
        l_below <= off_full < loaded16;
        len_big <= len_full > MAXP16;
        len_w_bad <= len_full < 16'd12 || len_full[2:0] != 3'd4;
        len_l_bad <= len_full < 16'd5;
        len_zero <= len_full == 16'd0;
        cnt_end <= cnt + 16'd1 == len;
    end
    wire w_pay = rx_valid && (p_st == P_PAY) && (cmd == 8'd6) && (perr == 8'd0);
    wire w_we = w_pay && (cnt >= 16'd4) && (w_ph == 3'd7) && (w_adr < w_depth);
    // The frame leaves through a register (o_v, o_d, o_l) that moves when empty or taken
    // (advance), the streamer's read held meanwhile: the frame RAM's block RAM read (5.83 ns
    // from its clock) straight into the network's first line buffer was the ULX3S build's
    // critical path (103.3 MHz with seed 2).
    reg o_v, o_l;
    reg [23:0] o_d;
    wire advance = !o_v || m_tready;
    wire fire = feeding && primed && advance;
    wire last = (pix == PIX_M1);
    wire [PB-1:0] fr_raddr = (fire && !last) ? pix + 1'b1 : pix;
    wire [23:0] fr_rdata;
    wire fr_we = rx_valid && (p_st == P_PAY) && (cmd == 8'd2) && (perr == 8'd0) && (cnt >= 16'd2)
        && (phase == 2'd2) && (waddr < PIXELS_PB);
    // lg_in: r_j < NLOG2, kept as r_j moves (it starts at 0xfffc and steps by one), so no
    // compare's carry chain reads r_j (ABC shared one with the payload index's decode, p_jz,
    // on its way to the reply byte).
    reg lg_in;
    localparam LG_IN0 = (16'hfffc < NLOG2) ? 1'b1 : 1'b0;
    localparam [15:0] NLOG2_M1 = NLOG2 - 16'd1;
    wire [LB-1:0] lg_raddr = (r_i[15:2] != 14'd0 && lg_in) ? r_j[LB:1] : {LB{1'b0}};
    wire [15:0] lg_rdata;
    wire lg_we = busy && s_tvalid;

    // Neither memory is read at the edge that writes the word (NO_RW): the frame RAM is
    // written only by a LOAD, which is refused while busy, and read only while busy; the logit
    // RAM is written only while busy, and READ_LOGITS is refused while busy and no START is
    // parsed until its reply is out. Without the check Yosys puts a LUT behind each read (the
    // logit RAM's then cannot be its block RAM's output register, lg_q: 8.14 ns on ECP5).
    sqf_ram #(.WIDTH(24), .DEPTH(PIXELS), .ABITS(PB), .NO_RW(1)) fr_ram (
        .clock(clock), .we(fr_we), .waddr(waddr), .wdata({rx_data, pbuf}),
        .raddr(fr_raddr), .rdata(fr_rdata));
    sqf_ram #(.WIDTH(16), .DEPTH(CLASSES), .ABITS(LB), .NO_RW(1)) lg_ram (
        .clock(clock), .we(lg_we), .waddr(lidx), .wdata({s_tdata[15:8], s_tdata[7:0]}),
        .raddr(lg_raddr), .rdata(lg_rdata));

    // the reply byte at index r_i: the header, the CRC, or the payload's byte (p_byte_q, the
    // payload byte at r_j registered)
    reg [7:0] r_byte, p_byte;
    always @(*) begin
        if (r_i == 16'd0) r_byte = SYNC_REPLY;
        else if (r_i == 16'd1) r_byte = (r_kind == 8'd0) ? REPLY_ERROR : (r_kind | REPLY_OK);
        else if (r_i == 16'd2) r_byte = rlen[7:0];
        else if (r_i == 16'd3) r_byte = rlen[15:8];
        else if (r_i == r_end) r_byte = r_crc[15:8];
        else if (r_past) r_byte = r_crc[7:0];
        else r_byte = p_byte_q;
    end
    // The payload's index decoded a cycle after r_j moves (p_j: r_j's low five bits, p_jz:
    // r_j < 32), in time for p_byte_q two cycles later: the 16-bit compares of r_j, then the
    // byte's multiplexers, were the ULX3S build's critical path (104.2 MHz).
    reg [4:0] p_j;
    reg p_jz;
    always @(posedge clock) begin
        p_j <= r_j[4:0];
        p_jz <= ~|r_j[15:5];
    end
    // The status and watermark bytes by index (15 for any index past 14).
    wire [3:0] p_k = (p_jz && p_j[4] == 1'b0) ? p_j[3:0] : 4'd15;
    always @(*) begin
        case (r_kind)
            // (r_j < IDENTIFY_LEN, without a carry chain)
            CMD_IDENTIFY: p_byte = (p_jz && p_j < IDENTIFY_LEN[4:0])
                ? ID_PAYLOAD[8*p_j +: 8] : 8'h00;
            CMD_LOAD: p_byte = p_j[0] ? loaded16[15:8] : loaded16[7:0];
            CMD_STATUS: case (p_k)
                4'd0: p_byte = {4'd0, wm_sel == NMEM16, logits_valid, loaded == PIXELS_PB, busy};
                4'd1: p_byte = r_code;
                4'd2: p_byte = frames_done[7:0];
                4'd3: p_byte = frames_done[15:8];
                4'd4: p_byte = frames_done[23:16];
                4'd5: p_byte = frames_done[31:24];
                4'd6: p_byte = last_cyc[7:0];
                4'd7: p_byte = last_cyc[15:8];
                4'd8: p_byte = last_cyc[23:16];
                4'd9: p_byte = last_cyc[31:24];
                4'd10: p_byte = loaded16[7:0];
                4'd11: p_byte = loaded16[15:8];
                4'd12: p_byte = wm_sel[7:0];
                4'd13: p_byte = wm_sel[15:8];
                4'd14: p_byte = wm_adr[7:0];
                default: p_byte = wm_adr[15:8];
            endcase
            CMD_WEIGHTS: case (p_k)
                4'd0: p_byte = wm_sel[7:0];
                4'd1: p_byte = wm_sel[15:8];
                4'd2: p_byte = wm_adr[7:0];
                default: p_byte = wm_adr[15:8];
            endcase
            CMD_READ_LOGITS: p_byte = p_j[0] ? lg_q[15:8] : lg_q[7:0];
            default: p_byte = (p_k == 4'd0) ? r_code : r_cmd;
        endcase
    end

    // the parser's outcome this cycle, acted on the next: registered (do_reply_q .. sb_q), the
    // reply's registers, the frame's start and the error flags take it from flip-flops. The
    // request's checks (its CRC, `loaded` and the memories' watermark against their ends),
    // the reply code's multiplexers and then the error flags and the reply's end in one
    // cycle were the ULX3S build's critical path (107.2 MHz). The parser waits in its reply
    // state meanwhile; STATUS's clear keeps the flags set in the cycle its code was taken
    // (sb_q), as a clear in that cycle would.
    reg do_reply, start, status_clear;
    reg do_reply_q, start_q, clear_q, load_q, wm_q;
    reg [7:0] kind_q, code_q, sb_q;
    reg [7:0] rep_kind, rep_code;
    always @(*) begin
        do_reply = 1'b0; start = 1'b0; status_clear = 1'b0; rep_kind = 8'd0; rep_code = 8'd0;
        if (p_st != 4'd0 && p_st != 4'd8) begin
            if (rx_valid) begin
                if (p_st == 4'd6) begin
                    do_reply = 1'b1;
                    if (crc_rx != 16'd0) rep_code = ERR_CRC;
                    else if (perr != 8'd0) rep_code = perr;
                    else case (cmd)
                        CMD_LOAD: if (phase != 2'd0) rep_code = ERR_LENGTH; else rep_kind = CMD_LOAD;
                        CMD_WEIGHTS: rep_kind = CMD_WEIGHTS;
                        CMD_START: if (busy) rep_code = ERR_BUSY;
                              else if (loaded != PIXELS_PB || wm_sel != NMEM16) rep_code = ERR_NOT_LOADED;
                              else begin start = 1'b1; rep_kind = CMD_START; end
                        CMD_STATUS: begin status_clear = 1'b1; rep_kind = CMD_STATUS; rep_code = errs; end
                        CMD_READ_LOGITS: if (busy) rep_code = ERR_BUSY;
                              else if (!logits_valid) rep_code = ERR_NO_LOGITS;
                              else rep_kind = CMD_READ_LOGITS;
                        default: rep_kind = CMD_IDENTIFY;
                    endcase
                end
            end else if (tmo_end) begin
                do_reply = 1'b1;
                rep_code = (p_st == 4'd7) ? ERR_LENGTH : ERR_TIMEOUT;
            end
        end
    end

    wire rx_ferr = (rx_st == 2'd3) && (rx_cnt == DIV_M1) && !rx_s2;
    wire overrun = (p_st == 4'd8) && rx_valid;
    wire tx_load = r_act && r_rdy && !tx_busy;
    wire lg_done = busy && s_tvalid && (lidx == CLS_M1);
    wire stream_err = busy && s_tvalid && ((lidx == CLS_M1) != s_tlast);
    wire [7:0] set_bits = (rx_ferr ? FLAG_FRAMING : 8'h00) | (overrun ? FLAG_OVERRUN : 8'h00)
        | ((do_reply_q && kind_q == 8'd0) ? err_flag(code_q) : 8'h00) | (stream_err ? FLAG_STREAM : 8'h00);

    assign uart_tx = tx_out;
    assign m_tvalid = o_v;
    assign m_tlast = o_l;
    assign m_tdata = o_d;
    assign s_tready = 1'b1;                  // the logits are always taken
    assign wl_valid = wl_v;
    assign wl_sel = wl_s;
    assign wl_addr = wl_a;
    assign wl_data = wl_d;

    // Power-up values (FPGAs load them with the bitstream), the same as after reset: the line
    // idles high from the first cycle.
    initial begin
        rx_s1 = 1'b1; rx_s2 = 1'b1; rx_pre = 1'b0; rx_valid = 1'b0; rx_st = 2'd0; rx_cnt = 16'd0;
        rx_bit = 3'd0; rx_sh = 8'd0; rx_data = 8'd0;
        tx_busy = 1'b0; tx_out = 1'b1; tx_cnt = 16'd0; tx_bit = 4'd0; tx_sh = 9'd0;
        p_st = 4'd0; cmd = 8'd0; perr = 8'd0; off_lo = 8'd0; len = 16'd0; cnt = 16'd0;
        crc = 16'd0; pbuf = 16'd0; tmo = 32'd0; tmo_end = TMO_END0;
        waddr = {PB{1'b0}}; loaded = {PB{1'b0}};
        pix = {PB{1'b0}}; phase = 2'd0; o_v = 1'b0; o_l = 1'b0; o_d = 24'd0;
        busy = 1'b0; feeding = 1'b0; primed = 1'b0; logits_valid = 1'b0; lidx = {LB{1'b0}};
        cyc = 32'd0; last_cyc = 32'd0; frames_done = 32'd0; errs = 8'd0;
        r_act = 1'b0; r_rdy0 = 1'b0; r_rdy1 = 1'b0; r_rdy2 = 1'b0; r_rdy = 1'b0; r_byte_q = 8'd0;
        p_byte_q = 8'd0; lg_q = 16'd0; p_j = 5'd0; p_jz = 1'b0;
        r_kind = 8'd0; r_code = 8'd0;
        r_cmd = 8'd0;
        do_reply_q = 1'b0; start_q = 1'b0; clear_q = 1'b0; load_q = 1'b0; wm_q = 1'b0;
        kind_q = 8'd0; code_q = 8'd0; sb_q = 8'd0;
        r_i = 16'd0; r_j = 16'hfffc; lg_in = LG_IN0; r_end = 16'd4 + reply_len(8'd0); r_past = 1'b0;
        r_crc = 16'd0;
        w_sel = 16'd0; w_adr = 16'd0; wm_sel = 16'd0; wm_adr = 16'd0; w_ph = 3'd0; w_buf = 56'd0;
        wl_v = 1'b0; wl_s = 16'd0; wl_a = 16'd0; wl_d = 64'd0;
    end

    always @(posedge clock) p_byte_q <= p_byte;
    always @(posedge clock) r_byte_q <= r_byte;
    always @(posedge clock) lg_q <= lg_rdata;
    always @(posedge clock) if (advance) o_d <= fr_rdata;   // no reset: data only
    always @(posedge clock) begin
        if (reset) begin
            rx_s1 <= 1'b1; rx_s2 <= 1'b1; rx_pre <= 1'b0; rx_valid <= 1'b0; rx_st <= 2'd0;
            rx_cnt <= 16'd0;
            rx_bit <= 3'd0; rx_sh <= 8'd0; rx_data <= 8'd0;
            tx_busy <= 1'b0; tx_out <= 1'b1; tx_cnt <= 16'd0; tx_bit <= 4'd0; tx_sh <= 9'd0;
            p_st <= 4'd0; cmd <= 8'd0; perr <= 8'd0; off_lo <= 8'd0; len <= 16'd0; cnt <= 16'd0;
            crc <= 16'd0; pbuf <= 16'd0; tmo <= 32'd0; tmo_end <= TMO_END0;
            waddr <= {PB{1'b0}}; loaded <= {PB{1'b0}};
            pix <= {PB{1'b0}}; phase <= 2'd0; o_v <= 1'b0; o_l <= 1'b0;
            busy <= 1'b0; feeding <= 1'b0; primed <= 1'b0; logits_valid <= 1'b0; lidx <= {LB{1'b0}};
            cyc <= 32'd0; last_cyc <= 32'd0; frames_done <= 32'd0; errs <= 8'd0;
            r_act <= 1'b0; r_rdy0 <= 1'b0; r_rdy1 <= 1'b0; r_rdy2 <= 1'b0; r_rdy <= 1'b0;
            r_kind <= 8'd0; r_code <= 8'd0;
            r_cmd <= 8'd0;
            do_reply_q <= 1'b0; start_q <= 1'b0; clear_q <= 1'b0; kind_q <= 8'd0; code_q <= 8'd0;
            load_q <= 1'b0; wm_q <= 1'b0;
            sb_q <= 8'd0;
            r_i <= 16'd0; r_j <= 16'hfffc; lg_in <= LG_IN0; r_end <= 16'd4 + reply_len(8'd0);
            r_past <= 1'b0; r_crc <= 16'd0;
            w_sel <= 16'd0; w_adr <= 16'd0; wm_sel <= 16'd0; wm_adr <= 16'd0; w_ph <= 3'd0;
            w_buf <= 56'd0; wl_v <= 1'b0; wl_s <= 16'd0; wl_a <= 16'd0; wl_d <= 64'd0;
        end else begin
            // UART receiver
            rx_s1 <= uart_rx;
            rx_s2 <= rx_s1;
            rx_pre <= 1'b0;
            rx_valid <= rx_pre;
            case (rx_st)
                2'd0: if (!rx_s2) begin rx_st <= 2'd1; rx_cnt <= 16'd0; end
                2'd1: if (rx_cnt == HALF_M1) begin
                        if (rx_s2) rx_st <= 2'd0;
                        else begin rx_st <= 2'd2; rx_cnt <= 16'd0; rx_bit <= 3'd0; end
                    end else rx_cnt <= rx_cnt + 16'd1;
                2'd2: if (rx_cnt == DIV_M1) begin
                        rx_cnt <= 16'd0;
                        rx_sh <= {rx_s2, rx_sh[7:1]};
                        if (rx_bit == 3'd7) rx_st <= 2'd3; else rx_bit <= rx_bit + 3'd1;
                    end else rx_cnt <= rx_cnt + 16'd1;
                default: if (rx_cnt == DIV_M1) begin
                        rx_st <= 2'd0;
                        if (rx_s2) begin rx_pre <= 1'b1; rx_data <= rx_sh; end
                    end else rx_cnt <= rx_cnt + 16'd1;
            endcase

            // parser
            if (p_st == 4'd0) begin
                tmo <= 32'd0; tmo_end <= TMO_END0;
                if (rx_valid && rx_data == SYNC_REQUEST) begin p_st <= 4'd1; crc <= 16'hffff; perr <= 8'd0; end
            end else if (p_st == 4'd8) begin
                tmo <= 32'd0; tmo_end <= TMO_END0;
                if (!r_act && !do_reply_q) p_st <= 4'd0;
            end else if (rx_valid) begin
                tmo <= 32'd0; tmo_end <= TMO_END0;
                crc <= crc_rx;
                case (p_st)
                    4'd1: begin cmd <= rx_data; p_st <= 4'd2; end
                    4'd2: begin len <= {8'd0, rx_data}; p_st <= 4'd3; end
                    4'd3: begin
                        len <= len_full; cnt <= 16'd0; phase <= 2'd0;
                        if (len_big) p_st <= 4'd7;
                        else begin
                            if (cmd == 8'd0 || cmd > CMD_WEIGHTS) perr <= ERR_COMMAND;
                            else if (cmd == CMD_WEIGHTS) begin
                                if (len_w_bad) perr <= ERR_LENGTH;
                                else if (busy) perr <= ERR_BUSY;
                                else perr <= 8'd0;
                            end else if (cmd == CMD_LOAD) begin
                                if (len_l_bad) perr <= ERR_LENGTH;
                                else if (busy) perr <= ERR_BUSY;
                                else perr <= 8'd0;
                            end else if (!len_zero) perr <= ERR_LENGTH;
                            else perr <= 8'd0;
                            p_st <= len_zero ? 4'd5 : 4'd4;
                        end
                    end
                    4'd4: begin
                        if (cmd == CMD_LOAD && perr == 8'd0) begin
                            if (cnt == 16'd0) off_lo <= rx_data;
                            else if (cnt == 16'd1) begin
                                if (l_past) perr <= ERR_OFFSET;
                                else begin
                                    waddr <= off_full[PB-1:0];
                                    if (l_below) loaded <= off_full[PB-1:0];
                                end
                            end else if (phase == 2'd0) begin pbuf[7:0] <= rx_data; phase <= 2'd1; end
                            else if (phase == 2'd1) begin pbuf[15:8] <= rx_data; phase <= 2'd2; end
                            else begin
                                phase <= 2'd0;
                                if (waddr < PIXELS_PB) waddr <= waddr + 1'b1;
                                else perr <= ERR_RANGE;
                            end
                        end
                        if (cmd == CMD_WEIGHTS && perr == 8'd0) begin
                            if (cnt == 16'd0 || cnt == 16'd2) off_lo <= rx_data;
                            else if (cnt == 16'd1) begin
                                if (w_nomem) perr <= ERR_RANGE;
                                else w_sel <= off_full;
                            end else if (cnt == 16'd3) begin
                                if (w_after) perr <= ERR_OFFSET;
                                else if (w_deep) perr <= ERR_RANGE;
                                else begin
                                    w_adr <= off_full; w_ph <= 3'd0;
                                    if (w_before) begin wm_sel <= w_sel; wm_adr <= off_full; end
                                end
                            end else if (w_ph != 3'd7) begin
                                w_buf <= ((w_ph == 3'd0) ? 56'd0 : w_buf) | ({48'd0, rx_data} << {w_ph, 3'd0});
                                w_ph <= w_ph + 3'd1;
                            end else begin
                                w_ph <= 3'd0;
                                if (w_adr < w_depth) w_adr <= w_adr + 16'd1;
                                else perr <= ERR_RANGE;
                            end
                        end
                        cnt <= cnt + 16'd1;
                        if (cnt_end) p_st <= 4'd5;
                    end
                    4'd5: p_st <= 4'd6;
                    default: ;
                endcase
            end else if (tmo_end) begin tmo <= 32'd0; tmo_end <= TMO_END0; end
            else begin tmo <= tmo + 32'd1; tmo_end <= (tmo == TMO_M2); end
            if (do_reply) p_st <= 4'd8;
            do_reply_q <= do_reply; start_q <= start; clear_q <= status_clear;
            kind_q <= rep_kind; code_q <= rep_code; sb_q <= set_bits;
            load_q <= do_reply && rep_kind == CMD_LOAD;
            wm_q <= do_reply && rep_kind == CMD_WEIGHTS;
            // A message taken (its reply's kind LOAD or WEIGHTS: CRC and checks passed) moves
            // `loaded` or the watermark a cycle after its last byte, from registers: its CRC
            // check into their enables was the ULX3S build's critical path (102.8 MHz). The
            // parser waits in its reply state meanwhile, and the reply reads them later.
            if (load_q) loaded <= waddr;
            if (wm_q) begin
                if (w_adr == w_depth) begin wm_sel <= w_sel + 16'd1; wm_adr <= 16'd0; end
                else begin wm_sel <= w_sel; wm_adr <= w_adr; end
            end
            if (do_reply_q) begin
                r_act <= 1'b1; r_rdy0 <= 1'b0; r_rdy1 <= 1'b0; r_rdy2 <= 1'b0; r_rdy <= 1'b0;
                r_kind <= kind_q; r_code <= code_q; r_cmd <= cmd;
                r_i <= 16'd0; r_j <= 16'hfffc; lg_in <= LG_IN0; r_end <= 16'd4 + reply_len(kind_q);
                r_past <= 1'b0; r_crc <= 16'hffff;
            end

            // reply sequencer and UART transmitter
            if (r_act) begin
                if (!r_rdy0) r_rdy0 <= 1'b1;
                else if (!r_rdy1) r_rdy1 <= 1'b1;
                else if (!r_rdy2) r_rdy2 <= 1'b1;
                else if (!r_rdy) r_rdy <= 1'b1;
                else if (!tx_busy) begin
                    // bytes 1 .. r_end - 1 (r_i >= 1 && r_i < r_end)
                    if (r_i != 16'd0 && r_i != r_end && !r_past) r_crc <= crc_byte(r_crc, r_byte_q);
                    r_i <= r_i + 16'd1;
                    r_j <= r_j + 16'd1;
                    if (r_j == 16'hffff) lg_in <= (NLOG2 != 16'd0);
                    else if (r_j == NLOG2_M1) lg_in <= 1'b0;
                    if (r_i == r_end) r_past <= 1'b1;
                    r_rdy0 <= 1'b0;
                    r_rdy1 <= 1'b0;
                    r_rdy2 <= 1'b0;
                    r_rdy <= 1'b0;
                    if (r_past) r_act <= 1'b0; // the last byte, r_end + 1, is out
                end
            end
            if (tx_load) begin
                tx_busy <= 1'b1; tx_sh <= {1'b1, r_byte_q}; tx_out <= 1'b0; tx_cnt <= 16'd0; tx_bit <= 4'd0;
            end else if (tx_busy) begin
                if (tx_cnt == DIV_M1) begin
                    tx_cnt <= 16'd0;
                    if (tx_bit == 4'd9) tx_busy <= 1'b0;
                    else begin tx_out <= tx_sh[0]; tx_sh <= {1'b1, tx_sh[8:1]}; tx_bit <= tx_bit + 4'd1; end
                end else tx_cnt <= tx_cnt + 16'd1;
            end

            // streamer, cycle counter, logit capture
            if (advance) begin o_v <= feeding && primed; o_l <= last; end
            if (start_q) begin
                busy <= 1'b1; feeding <= 1'b1; primed <= 1'b0; pix <= {PB{1'b0}}; cyc <= 32'd0;
                lidx <= {LB{1'b0}}; loaded <= {PB{1'b0}}; logits_valid <= 1'b0;
            end else begin
                if (feeding) begin
                    primed <= 1'b1;
                    if (fire) begin
                        if (last) begin feeding <= 1'b0; primed <= 1'b0; end
                        else pix <= pix + 1'b1;
                    end
                end
                if (busy) begin
                    cyc <= cyc + 32'd1;
                    if (s_tvalid) begin
                        if (lg_done) begin
                            lidx <= {LB{1'b0}}; busy <= 1'b0; frames_done <= frames_done + 32'd1;
                            last_cyc <= cyc + 32'd1; logits_valid <= 1'b1;
                        end else lidx <= lidx + 1'b1;
                    end
                end
            end
            errs <= (clear_q ? sb_q : errs) | set_bits;
            wl_v <= w_we;
            if (w_we) begin wl_s <= w_sel; wl_a <= w_adr; wl_d <= {rx_data, w_buf}; end
        end
    end
endmodule

`default_nettype wire
