//! The Verilog of [`ConvEngine`] (`verilog_body`: the library modules it is made of, wired) and
//! the `.mem` files its memories read.

use super::engine::ConvEngine;
use super::geom::OUT_FIFO_DEPTH;
use crate::leaf;
use crate::library::Instance;

/// PEs whose bias ROMs read one register copy of the output group (`gc<c>`): conv10's 100
/// bias ROMs in LUTs on one register were the XCZU7EV folding's deepest path.
const PE_PER_GROUP_COPY: usize = 4;

impl ConvEngine {
    /// The module body (rust-hdl writes the port list): a netlist of library modules, no
    /// behaviour of its own. `sqf_conv_ctrl` holds the counters, the line buffer and the
    /// pipeline; per PE a weight memory (`sqf_rom`, `sqf_rom_lut`, or `sqf_wmem_loaded` behind
    /// the load port) reading `<layer>_w<i>.mem` (or banks of `sqf_rom` reading
    /// `<layer>_w<i>_b<k>.mem` and an `sqf_bank_pick`, [`super::ConvGeom::rom_banks`]), a bias
    /// ROM (`<layer>_p<i>.mem`) and a MAC (`sqf_mac`, or `sqf_mac2` for a pair), and for a layer of codebook indices an
    /// `sqf_codebook` between the memory and the MAC (`<layer>_cb.mem`); per requantizer chain of `rq_share` PEs an
    /// `sqf_conv_chain` and its parameter ROM (`<layer>_q<r>.mem`).
    pub fn verilog_body(&self) -> String {
        use std::fmt::Write;
        let g = self.geom();
        let id = g.ident();
        let (pe, simd) = (g.pe, g.simd);
        let sw = 8 * simd;
        // The weight memories' word: int8 lanes, or codebook indices decoded into `w<i>`.
        let mw = g.weight_word_bits();
        let ab_w = leaf::abits(g.rom_depth());
        let ab_p = leaf::abits(g.og());
        let share = g.rq_share();
        let ab_q = leaf::abits(g.og() * share);
        let fb = leaf::abits(OUT_FIFO_DEPTH);
        let mut v = String::new();
        let _ = writeln!(
            v,
            "// {name}: {k}x{k}/{s} pad {p}, {h}x{w}x{cin} -> {ho}x{wo}x{cout}; pe {pe}, simd {simd}; line buffer {rows} rows",
            name = g.name, k = g.k, s = g.stride, p = g.pad, h = g.h, w = g.w, cin = g.cin,
            ho = g.ho, wo = g.wo, cout = g.cout, rows = g.lb_rows
        );
        if g.load_base.is_none() {
            let _ = writeln!(v, "/* verilator lint_off UNUSEDSIGNAL */\nwire [96:0] unused_wl = {{wl$valid, wl$sel, wl$addr, wl$data}};\n/* verilator lint_on UNUSEDSIGNAL */");
        }
        let _ = writeln!(
            v,
            "/* verilator lint_off UNUSEDSIGNAL */\nwire [{abw}:0] w_addr, w_addr_next; // ROMs in logic read copies of the next value, index ROMs in block RAM the value\n/* verilator lint_on UNUSEDSIGNAL */\nwire [{abp}:0] grp_next;\nwire [{swm}:0] x1;\nwire mac_en, mac_first;\n/* verilator lint_off UNUSEDSIGNAL */\nwire [{abq}:0] pa_next, pa_early; // the parameter ROMs read one or the other\n/* verilator lint_on UNUSEDSIGNAL */\nwire [{cnm}:0] chain_next;",
            abw = ab_w - 1, abp = ab_p - 1, swm = sw - 1, abq = ab_q - 1, cnm = 2 * fb + 2
        );
        let ctrl = Instance::new("sqf_conv_ctrl", "ctrl")
            .param("K", g.k)
            .param("STRIDE", g.stride)
            .param("PAD", g.pad)
            .param("H", g.h)
            .param("W", g.w)
            .param("HO", g.ho)
            .param("WO", g.wo)
            .param("CG", g.cg())
            .param("OG", g.og())
            .param("SIMD", simd)
            .param("SHARE", share)
            .param("LB_ROWS", g.lb_rows)
            .param("FIFO_DEPTH", OUT_FIFO_DEPTH)
            .param("AB_W", ab_w)
            .param("AB_P", ab_p)
            .param("AB_Q", ab_q)
            .param("FB", fb)
            .param("LB_REG", g.lb_reg_mode())
            .param_if(g.mac_ecp5(), "MAC_LAT", 7 + usize::from(g.lb_late()))
            .param_if(g.rq_in_reg(), "RQ_IN", 1)
            .axis_in("s_axis", "s_", simd)
            .port("m_tvalid", "ctrl_m_tvalid")
            .port("m_tlast", "ctrl_m_tlast")
            .port("m_tready", "m_axis$tready");
        let ctrl = [
            "w_addr",
            "w_addr_next",
            "grp_next",
            "x1",
            "mac_en",
            "mac_first",
            "pa_next",
            "pa_early",
            "chain_next",
        ]
        .iter()
        .fold(ctrl, |i, p| i.port(p, p));
        // m_axis$tvalid and m_axis$tlast are the block's output regs: driven from wires.
        let _ = writeln!(
            v,
            "wire ctrl_m_tvalid, ctrl_m_tlast;\nalways @(*) m_axis$tvalid = ctrl_m_tvalid;\nalways @(*) m_axis$tlast = ctrl_m_tlast;\n{}",
            ctrl.verilog()
        );
        // The weight ROMs in instance order (a group's or each PE's) and the address each reads.
        let group = g.rom_group();
        let rom_width = if g.load_base.is_some() {
            None
        } else if group > 1 {
            Some(group * mw)
        } else {
            Some(mw)
        };
        let roms = rom_width.map_or(0, |_| pe.div_ceil(group));
        let logic =
            rom_width.is_some_and(|w| g.rom_logic || crate::device::rom_in_logic(w, g.rom_depth()));
        // Codebook indices from block RAM are read a cycle early (at w_addr_next) into
        // registers in front of the decoders: the block RAM's clock to out, then the decoder,
        // into the MAC was 6.67 ns in the 6-bit fit on the XC7A200T.
        let early_idx = rom_width.is_some() && !logic && g.codebook();
        let (split, addrs, copies) = match rom_width {
            Some(w) if logic => address_copies(roms, w, g.rom_depth()),
            _ if early_idx => (None, vec!["w_addr_next".to_string(); roms], 0),
            _ => (None, vec!["w_addr".to_string(); roms], 0),
        };
        // The bias ROMs' address: a register copy of the output group's next value for every
        // PE_PER_GROUP_COPY PEs (kept apart: Yosys merges equal registers).
        for c in 0..pe.div_ceil(PE_PER_GROUP_COPY) {
            let _ = writeln!(
                v,
                "(* keep = \"true\" *) reg [{abp}:0] gc{c};\n(* keep *) always @(posedge clock) gc{c} <= grp_next;",
                abp = ab_p - 1
            );
        }
        for c in 0..copies {
            let _ = writeln!(
                v,
                "(* keep = \"true\" *) reg [{abw}:0] wa{c};\n(* keep *) always @(posedge clock) wa{c} <= w_addr_next;",
                abw = ab_w - 1
            );
        }
        for i in 0..pe {
            let _ = writeln!(v, "// PE {i}: output channels {i}, {i}+{pe}, ...\nwire [{}:0] w{i};\nwire [31:0] par{i};\nwire [31:0] acc{i}; // signed (the chain reads it as such)", sw - 1);
            let wdata = if g.codebook() {
                let _ = writeln!(
                    v,
                    "wire [{}:0] wi{i}; // {} indices of {} bits",
                    mw - 1,
                    simd,
                    g.wbits
                );
                format!("wi{i}")
            } else {
                format!("w{i}")
            };
            // Weight ROM `r` (in LUTs when the plan says so) of `width`-bit words, or its banks
            // (`<file>_b<k>.mem`) read at the next address and `sqf_bank_pick`.
            let rom = |name: String, r: usize, width: usize, file: String, data: &str| {
                let one =
                    |name: &str, depth: usize, ab: usize, file: &str, addr: &str, data: &str| {
                        let i = Instance::new(
                            if g.rom_logic {
                                "sqf_rom_lut"
                            } else {
                                "sqf_rom"
                            },
                            name,
                        )
                        .no_reset()
                        .param("WIDTH", width)
                        .param("DEPTH", depth)
                        .param("ABITS", ab);
                        let i = match split {
                            Some(sp) => i.param("SPLIT", sp),
                            None => i,
                        };
                        i.param("FILE", format!("\"{id}_{file}.mem\""))
                            .port("addr", addr)
                            .port("data", data)
                            .verilog()
                    };
                let (Some((words, nb)), Some(ranges)) = (g.rom_banks(), g.rom_bank_ranges()) else {
                    return one(&name, g.rom_depth(), ab_w, &file, &addrs[r], data);
                };
                let bb = words.trailing_zeros() as usize;
                let mut t = String::new();
                let _ = writeln!(
                    t,
                    "wire [{}:0] {name}_d; // the banks' words",
                    nb * width - 1
                );
                for (k, words_k) in ranges.iter().enumerate() {
                    // The last bank may be shorter, its address narrower.
                    let depth = words_k.len();
                    let ab = leaf::abits(depth);
                    let part = format!("{name}_d[{}:{}]", (k + 1) * width - 1, k * width);
                    let addr = format!("w_addr_next[{}:0]", ab - 1);
                    let file = format!("{file}_b{k}");
                    t.push_str(&one(
                        &format!("{name}_b{k}"),
                        depth,
                        ab,
                        &file,
                        &addr,
                        &part,
                    ));
                }
                let pick = Instance::new("sqf_bank_pick", &name)
                    .no_reset()
                    .param("WIDTH", width)
                    .param("NB", nb)
                    .param("SB", ab_w - bb)
                    .port("sel", &format!("w_addr_next[{}:{bb}]", ab_w - 1))
                    .port("d", &format!("{name}_d"))
                    .port("q", data);
                t.push_str(&pick.verilog());
                t
            };
            let wmem = match g.load_base {
                // PEs i - i % m .. of a group read one ROM m words wide (see rom_group).
                None if group > 1 => {
                    let gi = i / group;
                    if i % group == 0 {
                        let _ = writeln!(v, "wire [{}:0] wg{gi};", group * mw - 1);
                        let wg = format!("wg{gi}");
                        let r = rom(format!("wromg{gi}"), gi, group * mw, format!("wg{gi}"), &wg);
                        v.push_str(&r);
                    }
                    let _ = writeln!(
                        v,
                        "assign {wdata} = wg{gi}[{}:{}];",
                        (i % group + 1) * mw - 1,
                        (i % group) * mw
                    );
                    None
                }
                None => {
                    v.push_str(&rom(format!("wrom{i}"), i, mw, format!("w{i}"), &wdata));
                    None
                }
                // Filled through the load port as memory `base + i`.
                Some(b) => Some(
                    Instance::new("sqf_wmem_loaded", &format!("wram{i}"))
                        .no_reset()
                        .param("WIDTH", mw)
                        .param("DEPTH", g.rom_depth())
                        .param("ABITS", ab_w)
                        .param("SEL", b as usize + i)
                        .port("wl_valid", "wl$valid")
                        .port("wl_sel", "wl$sel")
                        .port("wl_addr", "wl$addr")
                        .port("wl_data", "wl$data")
                        .port("raddr", "w_addr")
                        .port("rdata", &wdata),
                ),
            };
            if let Some(m) = wmem {
                v.push_str(&m.verilog());
            }
            if g.codebook() {
                let idx = if early_idx {
                    let _ = writeln!(
                        v,
                        "reg [{m}:0] wq{i}; // the indices a cycle later\nalways @(posedge clock) wq{i} <= {wdata};",
                        m = mw - 1
                    );
                    format!("wq{i}")
                } else {
                    wdata.clone()
                };
                let dec = Instance::new("sqf_codebook", &format!("book{i}"))
                    .no_clock()
                    .param("SIMD", simd)
                    .param("K", g.wbits)
                    .param("FILE", format!("\"{id}_cb.mem\""))
                    .port("idx", &idx)
                    .port("w", &format!("w{i}"));
                v.push_str(&dec.verilog());
            }
            let prom = Instance::new("sqf_rom", &format!("prom{i}"))
                .no_reset()
                .param("WIDTH", 32)
                .param("DEPTH", g.og())
                .param("ABITS", ab_p)
                .param("FILE", format!("\"{id}_p{i}.mem\""))
                .port("addr", &format!("gc{}", i / PE_PER_GROUP_COPY))
                .port("data", &format!("par{i}"));
            v.push_str(&prom.verilog());
            let mac = if g.pairs && i % 2 == 1 {
                // PEs i-1 and i share one sqf_mac2 (one multiplier a lane for both).
                let h = i - 1;
                Some(
                    Instance::new("sqf_mac2", &format!("mac{i}"))
                        .no_reset()
                        .param("SIMD", simd)
                        // Only UltraScale+ bundles name the DSP48E2: the others' Verilog is
                        // unchanged.
                        .param_if(g.dsp48e2, "DSP48E2", 1)
                        .port("en", "mac_en")
                        .port("first", "mac_first")
                        .port("x", "x1")
                        .port("w0", &format!("w{h}"))
                        .port("w1", &format!("w{i}"))
                        .port("bias0", &format!("par{h}"))
                        .port("bias1", &format!("par{i}"))
                        .port("acc0", &format!("acc{h}"))
                        .port("acc1", &format!("acc{i}")),
                )
            } else if g.pairs && i + 1 < pe {
                None // in the sqf_mac2 of PE i + 1
            } else {
                // Only ECP5 and UltraScale+ bundles name the multiplier.
                let m = Instance::new("sqf_mac", &format!("mac{i}"))
                    .no_reset()
                    .param("SIMD", simd)
                    .param_if(g.mac_ecp5(), "ECP5_MUL", 1)
                    // x a cycle after the other inputs (the line buffer's late register).
                    .param_if(g.lb_late(), "X_LATE", 1)
                    // An odd PE's products in DSP48E2s as its pairs' (UltraScale+ only).
                    .param_if(g.dsp48e2, "DSP48E2", 1);
                Some(
                    m.port("en", "mac_en")
                        .port("first", "mac_first")
                        .port("x", "x1")
                        .port("w", &format!("w{i}"))
                        .port("bias", &format!("par{i}"))
                        .port("acc", &format!("acc{i}")),
                )
            };
            if let Some(m) = mac {
                v.push_str(&m.verilog());
            }
        }
        // A parameter ROM in block RAM reads its word a cycle early (pa_early) into the
        // requantizer's input registers (MULT_REG): the block RAM's clock to out then ends in a
        // register, not in the multipliers (sqf_requant).
        let q_depth = g.og() * share;
        let q_early = !crate::device::rom_in_logic(leaf::REQUANT_BITS, q_depth);
        for r in 0..g.requantizers() {
            let pes: Vec<usize> = (r * share..(r + 1) * share).collect();
            let accs: Vec<String> = pes.iter().rev().map(|i| format!("acc{i}")).collect();
            let _ = writeln!(
                v,
                "// requantizer chain {r}: PEs {}..{}\nwire [21:0] q{r};\nwire [{}:0] y{r};",
                pes[0],
                pes[share - 1],
                8 * share - 1
            );
            let qrom = Instance::new("sqf_rom", &format!("qrom{r}"))
                .no_reset()
                .param("WIDTH", leaf::REQUANT_BITS)
                .param("DEPTH", q_depth)
                .param("ABITS", ab_q)
                .param("FILE", format!("\"{id}_q{r}.mem\""))
                .port("addr", if q_early { "pa_early" } else { "pa_next" })
                .port("data", &format!("q{r}"));
            let chain = Instance::new("sqf_conv_chain", &format!("chain{r}"))
                .no_reset()
                .param("SHARE", share)
                .param(
                    "SHIFT_BASE",
                    self.memories().shift_base(r * share..(r + 1) * share),
                )
                .param("MULT_REG", usize::from(q_early))
                // As the MAC lanes': only ECP5 bundles name the requantizer's multipliers.
                .param_if(g.mul_ecp5, "ECP5_MUL", 1)
                .param_if(g.rq_in_reg(), "MUL_IN_REG", 1)
                .param("FIFO_DEPTH", OUT_FIFO_DEPTH)
                .param("FB", fb)
                .port("ctl", "chain_next")
                .port("acc", &format!("{{{}}}", accs.join(", ")))
                .port("q", &format!("q{r}"))
                .port("y", &format!("y{r}"));
            v.push_str(&qrom.verilog());
            v.push_str(&chain.verilog());
            for (t, i) in pes.iter().enumerate() {
                let _ = writeln!(
                    v,
                    "always @(*) m_axis$tdata${i} = y{r}[{}:{}];",
                    8 * t + 7,
                    8 * t
                );
            }
        }
        v
    }

