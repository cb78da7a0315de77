//! The Verilog of [`ConvEngine`] (`verilog_body`: line buffer, issuer, MAC leaves, requantizer
//! chains, output FIFO) and the `.mem` files its memories read.

use super::engine::ConvEngine;
use super::geom::OUT_FIFO_DEPTH;
use crate::axis::AxisNames;
use crate::leaf;

/// A 16-bit signed Verilog constant (`16'sd5`, `-16'sd3`).
fn signed16(v: i64) -> String {
    if v < 0 {
        format!("-16'sd{}", -v)
    } else {
        format!("16'sd{v}")
    }
}

/// A Verilog expression for the `from`-bit unsigned signal `name` at `to` bits (zero-extended
/// or truncated), without width warnings.
fn resize(name: &str, from: usize, to: usize) -> String {
    use std::cmp::Ordering;
    match from.cmp(&to) {
        Ordering::Equal => name.to_string(),
        Ordering::Greater => format!("{name}[{}:0]", to - 1),
        Ordering::Less => format!("{{{}'d0, {name}}}", to - from),
    }
}

impl ConvEngine {
    /// The module body (rust-hdl writes the port list). Memories are `sqf_rom`/`sqf_ram`
    /// instances; the weight ROM of PE i reads `<layer>_w<i>.mem`, its biases `<layer>_p<i>.mem`,
    /// and requantizer r's multipliers and shifts are in `<layer>_q<r>.mem`.
    pub fn verilog_body(&self) -> String {
        let g = self.geom();
        let id = g.ident();
        let (pe, simd, cg) = (g.pe, g.simd, g.cg());
        let s_in = AxisNames::new("s_axis");

        let ab_lb = leaf::abits(g.lb_depth());
        let ab_w = leaf::abits(g.rom_depth());
        let ab_p = leaf::abits(g.og());
        let sw = 8 * simd;
        let fifo_bits = leaf::abits(OUT_FIFO_DEPTH);
        let share = g.rq_share();
        let cb = leaf::abits(share).max(1);
        let ab_q = leaf::abits(g.og() * share);
        let mut v = String::new();
        use std::fmt::Write;
        let _ = writeln!(
            v,
            "// {name}: {k}x{k}/{s} pad {p}, {h}x{w}x{cin} -> {ho}x{wo}x{cout}; pe {pe}, simd {simd}; line buffer {rows} rows",
            name = g.name, k = g.k, s = g.stride, p = g.pad, h = g.h, w = g.w, cin = g.cin,
            ho = g.ho, wo = g.wo, cout = g.cout, rows = g.lb_rows
        );
        let _ = writeln!(v, "/* verilator lint_off UNUSEDSIGNAL */\nwire unused_tlast = s_axis$tlast;\n/* verilator lint_on UNUSEDSIGNAL */");
        match g.load_base {
            // The load port's word is for this engine's RAMs when the address is in range (the
            // select is decoded per RAM).
            Some(_) => {
                let _ = writeln!(
                    v,
                    "/* verilator lint_off UNUSEDSIGNAL */\nwire wl_hit = wl$valid && (wl$addr < 16'd{depth});\nwire [63:0] unused_wl_data = wl$data;\n/* verilator lint_on UNUSEDSIGNAL */",
                    depth = g.rom_depth()
                );
            }
            None => {
                let _ = writeln!(v, "/* verilator lint_off UNUSEDSIGNAL */\nwire [96:0] unused_wl = {{wl$valid, wl$sel, wl$addr, wl$data}};\n/* verilator lint_on UNUSEDSIGNAL */");
            }
        }
        // Writer.
        let _ = writeln!(
            v,
            r#"// Counters are 16 bits: row counts wrap, and only their differences (below 2^15) matter.
reg [15:0] rows_done;
reg [{ab_lb_m}:0] wr_addr;
reg [15:0] wr_x;
reg [15:0] wr_j;
reg [15:0] oy, ox, g, ky, kx, j, frame_base;
reg [{ab_w_m}:0] w_addr;
reg [{fb}:0] inflight;
reg [{fb}:0] fifo_count;
reg [{fbm}:0] fifo_head, fifo_tail;
// The window of output row oy, held in registers updated when oy or frame_base moves (so no
// arithmetic on oy sits in front of the issue decision): top_r = oy * stride - pad and
// bot_r = top_r + k - 1 (the window's rows, unclamped), fbtop_r / fbbot_r = frame_base + those,
// fb_last_r = frame_base + h - 1, low_r / need_r = frame_base + the window's first / last row
// in the frame (clamped); left_r = ox * stride - pad. Each update is one add and a compare
// with a constant.
reg signed [15:0] top_r, bot_r, left_r;
reg [15:0] fbtop_r, fbbot_r, fb_last_r;
reg [15:0] low_r, need_r;
wire [15:0] ahead = rows_done - low_r;
wire [15:0] ready_d = rows_done - need_r;
wire rows_ok = !ready_d[15] && (ready_d != 16'd0);
wire s_ok = $signed(ahead) < {rows};
always @(*) s_axis$tready = !reset && s_ok;
wire wr_fire = s_axis$tvalid && s_axis$tready;
wire pop = (fifo_count != 0) && m_axis$tready;
wire group_start = (ky == 0) && (kx == 0) && (j == 0);
wire group_end = (ky == {km1}) && (kx == {km1}) && (j == {cgm1});
wire [{fb1}:0] committed = {{1'b0, fifo_count}} + {{1'b0, inflight}};
wire credit_ok = committed < {fifo_depth};
wire issue = !reset && (!group_start || (rows_ok && credit_ok));
wire frame_end = group_end && (g == {ogm1}) && (ox == {wom1}) && (oy == {hom1});
wire signed [15:0] iy = top_r + $signed(ky);
/* verilator lint_off UNUSEDSIGNAL */
wire [15:0] slot_full = fbtop_r + ky;
/* verilator lint_on UNUSEDSIGNAL */
wire signed [15:0] ix = left_r + $signed(kx);
wire pad = iy[15] || (iy > 16'sd{hm1}) || ix[15] || (ix > 16'sd{wm1});
// The line-buffer address, in address bits only (the arithmetic is modulo 2^bits).
/* verilator lint_off UNUSEDSIGNAL */
wire [15:0] ix_u = ix;
/* verilator lint_on UNUSEDSIGNAL */
wire [{rbm}:0] slot = slot_full[{rbm}:0];
wire [{ab_lb_m}:0] slot_a = {slot_a};
wire [{ab_lb_m}:0] ixa = {ixa};
wire [{ab_lb_m}:0] ja = {ja};
wire [{ab_lb_m}:0] rd_full = {rd_expr} + ja;
wire [{ab_lb_m}:0] rd_addr = pad ? {ab_lb}'d0 : rd_full;
wire [{swm}:0] lb_data;
sqf_ram #(.WIDTH({sw}), .DEPTH({lb_depth}), .ABITS({ab_lb})) lb (
    .clock(clock), .we(wr_fire), .waddr(wr_addr), .wdata({in_packed}),
    .raddr(rd_addr), .rdata(lb_data));
reg v1, first1, last1, pad1, tlast1, vb, lastb, tlastb, vp, lastp, tlastp, va, lasta, tlasta, v2, tlast2, vh, tlasth, vm, lastm, tlastm, v3, last3, tlast3, v4, last4, tlast4;
reg [{cbm}:0] cnt; // position in the requantizers' chains ({share} PEs each)
// The requantizers' parameter ROMs are read one step ahead: word pa_next is the next step's.
reg [{ab_qm}:0] pa;
wire [{ab_qm}:0] pa_next = vh ? ((pa == {ab_q}'d{qlast}) ? {ab_q}'d0 : pa + 1'b1) : pa;
wire push = v4 && last4;
wire [{swm}:0] x1 = pad1 ? {sw}'d0 : lb_data;"#,
            ab_lb_m = ab_lb - 1,
            ab_w_m = ab_w - 1,
            fb = fifo_bits,
            fbm = fifo_bits - 1,
            km1 = g.k - 1,
            hm1 = g.h - 1,
            wm1 = g.w - 1,
            rows = g.lb_rows,
            cgm1 = cg - 1,
            fb1 = fifo_bits + 1,
            fifo_depth = OUT_FIFO_DEPTH,
            ogm1 = g.og() - 1,
            wom1 = g.wo - 1,
            hom1 = g.ho - 1,
            ab_lb = ab_lb,
            swm = sw - 1,
            sw = sw,
            lb_depth = g.lb_depth(),
            in_packed = s_in.packed(simd),
            rd_expr = leaf::const_mul(&format!("{} + ixa", leaf::const_mul("slot_a", g.w)), cg),
            rbm = g.lb_rows.trailing_zeros() - 1,
            slot_a = resize("slot", g.lb_rows.trailing_zeros() as usize, ab_lb),
            ixa = resize("ix_u", 16, ab_lb),
            ja = resize("j", 16, ab_lb),
            cbm = cb - 1,
            share = share,
            ab_q = ab_q,
            ab_qm = ab_q - 1,
            qlast = g.og() * share - 1,
        );
        // Per-PE datapath.
        for i in 0..pe {
            let _ = writeln!(
                v,
                r#"// PE {i}: output channels {i}, {i}+{pe}, ...
wire [{swm}:0] w{i};
wire [31:0] par{i}; // the bias of output group g
{wmem}
sqf_rom #(.WIDTH(32), .DEPTH({og}), .ABITS({ab_p}), .FILE("{id}_p{i}.mem")) prom{i} (.clock(clock), .addr(g[{ab_p_m}:0]), .data(par{i}));
wire signed [31:0] acc{i};
{mac}// held for requantizer {r}, position {t} of its chain
reg signed [31:0] h{i};
always @(posedge clock) if (v2) h{i} <= acc{i};{shift}
{rq}reg [7:0] fifo{i} [0:{fdm}];
always @(posedge clock) if (push) fifo{i}[fifo_tail] <= {y};
always @(*) m_axis$tdata${i} = fifo{i}[fifo_head];"#,
                swm = sw - 1,
                og = g.og(),
                mac = if g.pairs && i % 2 == 0 && i + 1 < pe {
                    format!(
                        "// (its MACs are in mac{}, an sqf_mac2 with PE {})\n",
                        i + 1,
                        i + 1
                    )
                } else if g.pairs && i % 2 == 1 {
                    format!(
                        "sqf_mac2 #(.SIMD({simd})) mac{i} (.clock(clock), .en(v1), .first(first1), .x(x1), .w0(w{h}), .w1(w{i}), .bias0(par{h}), .bias1(par{i}), .acc0(acc{h}), .acc1(acc{i}));\n",
                        h = i - 1,
                    )
                } else {
                    format!(
                        "sqf_mac #(.SIMD({simd})) mac{i} (.clock(clock), .en(v1), .first(first1), .x(x1), .w(w{i}), .bias(par{i}), .acc(acc{i}));\n"
                    )
                },
                ab_p = ab_p,
                ab_p_m = ab_p - 1,
                fdm = OUT_FIFO_DEPTH - 1,
                r = i / share,
                t = i % share,
                wmem = match g.load_base {
                    None => format!(
                        "{wrom} #(.WIDTH({sw}), .DEPTH({depth}), .ABITS({ab_w}), .FILE(\"{id}_w{i}.mem\")) wrom{i} (.clock(clock), .addr(w_addr), .data(w{i}));",
                        wrom = if g.rom_logic { "sqf_rom_lut" } else { "sqf_rom" },
                        depth = g.rom_depth(),
                    ),
                    Some(b) => format!(
                        "// filled through the load port as memory {sel}\n\
                         sqf_ram #(.WIDTH({sw}), .DEPTH({depth}), .ABITS({ab_w})) wram{i} (.clock(clock), .we(wl_hit && wl$sel == 16'd{sel}), .waddr(wl$addr[{ab_w_m}:0]), .wdata(wl$data[{swm}:0]), .raddr(w_addr), .rdata(w{i}));",
                        sel = b as usize + i,
                        depth = g.rom_depth(),
                        ab_w_m = ab_w - 1,
                        swm = sw - 1,
                    ),
                },
                shift = if i % share == share - 1 {
                    String::new()
                } else {
                    format!(" else h{i} <= h{n};", n = i + 1)
                },
                rq = if i % share == 0 {
                    format!(
                        "wire [7:0] yq{r};\nwire [21:0] q{r}; // multiplier and shift of the chain's next output\nsqf_rom #(.WIDTH(22), .DEPTH({qd}), .ABITS({ab_q}), .FILE(\"{id}_q{r}.mem\")) qrom{r} (.clock(clock), .addr(pa_next), .data(q{r}));\nsqf_requant #(.OUT_BITS(8)) rq{r} (.clock(clock), .acc(h{i}), .mult(q{r}[21:6]), .shift(q{r}[5:0]), .y(yq{r}));\n",
                        r = i / share,
                        qd = g.og() * share,
                    )
                } else {
                    String::new()
                },
                y = if i % share == share - 1 {
                    format!("yq{}", i / share)
                } else {
                    format!("o{}", i + 1)
                },
            );
            // The outputs of chain positions 1.. wait in o registers for the chain's last one.
            if i % share != 0 {
                let src = if i % share == share - 1 {
                    format!("yq{}", i / share)
                } else {
                    format!("o{}", i + 1)
                };
                let _ = writeln!(
                    v,
                    "reg [7:0] o{i};\nalways @(posedge clock) if (v4) o{i} <= {src};"
                );
            }
        }
        // The last row of output row 0's window, unclamped below as in the model (it may lie
        // above the frame when pad >= k).
        let hi0 = (g.k as i64 - 1 - g.pad as i64).min(g.h as i64 - 1);
        let _ = writeln!(
            v,
            r#"reg fifo_last [0:{fdm}];
always @(posedge clock) if (push) fifo_last[fifo_tail] <= tlast4;
always @(*) m_axis$tvalid = (fifo_count != 0);
always @(*) m_axis$tlast = fifo_last[fifo_head];
always @(posedge clock) begin
    if (reset) begin
        rows_done <= 0; wr_addr <= 0; wr_x <= 0; wr_j <= 0;
        oy <= 0; ox <= 0; g <= 0; ky <= 0; kx <= 0; j <= 0; frame_base <= 0; w_addr <= 0;
        top_r <= -16'sd{p}; bot_r <= 16'sd{km1} - 16'sd{p}; left_r <= -16'sd{p};
        fbtop_r <= -16'sd{p}; fbbot_r <= 16'd{km1} - 16'd{p}; fb_last_r <= 16'd{hm1};
        low_r <= 16'd{lo0}; need_r <= 16'd{hi0};
        inflight <= 0; fifo_count <= 0; fifo_head <= 0; fifo_tail <= 0;
        v1 <= 0; vb <= 0; va <= 0; v2 <= 0; vh <= 0; cnt <= 0; pa <= 0; vm <= 0; v3 <= 0; v4 <= 0; lastm <= 0; last3 <= 0; last4 <= 0;
        lastb <= 0; tlastb <= 0; lasta <= 0; tlasta <= 0; vp <= 0; lastp <= 0; tlastp <= 0;
        first1 <= 0; last1 <= 0; pad1 <= 0; tlast1 <= 0; tlast2 <= 0; tlast3 <= 0; tlast4 <= 0;
    end else begin
        if (push) fifo_tail <= fifo_tail + 1'b1;
        if (pop) fifo_head <= fifo_head + 1'b1;
        fifo_count <= fifo_count + {{{fbz}'d0, push}} - {{{fbz}'d0, pop}};
        v4 <= v3; last4 <= last3; tlast4 <= tlast3;
        pa <= pa_next;
        v3 <= vm; last3 <= lastm; tlast3 <= tlastm;
        vm <= vh; lastm <= vh && (cnt == {cb}'d{sm1}); tlastm <= tlasth;
        if (v2) begin
            vh <= 1'b1; cnt <= 0; tlasth <= tlast2;
        end else if (vh) begin
            if (cnt == {cb}'d{sm1}) vh <= 1'b0;
            else cnt <= cnt + 1'b1;
        end
        if (va && lasta) tlast2 <= tlasta;
        v2 <= va && lasta;
        va <= vp; lasta <= lastp; tlasta <= tlastp;
        vp <= vb; lastp <= lastb; tlastp <= tlastb;
        vb <= v1; lastb <= last1; tlastb <= tlast1;
        v1 <= issue;
        first1 <= issue && group_start;
        last1 <= issue && group_end;
        pad1 <= pad;
        tlast1 <= issue && frame_end;
        inflight <= inflight + {{{fbz}'d0, issue && group_start}} - {{{fbz}'d0, push}};
        if (issue) begin
            w_addr <= (w_addr == {ab_w}'d{dm1}) ? {ab_w}'d0 : w_addr + 1'b1;
            if (j == {cgm1}) begin
                j <= 0;
                if (kx == {km1}) begin
                    kx <= 0;
                    if (ky == {km1}) begin
                        ky <= 0;
                        if (g == {ogm1}) begin
                            g <= 0;
                            if (ox == {wom1}) begin
                                ox <= 0;
                                left_r <= -16'sd{p};
                                if (oy == {hom1}) begin
                                    oy <= 0;
                                    frame_base <= frame_base + 16'd{h};
                                    top_r <= -16'sd{p};
                                    bot_r <= 16'sd{km1} - 16'sd{p};
                                    fbtop_r <= frame_base + 16'd{h_top0};
                                    fbbot_r <= frame_base + 16'd{h_bot0};
                                    fb_last_r <= frame_base + 16'd{h_last};
                                    low_r <= frame_base + 16'd{h_lo0};
                                    need_r <= frame_base + 16'd{h_hi0};
                                end else begin
                                    oy <= oy + 1;
                                    top_r <= top_r + 16'sd{s};
                                    bot_r <= bot_r + 16'sd{s};
                                    fbtop_r <= fbtop_r + 16'd{s};
                                    fbbot_r <= fbbot_r + 16'd{s};
                                    // max(0, top + s) and min(bot + s, h - 1), offset by frame_base
                                    low_r <= (top_r < -16'sd{s}) ? frame_base : fbtop_r + 16'd{s};
                                    need_r <= (bot_r > {hm1_s}) ? fb_last_r : fbbot_r + 16'd{s};
                                end
                            end else begin
                                ox <= ox + 1;
                                left_r <= left_r + 16'sd{s};
                            end
                        end else g <= g + 1;
                    end else ky <= ky + 1;
                end else kx <= kx + 1;
            end else j <= j + 1;
        end
        if (wr_fire) begin
            wr_addr <= (wr_addr == {ab_lb}'d{lbm1}) ? {ab_lb}'d0 : wr_addr + 1'b1;
            if (wr_j == {cgm1}) begin
                wr_j <= 0;
                if (wr_x == {wm1}) begin
                    wr_x <= 0;
                    rows_done <= rows_done + 1;
                end else wr_x <= wr_x + 1;
            end else wr_j <= wr_j + 1;
        end
    end
end"#,
            fdm = OUT_FIFO_DEPTH - 1,
            fbz = fifo_bits,
            cb = cb,
            sm1 = share - 1,
            ab_w = ab_w,
            dm1 = g.rom_depth() - 1,
            cgm1 = cg - 1,
            km1 = g.k - 1,
            ogm1 = g.og() - 1,
            wom1 = g.wo - 1,
            hom1 = g.ho - 1,
            ab_lb = ab_lb,
            p = g.pad,
            s = g.stride,
            lo0 = 0,
            hi0 = hi0.rem_euclid(1 << 16),
            h = g.h,
            hm1 = g.h - 1,
            hm1_s = signed16(g.h as i64 - 1 - g.stride as i64),
            h_top0 = (g.h as i64 - g.pad as i64).rem_euclid(1 << 16),
            h_bot0 = (g.h as i64 + g.k as i64 - 1 - g.pad as i64).rem_euclid(1 << 16),
            h_last = 2 * g.h - 1,
            h_lo0 = g.h,
            h_hi0 = (g.h as i64 + hi0).rem_euclid(1 << 16),
            lbm1 = g.lb_depth() - 1,
            wm1 = g.w - 1,
        );
        let _ = id;
        v
    }

    /// The `.mem` files this engine's Verilog reads: (file name, contents).
    pub fn mem_files(&self) -> Vec<(String, String)> {
        let g = self.geom();
        let mem = self.memories();
        let id = g.ident();
        let mut files = Vec::new();
        for (i, (w, p)) in mem.weights.iter().zip(&mem.params).enumerate() {
            files.push((format!("{id}_w{i}.mem"), leaf::mem_text(w, 8 * g.simd)));
            let biases: Vec<u64> = p.iter().map(|&(b, _)| b as u32 as u64).collect();
            files.push((format!("{id}_p{i}.mem"), leaf::mem_text(&biases, 32)));
        }
        // Requantizer r's parameters: word og_index * share + t is PE r * share + t's.
        let share = g.rq_share();
        for r in 0..g.requantizers() {
            let words: Vec<u64> = (0..g.og())
                .flat_map(|gi| (0..share).map(move |t| (gi, t)))
                .map(|(gi, t)| leaf::requant_word(mem.params[r * share + t][gi].1))
                .collect();
            files.push((
                format!("{id}_q{r}.mem"),
                leaf::mem_text(&words, leaf::REQUANT_BITS),
            ));
        }
        files
    }
}
