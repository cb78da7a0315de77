//! The Verilog text of [`super::ShellCore`] (`core_verilog`): the same registers and
//! transitions as its Rust model, written as one custom module body.

use super::config::ShellConfig;
use super::core_model::P_PAY;
use super::protocol::{IDENTIFY_LEN, STATUS_LEN};
use crate::axis::AxisNames;
use crate::leaf::abits;

fn zext(sig: &str, from: usize, to: usize) -> String {
    if from == to {
        sig.to_string()
    } else {
        format!("{{{}'d0, {sig}}}", to - from)
    }
}

pub(super) fn core_verilog(c: &ShellConfig) -> String {
    let pixels = c.pixels();
    let classes = c.num_classes as usize;
    let pb = abits(pixels + 1);
    let lb = abits(classes + 1);
    let div = c.divisor;
    let m = AxisNames::new("m_axis");
    let sa = AxisNames::new("s_axis");
    let mut id_case = String::new();
    for (j, b) in c.identify_payload().iter().enumerate() {
        id_case.push_str(&format!("                16'd{j}: r_byte = 8'h{b:02x};\n"));
    }
    let loaded16 = zext("loaded", pb, 16);
    let mut depth_case = String::new();
    for (i, d) in c.load_depths.iter().enumerate() {
        depth_case.push_str(&format!("        16'd{i}: depth_of = 16'd{d};\n"));
    }
    format!(
        r#"// squeezeflow board shell core: UART {div} clocks per bit (8N1), framed requests with
// CRC-16/CCITT-FALSE, {pixels}-pixel frame buffer, {classes} logits. See docs/protocol.md.
localparam [15:0] DIV_M1 = 16'd{div_m1};
localparam [15:0] HALF_M1 = 16'd{half_m1};
localparam [31:0] TMO_M1 = 32'd{tmo_m1};
localparam [15:0] MAXP = 16'd{maxp};
localparam [{pbm}:0] PIXELS = {pb}'d{pixels};
localparam [{pbm}:0] PIX_M1 = {pb}'d{pix_m1};
localparam [{lbm}:0] CLS_M1 = {lb}'d{cls_m1};
localparam [15:0] NLOG2 = 16'd{nlog2};
localparam [15:0] NMEM = 16'd{nmem};

// words of each weight memory on the load port
function [15:0] depth_of(input [15:0] sel);
    case (sel)
{depth_case}        default: depth_of = 16'd0;
    endcase
endfunction

function [15:0] crc_byte(input [15:0] c, input [7:0] b);
    integer k;
    reg [15:0] x;
    begin
        x = c ^ {{b, 8'h00}};
        for (k = 0; k < 8; k = k + 1)
            x = x[15] ? ({{x[14:0], 1'b0}} ^ 16'h1021) : {{x[14:0], 1'b0}};
        crc_byte = x;
    end
endfunction

function [7:0] err_flag(input [7:0] code);
    case (code)
        8'd1: err_flag = 8'h01;
        8'd2: err_flag = 8'h02;
        8'd3: err_flag = 8'h04;
        8'd4: err_flag = 8'h08;
        default: err_flag = 8'h40;
    endcase
endfunction

function [15:0] reply_len(input [7:0] kind);
    case (kind)
        8'd1: reply_len = 16'd{idlen};
        8'd2: reply_len = 16'd2;
        8'd3: reply_len = 16'd0;
        8'd4: reply_len = 16'd{stlen};
        8'd5: reply_len = NLOG2;
        8'd6: reply_len = 16'd4;
        default: reply_len = 16'd2;
    endcase
endfunction

// UART receiver
reg rx_s1, rx_s2, rx_valid;
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
reg [{pbm}:0] waddr, loaded, pix;
reg [1:0] phase;
// frame control
reg busy, feeding, primed, logits_valid;
reg [{lbm}:0] lidx;
reg [31:0] cyc, last_cyc, frames_done;
reg [7:0] errs;
// reply sequencer
reg r_act, r_rdy;
reg [7:0] r_kind, r_code, r_cmd;
reg [15:0] r_i, r_crc;
// weights (see the Rust model)
reg [15:0] w_sel, w_adr, wm_sel, wm_adr, wl_s, wl_a;
reg [2:0] w_ph;
reg [55:0] w_buf;
reg [63:0] wl_d;
reg wl_v;

wire [15:0] loaded16 = {loaded16};
wire [15:0] rlen = reply_len(r_kind);
wire [15:0] r_j = r_i - 16'd4;
wire [15:0] crc_rx = crc_byte(crc, rx_data);
wire [15:0] len_full = {{rx_data, len[7:0]}};
wire [15:0] off_full = {{rx_data, off_lo}};
wire w_after = (w_sel > wm_sel) || (w_sel == wm_sel && off_full > wm_adr);
wire w_before = (w_sel < wm_sel) || (w_sel == wm_sel && off_full < wm_adr);
wire [15:0] w_depth = depth_of(w_sel);
wire w_pay = rx_valid && (p_st == 4'd{pay}) && (cmd == 8'd6) && (perr == 8'd0);
wire w_we = w_pay && (cnt >= 16'd4) && (w_ph == 3'd7) && (w_adr < w_depth);
wire fire = feeding && primed && {m_tready};
wire last = (pix == PIX_M1);
wire [{pbm}:0] fr_raddr = (fire && !last) ? pix + 1'b1 : pix;
wire [23:0] fr_rdata;
wire fr_we = rx_valid && (p_st == 4'd{pay}) && (cmd == 8'd2) && (perr == 8'd0) && (cnt >= 16'd2)
    && (phase == 2'd2) && (waddr < PIXELS);
wire [{lbm}:0] lg_raddr = (r_i >= 16'd4 && r_j < NLOG2) ? r_j[{lb}:1] : {lb}'d0;
wire [15:0] lg_rdata;
wire lg_we = busy && {s_tvalid};

sqf_ram #(.WIDTH(24), .DEPTH({pixels}), .ABITS({pb})) fr_ram (
    .clock(clock), .we(fr_we), .waddr(waddr), .wdata({{rx_data, pbuf}}),
    .raddr(fr_raddr), .rdata(fr_rdata));
sqf_ram #(.WIDTH(16), .DEPTH({classes}), .ABITS({lb})) lg_ram (
    .clock(clock), .we(lg_we), .waddr(lidx), .wdata({{{s_d1}, {s_d0}}}),
    .raddr(lg_raddr), .rdata(lg_rdata));

// the reply byte at index r_i
reg [7:0] r_byte;
always @(*) begin
    if (r_i == 16'd0) r_byte = 8'h5a;
    else if (r_i == 16'd1) r_byte = (r_kind == 8'd0) ? 8'hff : (r_kind | 8'h80);
    else if (r_i == 16'd2) r_byte = rlen[7:0];
    else if (r_i == 16'd3) r_byte = rlen[15:8];
    else if (r_i == 16'd4 + rlen) r_byte = r_crc[15:8];
    else if (r_i > 16'd4 + rlen) r_byte = r_crc[7:0];
    else begin
        case (r_kind)
            8'd1: case (r_j)
{id_case}                default: r_byte = 8'h00;
            endcase
            8'd2: r_byte = r_j[0] ? loaded16[15:8] : loaded16[7:0];
            8'd4: case (r_j)
                16'd0: r_byte = {{4'd0, wm_sel == NMEM, logits_valid, loaded == PIXELS, busy}};
                16'd1: r_byte = r_code;
                16'd2: r_byte = frames_done[7:0];
                16'd3: r_byte = frames_done[15:8];
                16'd4: r_byte = frames_done[23:16];
                16'd5: r_byte = frames_done[31:24];
                16'd6: r_byte = last_cyc[7:0];
                16'd7: r_byte = last_cyc[15:8];
                16'd8: r_byte = last_cyc[23:16];
                16'd9: r_byte = last_cyc[31:24];
                16'd10: r_byte = loaded16[7:0];
                16'd11: r_byte = loaded16[15:8];
                16'd12: r_byte = wm_sel[7:0];
                16'd13: r_byte = wm_sel[15:8];
                16'd14: r_byte = wm_adr[7:0];
                default: r_byte = wm_adr[15:8];
            endcase
            8'd6: case (r_j)
                16'd0: r_byte = wm_sel[7:0];
                16'd1: r_byte = wm_sel[15:8];
                16'd2: r_byte = wm_adr[7:0];
                default: r_byte = wm_adr[15:8];
            endcase
            8'd5: r_byte = r_j[0] ? lg_rdata[15:8] : lg_rdata[7:0];
            default: r_byte = (r_j == 16'd0) ? r_code : r_cmd;
        endcase
    end
end

// the parser's outcome this cycle
reg do_reply, start, status_clear;
reg [7:0] rep_kind, rep_code;
always @(*) begin
    do_reply = 1'b0; start = 1'b0; status_clear = 1'b0; rep_kind = 8'd0; rep_code = 8'd0;
    if (p_st != 4'd0 && p_st != 4'd8) begin
        if (rx_valid) begin
            if (p_st == 4'd6) begin
                do_reply = 1'b1;
                if (crc_rx != 16'd0) rep_code = 8'd1;
                else if (perr != 8'd0) rep_code = perr;
                else case (cmd)
                    8'd2: if (phase != 2'd0) rep_code = 8'd2; else rep_kind = 8'd2;
                    8'd6: rep_kind = 8'd6;
                    8'd3: if (busy) rep_code = 8'd7;
                          else if (loaded != PIXELS || wm_sel != NMEM) rep_code = 8'd8;
                          else begin start = 1'b1; rep_kind = 8'd3; end
                    8'd4: begin status_clear = 1'b1; rep_kind = 8'd4; rep_code = errs; end
                    8'd5: if (busy) rep_code = 8'd7;
                          else if (!logits_valid) rep_code = 8'd9;
                          else rep_kind = 8'd5;
                    default: rep_kind = 8'd1;
                endcase
            end
        end else if (tmo == TMO_M1) begin
            do_reply = 1'b1;
            rep_code = (p_st == 4'd7) ? 8'd2 : 8'd4;
        end
    end
end

wire rx_ferr = (rx_st == 2'd3) && (rx_cnt == DIV_M1) && !rx_s2;
wire overrun = (p_st == 4'd8) && rx_valid;
wire tx_load = r_act && r_rdy && !tx_busy;
wire lg_done = busy && {s_tvalid} && (lidx == CLS_M1);
wire stream_err = busy && {s_tvalid} && ((lidx == CLS_M1) != {s_tlast});
wire [7:0] set_bits = (rx_ferr ? 8'h10 : 8'h00) | (overrun ? 8'h20 : 8'h00)
    | ((do_reply && rep_kind == 8'd0) ? err_flag(rep_code) : 8'h00) | (stream_err ? 8'h80 : 8'h00);

always @(*) uart_tx = tx_out;
always @(*) {m_tvalid} = feeding && primed;
always @(*) {m_tlast} = last;
always @(*) {m_d0} = fr_rdata[7:0];
always @(*) {m_d1} = fr_rdata[15:8];
always @(*) {m_d2} = fr_rdata[23:16];
always @(*) {s_tready} = 1'b1 | reset; // always ready (reset only gives Icarus' @* an event)
always @(*) wl_valid = wl_v;
always @(*) wl_sel = wl_s;
always @(*) wl_addr = wl_a;
always @(*) wl_data = wl_d;

// Power-up values (FPGAs load them with the bitstream), the same as after reset: the line
// idles high from the first cycle.
initial begin
    rx_s1 = 1'b1; rx_s2 = 1'b1; rx_valid = 1'b0; rx_st = 2'd0; rx_cnt = 16'd0;
    rx_bit = 3'd0; rx_sh = 8'd0; rx_data = 8'd0;
    tx_busy = 1'b0; tx_out = 1'b1; tx_cnt = 16'd0; tx_bit = 4'd0; tx_sh = 9'd0;
    p_st = 4'd0; cmd = 8'd0; perr = 8'd0; off_lo = 8'd0; len = 16'd0; cnt = 16'd0;
    crc = 16'd0; pbuf = 16'd0; tmo = 32'd0; waddr = {pb}'d0; loaded = {pb}'d0;
    pix = {pb}'d0; phase = 2'd0;
    busy = 1'b0; feeding = 1'b0; primed = 1'b0; logits_valid = 1'b0; lidx = {lb}'d0;
    cyc = 32'd0; last_cyc = 32'd0; frames_done = 32'd0; errs = 8'd0;
    r_act = 1'b0; r_rdy = 1'b0; r_kind = 8'd0; r_code = 8'd0; r_cmd = 8'd0;
    r_i = 16'd0; r_crc = 16'd0;
    w_sel = 16'd0; w_adr = 16'd0; wm_sel = 16'd0; wm_adr = 16'd0; w_ph = 3'd0; w_buf = 56'd0;
    wl_v = 1'b0; wl_s = 16'd0; wl_a = 16'd0; wl_d = 64'd0;
end

always @(posedge clock) begin
    if (reset) begin
        rx_s1 <= 1'b1; rx_s2 <= 1'b1; rx_valid <= 1'b0; rx_st <= 2'd0; rx_cnt <= 16'd0;
        rx_bit <= 3'd0; rx_sh <= 8'd0; rx_data <= 8'd0;
        tx_busy <= 1'b0; tx_out <= 1'b1; tx_cnt <= 16'd0; tx_bit <= 4'd0; tx_sh <= 9'd0;
        p_st <= 4'd0; cmd <= 8'd0; perr <= 8'd0; off_lo <= 8'd0; len <= 16'd0; cnt <= 16'd0;
        crc <= 16'd0; pbuf <= 16'd0; tmo <= 32'd0; waddr <= {pb}'d0; loaded <= {pb}'d0;
        pix <= {pb}'d0; phase <= 2'd0;
        busy <= 1'b0; feeding <= 1'b0; primed <= 1'b0; logits_valid <= 1'b0; lidx <= {lb}'d0;
        cyc <= 32'd0; last_cyc <= 32'd0; frames_done <= 32'd0; errs <= 8'd0;
        r_act <= 1'b0; r_rdy <= 1'b0; r_kind <= 8'd0; r_code <= 8'd0; r_cmd <= 8'd0;
        r_i <= 16'd0; r_crc <= 16'd0;
        w_sel <= 16'd0; w_adr <= 16'd0; wm_sel <= 16'd0; wm_adr <= 16'd0; w_ph <= 3'd0;
        w_buf <= 56'd0; wl_v <= 1'b0; wl_s <= 16'd0; wl_a <= 16'd0; wl_d <= 64'd0;
    end else begin
        // UART receiver
        rx_s1 <= uart_rx;
        rx_s2 <= rx_s1;
        rx_valid <= 1'b0;
        case (rx_st)
            2'd0: if (!rx_s2) begin rx_st <= 2'd1; rx_cnt <= 16'd0; end
            2'd1: if (rx_cnt == HALF_M1) begin
                    if (rx_s2) rx_st <= 2'd0;
                    else begin rx_st <= 2'd2; rx_cnt <= 16'd0; rx_bit <= 3'd0; end
                end else rx_cnt <= rx_cnt + 16'd1;
            2'd2: if (rx_cnt == DIV_M1) begin
                    rx_cnt <= 16'd0;
                    rx_sh <= {{rx_s2, rx_sh[7:1]}};
                    if (rx_bit == 3'd7) rx_st <= 2'd3; else rx_bit <= rx_bit + 3'd1;
                end else rx_cnt <= rx_cnt + 16'd1;
            default: if (rx_cnt == DIV_M1) begin
                    rx_st <= 2'd0;
                    if (rx_s2) begin rx_valid <= 1'b1; rx_data <= rx_sh; end
                end else rx_cnt <= rx_cnt + 16'd1;
        endcase

        // parser
        if (p_st == 4'd0) begin
            tmo <= 32'd0;
            if (rx_valid && rx_data == 8'ha5) begin p_st <= 4'd1; crc <= 16'hffff; perr <= 8'd0; end
        end else if (p_st == 4'd8) begin
            tmo <= 32'd0;
            if (!r_act) p_st <= 4'd0;
        end else if (rx_valid) begin
            tmo <= 32'd0;
            crc <= crc_rx;
            case (p_st)
                4'd1: begin cmd <= rx_data; p_st <= 4'd2; end
                4'd2: begin len <= {{8'd0, rx_data}}; p_st <= 4'd3; end
                4'd3: begin
                    len <= len_full; cnt <= 16'd0; phase <= 2'd0;
                    if (len_full > MAXP) p_st <= 4'd7;
                    else begin
                        if (cmd == 8'd0 || cmd > 8'd6) perr <= 8'd3;
                        else if (cmd == 8'd6) begin
                            if (len_full < 16'd12 || len_full[2:0] != 3'd4) perr <= 8'd2;
                            else if (busy) perr <= 8'd7;
                            else perr <= 8'd0;
                        end else if (cmd == 8'd2) begin
                            if (len_full < 16'd5) perr <= 8'd2;
                            else if (busy) perr <= 8'd7;
                            else perr <= 8'd0;
                        end else if (len_full != 16'd0) perr <= 8'd2;
                        else perr <= 8'd0;
                        p_st <= (len_full == 16'd0) ? 4'd5 : 4'd4;
                    end
                end
                4'd4: begin
                    if (cmd == 8'd2 && perr == 8'd0) begin
                        if (cnt == 16'd0) off_lo <= rx_data;
                        else if (cnt == 16'd1) begin
                            if (off_full > loaded16) perr <= 8'd5;
                            else begin
                                waddr <= off_full[{pbm}:0];
                                if (off_full < loaded16) loaded <= off_full[{pbm}:0];
                            end
                        end else if (phase == 2'd0) begin pbuf[7:0] <= rx_data; phase <= 2'd1; end
                        else if (phase == 2'd1) begin pbuf[15:8] <= rx_data; phase <= 2'd2; end
                        else begin
                            phase <= 2'd0;
                            if (waddr < PIXELS) waddr <= waddr + 1'b1;
                            else perr <= 8'd6;
                        end
                    end
                    if (cmd == 8'd6 && perr == 8'd0) begin
                        if (cnt == 16'd0 || cnt == 16'd2) off_lo <= rx_data;
                        else if (cnt == 16'd1) begin
                            /* verilator lint_off UNSIGNED */ // constant without memories
                            if (off_full >= NMEM) perr <= 8'd6;
                            /* verilator lint_on UNSIGNED */
                            else w_sel <= off_full;
                        end else if (cnt == 16'd3) begin
                            if (w_after) perr <= 8'd5;
                            else if (off_full >= w_depth) perr <= 8'd6;
                            else begin
                                w_adr <= off_full; w_ph <= 3'd0;
                                if (w_before) begin wm_sel <= w_sel; wm_adr <= off_full; end
                            end
                        end else if (w_ph != 3'd7) begin
                            w_buf <= ((w_ph == 3'd0) ? 56'd0 : w_buf) | ({{48'd0, rx_data}} << {{w_ph, 3'd0}});
                            w_ph <= w_ph + 3'd1;
                        end else begin
                            w_ph <= 3'd0;
                            if (w_adr < w_depth) w_adr <= w_adr + 16'd1;
                            else perr <= 8'd6;
                        end
                    end
                    cnt <= cnt + 16'd1;
                    if (cnt + 16'd1 == len) p_st <= 4'd5;
                end
                4'd5: p_st <= 4'd6;
                4'd6: begin
                    if (crc_rx == 16'd0 && perr == 8'd0 && cmd == 8'd2 && phase == 2'd0)
                        loaded <= waddr;
                    if (crc_rx == 16'd0 && perr == 8'd0 && cmd == 8'd6) begin
                        if (w_adr == w_depth) begin wm_sel <= w_sel + 16'd1; wm_adr <= 16'd0; end
                        else begin wm_sel <= w_sel; wm_adr <= w_adr; end
                    end
                end
                default: ;
            endcase
        end else if (tmo == TMO_M1) tmo <= 32'd0;
        else tmo <= tmo + 32'd1;
        if (do_reply) begin
            r_act <= 1'b1; r_rdy <= 1'b0; r_kind <= rep_kind; r_code <= rep_code; r_cmd <= cmd;
            r_i <= 16'd0; r_crc <= 16'hffff; p_st <= 4'd8;
        end

        // reply sequencer and UART transmitter
        if (r_act) begin
            if (!r_rdy) r_rdy <= 1'b1;
            else if (!tx_busy) begin
                if (r_i >= 16'd1 && r_i < 16'd4 + rlen) r_crc <= crc_byte(r_crc, r_byte);
                r_i <= r_i + 16'd1;
                r_rdy <= 1'b0;
                if (r_i == 16'd5 + rlen) r_act <= 1'b0;
            end
        end
        if (tx_load) begin
            tx_busy <= 1'b1; tx_sh <= {{1'b1, r_byte}}; tx_out <= 1'b0; tx_cnt <= 16'd0; tx_bit <= 4'd0;
        end else if (tx_busy) begin
            if (tx_cnt == DIV_M1) begin
                tx_cnt <= 16'd0;
                if (tx_bit == 4'd9) tx_busy <= 1'b0;
                else begin tx_out <= tx_sh[0]; tx_sh <= {{1'b1, tx_sh[8:1]}}; tx_bit <= tx_bit + 4'd1; end
            end else tx_cnt <= tx_cnt + 16'd1;
        end

        // streamer, cycle counter, logit capture
        if (start) begin
            busy <= 1'b1; feeding <= 1'b1; primed <= 1'b0; pix <= {pb}'d0; cyc <= 32'd0;
            lidx <= {lb}'d0; loaded <= {pb}'d0; logits_valid <= 1'b0;
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
                if ({s_tvalid}) begin
                    if (lg_done) begin
                        lidx <= {lb}'d0; busy <= 1'b0; frames_done <= frames_done + 32'd1;
                        last_cyc <= cyc + 32'd1; logits_valid <= 1'b1;
                    end else lidx <= lidx + 1'b1;
                end
            end
        end
        errs <= (status_clear ? 8'd0 : errs) | set_bits;
        wl_v <= w_we;
        if (w_we) begin wl_s <= w_sel; wl_a <= w_adr; wl_d <= {{rx_data, w_buf}}; end
    end
end
"#,
        div_m1 = div - 1,
        half_m1 = div / 2 - 1,
        tmo_m1 = c.timeout - 1,
        maxp = c.max_payload(),
        pbm = pb - 1,
        lbm = lb - 1,
        pix_m1 = pixels - 1,
        cls_m1 = classes - 1,
        nlog2 = 2 * classes,
        nmem = c.load_depths.len(),
        idlen = IDENTIFY_LEN,
        stlen = STATUS_LEN,
        pay = P_PAY,
        m_tready = m.tready(),
        m_tvalid = m.tvalid(),
        m_tlast = m.tlast(),
        m_d0 = m.tdata(0),
        m_d1 = m.tdata(1),
        m_d2 = m.tdata(2),
        s_tvalid = sa.tvalid(),
        s_tlast = sa.tlast(),
        s_tready = sa.tready(),
        s_d0 = sa.tdata(0),
        s_d1 = sa.tdata(1),
    )
}