    /// The `.mem` files this engine's Verilog reads: (file name, contents).
    pub fn mem_files(&self) -> Vec<(String, String)> {
        let g = self.geom();
        let mem = self.memories();
        let id = g.ident();
        let mut files = Vec::new();
        let group = g.rom_group();
        // A weight ROM's file, or its banks' (`<name>_b<k>.mem`, see `verilog_body`).
        let ranges: Vec<(String, std::ops::Range<usize>)> = match g.rom_bank_ranges() {
            None => vec![(String::new(), 0..g.rom_depth())],
            Some(banks) => banks
                .into_iter()
                .enumerate()
                .map(|(k, r)| (format!("_b{k}"), r))
                .collect(),
        };
        for (i, (w, p)) in mem.weights.iter().zip(&mem.params).enumerate() {
            for (suffix, r) in &ranges {
                if group == 1 {
                    files.push((
                        format!("{id}_w{i}{suffix}.mem"),
                        leaf::mem_text(&w[r.clone()], g.weight_word_bits()),
                    ));
                } else if i % group == 0 {
                    let parts: Vec<&[u64]> = mem.weights[i..i + group]
                        .iter()
                        .map(|w| &w[r.clone()])
                        .collect();
                    files.push((
                        format!("{id}_wg{}{suffix}.mem", i / group),
                        leaf::mem_text_joined(&parts, g.weight_word_bits()),
                    ));
                }
            }
            let biases: Vec<u64> = p.iter().map(|&(b, _)| b as u32 as u64).collect();
            files.push((format!("{id}_p{i}.mem"), leaf::mem_text(&biases, 32)));
        }
        if let Some(book) = &mem.codebook {
            files.push((format!("{id}_cb.mem"), leaf::codebook_mem(g.wbits, book)));
        }
        // Requantizer r's parameters: word og_index * share + t is PE r * share + t's.
        let share = g.rq_share();
        for r in 0..g.requantizers() {
            let base = mem.shift_base(r * share..(r + 1) * share);
            let words: Vec<u64> = (0..g.og())
                .flat_map(|gi| (0..share).map(move |t| (gi, t)))
                .map(|(gi, t)| leaf::requant_word(mem.params[r * share + t][gi].1, base))
                .collect();
            files.push((
                format!("{id}_q{r}.mem"),
                leaf::mem_text(&words, leaf::REQUANT_BITS),
            ));
        }
        files
    }
}

/// LUT inputs one copy of the weight address drives at most: under 100, where the XC7A200T
/// model's route delay steps from 1.15 to 2.81 ns (scripts/delay_model.py). One address
/// register in front of fire3.expand3x3's ROMs in logic had 1,439 loads (6.92 to 7.03 ns).
const COPY_LOADS: usize = 64;

/// The address copies of `roms` weight ROMs in logic of `width`-bit words and `depth` words:
/// the data bits each copy serves (`SPLIT`: a LUT6 holds 64 words of one bit), each ROM's
/// address port (its parts' copies, the last part first) and the number of copies. A copy
/// serves parts of several ROMs while it stays within [`COPY_LOADS`].
fn address_copies(roms: usize, width: usize, depth: usize) -> (Option<usize>, Vec<String>, usize) {
    let per_bit = depth.div_ceil(64);
    let split = (COPY_LOADS / per_bit).clamp(1, width);
    let (mut n, mut used) = (0, COPY_LOADS);
    let addrs = (0..roms)
        .map(|_| {
            let mut parts: Vec<String> = (0..width.div_ceil(split))
                .map(|p| {
                    let loads = per_bit * split.min(width - p * split);
                    if used + loads > COPY_LOADS {
                        n += 1;
                        used = 0;
                    }
                    used += loads;
                    format!("wa{}", n - 1)
                })
                .collect();
            parts.reverse();
            format!("{{{}}}", parts.join(", "))
        })
        .collect();
    (Some(split), addrs, n)
}

#[cfg(test)]
mod tests {
    use super::address_copies;

    #[test]
    fn address_copies_keep_each_copy_under_its_loads() {
        // fire3.expand3x3 of the 6-bit fit: 8 ROMs of 72 words of 96 bits, two LUTs a bit.
        let (split, addrs, n) = address_copies(8, 96, 72);
        assert_eq!((split, n), (Some(32), 24));
        assert_eq!(addrs[0], "{wa2, wa1, wa0}");
        assert_eq!(addrs[7], "{wa23, wa22, wa21}");
        // conv1: 8-bit ROMs of 27 words; eight share a copy.
        let (split, addrs, n) = address_copies(16, 8, 27);
        assert_eq!((split, n), (Some(8), 2));
        assert_eq!(addrs[7], "{wa0}");
        assert_eq!(addrs[8], "{wa1}");
        // Deep ROMs: 20 bits of 5 LUTs in parts of 12 and 8 bits; a part of 79 LUTs alone.
        let (split, addrs, n) = address_copies(1, 20, 300);
        assert_eq!((split, n), (Some(12), 2));
        assert_eq!(addrs[0], "{wa1, wa0}");
        let (split, _, n) = address_copies(2, 3, 5000);
        assert_eq!((split, n), (Some(1), 6));
    }
}
