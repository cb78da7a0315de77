//! Leaf primitives: hand-written Verilog (`hw/verilog/sqf_mac.v`, ...) and independent Rust
//! models of them.
//!
//! rust-hdl's own multiply (16x16 only), shift (logical) and ROM (a line of Verilog per word)
//! do not serve the int8 contract, so the arithmetic and the memories are written by hand once,
//! in the library, and modelled here bit for bit. The engines instantiate the library modules;
//! the blocks below wrap single instances so each primitive can be tested on its own.

use rust_hdl::prelude::*;
use squeezeflow_model::quant::Requant;

/// Bits of a requantizer parameter word: `{mult[15:0], shift[5:0]}`, the shift less the
/// requantizer's `SHIFT_BASE` ([`requant_word`]).
pub(crate) const REQUANT_BITS: usize = 22;

/// Address bits for a memory of `depth` words (at least 1).
pub(crate) fn abits(depth: usize) -> usize {
    let mut b = 1;
    while (1usize << b) < depth {
        b += 1;
    }
    b
}

/// `sqf_mac`: `base + sum_l x[l] * w[l]` over `simd` lanes of packed words (wrapping i32).
#[inline]
pub fn mac(base: i32, x: u64, w: u64, simd: usize) -> i32 {
    let mut sum = 0i32;
    for l in 0..simd {
        let xv = ((x >> (8 * l)) & 0xff) as i32;
        let wv = ((w >> (8 * l)) & 0xff) as u8 as i8 as i32;
        sum = sum.wrapping_add(xv * wv);
    }
    base.wrapping_add(sum)
}

/// `sqf_mac2`: two PEs sharing their activations, each lane's two products taken from one
/// multiply as the Verilog does it (`a = w0 * 2^17 + (w1 + 128)`, `p = a * x`,
/// `w0 * x = p >> 17`, `w1 * x = (p mod 2^17) - 128 * x`). Equal to two [`mac`]s (tested
/// exhaustively over one lane).
#[inline]
pub(crate) fn mac_pair(base: (i32, i32), x: u64, w0: u64, w1: u64, simd: usize) -> (i32, i32) {
    let (mut s0, mut s1) = (0i32, 0i32);
    for l in 0..simd {
        let xv = ((x >> (8 * l)) & 0xff) as i64;
        let a0 = ((w0 >> (8 * l)) & 0xff) as u8 as i8 as i64;
        let a1 = (((w1 >> (8 * l)) & 0xff) as u8 ^ 0x80) as i64; // w1 + 128
        let a = (a0 << 17) | a1; // 25 bits signed
        let p = a * xv; // 34 bits signed
        let hi = p >> 17;
        let lo = p & 0x1ffff;
        s0 = s0.wrapping_add(hi as i32);
        s1 = s1.wrapping_add((lo - (xv << 7)) as i32);
    }
    (base.0.wrapping_add(s0), base.1.wrapping_add(s1))
}

fn sext49(v: i64) -> i64 {
    (v << 15) >> 15
}

/// `sqf_requant` first stage: the product `m = acc * mult` in 49 signed bits.
#[inline]
pub(crate) fn requant_product(acc: i32, mult: u16) -> i64 {
    sext49((acc as i64).wrapping_mul(mult as i64))
}

/// `sqf_requant` third stage (the second only sums the two partial products, `p = m`): `{u, r}
/// = {p, 0} >>> shift`, so `u = p >> shift` and `r` is bit `shift - 1` of `p` (0 for shift 0),
/// then `u + r` clamped to `0..2^out_bits - 1`; `u + r` is `(p + 2^(shift-1)) >> shift`.
#[inline]
pub(crate) fn requant_stage2(p: i64, shift: u8, out_bits: u32) -> i32 {
    let t = (p << 1) >> (shift.min(63) as u32);
    let q = (t >> 1) + (t & 1);
    let max = (1i64 << out_bits) - 1;
    q.clamp(0, max) as i32
}

/// A requantizer parameter word: the multiplier above the 6-bit shift less `base` (the
/// requantizer's `SHIFT_BASE`, at most the shift).
pub(crate) fn requant_word(r: Requant, base: u8) -> u64 {
    ((r.mult as u64) << 6) | ((r.shift - base) as u64 & 0x3f)
}

/// `sqf_codebook`: `simd` lanes of `bits`-bit indices (lane l in bits `bits * l ..`) decoded
/// through `entries` (an index past its end reads 0) to int8 lanes (lane l in bits 8l..8l+7).
#[inline]
pub fn decode_word(word: u64, bits: usize, simd: usize, entries: &[i8]) -> u64 {
    let mask = (1u64 << bits) - 1;
    let mut out = 0u64;
    for l in 0..simd {
        let i = ((word >> (bits * l)) & mask) as usize;
        let w = entries.get(i).copied().unwrap_or(0) as u8;
        out |= (w as u64) << (8 * l);
    }
    out
}

/// The `.mem` file of an `sqf_codebook`: all `2^bits` entries, one byte a line, unused ones 0.
pub fn codebook_mem(bits: usize, entries: &[i8]) -> String {
    let words: Vec<u64> = (0..1usize << bits)
        .map(|i| entries.get(i).copied().unwrap_or(0) as u8 as u64)
        .collect();
    mem_text(&words, 8)
}

/// `$readmemh` text of words wider than 64 bits: word `a` is `parts[0][a]` in its low `bits`
/// bits, `parts[1][a]` above it, and so on (every part as long as the first).
pub fn mem_text_joined(parts: &[&[u64]], bits: usize) -> String {
    let total = bits * parts.len();
    let digits = total.div_ceil(4);
    let mut s = String::with_capacity(parts[0].len() * (digits + 1));
    for a in 0..parts[0].len() {
        // The bits, least significant first, then read out four at a time from the top.
        let mut v = vec![false; digits * 4];
        for (t, p) in parts.iter().enumerate() {
            for b in 0..bits {
                v[t * bits + b] = (p[a] >> b) & 1 == 1;
            }
        }
        for d in (0..digits).rev() {
            let n = (0..4).fold(0u32, |n, b| n | ((v[4 * d + b] as u32) << b));
            s.push(char::from_digit(n, 16).expect("a nibble"));
        }
        s.push('\n');
    }
    s
}

/// `$readmemh` text: one word a line, `bits` wide.
pub fn mem_text(words: &[u64], bits: usize) -> String {
    let digits = bits.div_ceil(4);
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut s = String::with_capacity(words.len() * (digits + 1));
    for &w in words {
        use std::fmt::Write;
        let _ = writeln!(s, "{:0digits$x}", w & mask);
    }
    s
}

/// One `sqf_mac` (SIMD lanes packed into 64-bit ports here; the library module is sized by its
/// `SIMD` parameter). Latency 6: the inputs, the products, the lanes, two half sums, their sum,
/// then the accumulation; 7 with the ECP5 multipliers (their input registers, a stage between
/// the inputs and the products).
#[derive(LogicBlock)]
pub struct MacLane {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub x: Signal<In, Bits<64>>,
    pub w: Signal<In, Bits<64>>,
    pub bias: Signal<In, Bits<32>>,
    pub acc: Signal<Out, Bits<32>>,
    _simd: usize,
    /// `ECP5_MUL = 1`: the products in `sqf_mul_ecp5` (a stage more).
    _ecp5: bool,
    /// `DSP48E2 = 1`: the products in `sqf_mul_dsp48e2` (the same stages).
    _dsp48e2: bool,
    _acc: i32,
    /// The registered inputs: (en, first, bias, x, w).
    _input: (bool, bool, i32, u64, u64),
    /// The products', lanes', half sums' and sum's stages (and with `_ecp5` one more), each
    /// (en, first, bias, the sum of products it carries), the oldest last.
    _pipe: Vec<(bool, bool, i32, i32)>,
}

impl MacLane {
    pub fn new(simd: usize) -> Self {
        assert!((1..=8).contains(&simd), "simd must be 1..=8");
        MacLane {
            clock: Default::default(),
            en: Default::default(),
            first: Default::default(),
            x: Default::default(),
            w: Default::default(),
            bias: Default::default(),
            acc: Default::default(),
            _simd: simd,
            _ecp5: false,
            _dsp48e2: false,
            _acc: 0,
            _input: (false, false, 0, 0, 0),
            _pipe: vec![(false, false, 0, 0); 4],
        }
    }
    /// `ECP5_MUL = 1` (each lane in `sqf_mul_ecp5` with the multiplier's input registers): the
    /// arithmetic is the same, the latency 7.
    pub fn with_ecp5(mut self) -> Self {
        if !self._ecp5 {
            self._pipe.push((false, false, 0, 0));
        }
        self._ecp5 = true;
        self
    }
    /// The Verilog with `DSP48E2 = 1` (each lane in `sqf_mul_dsp48e2`); the behaviour is the
    /// same.
    pub fn with_dsp48e2(mut self, on: bool) -> Self {
        self._dsp48e2 = on;
        self
    }
}

impl Logic for MacLane {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let (en, first, bias, sum) = self._pipe[self._pipe.len() - 1];
            if en {
                self._acc = if first { bias } else { self._acc }.wrapping_add(sum);
            }
            self._pipe.rotate_right(1);
            let (en, first, bias, x, w) = self._input;
            self._pipe[0] = (en, first, bias, mac(0, x, w, self._simd));
            self._input = (
                self.en.val(),
                self.first.val(),
                self.bias.val().to_u64() as u32 as i32,
                self.x.val().to_u64(),
                self.w.val().to_u64(),
            );
        }
        self.acc.next = (self._acc as u32 as u64).into();
    }
    fn connect(&mut self) {
        self.acc.connect();
    }
    fn hdl(&self) -> Verilog {
        let b = 8 * self._simd;
        let unused = if b < 64 {
            format!(
                "/* verilator lint_off UNUSEDSIGNAL */\nwire [{u}:0] unused_hi = {{x[63:{b}], w[63:{b}]}};\n/* verilator lint_on UNUSEDSIGNAL */\n",
                u = 2 * (64 - b) - 1
            )
        } else {
            String::new()
        };
        Verilog::Custom(format!(
            "{unused}wire signed [31:0] acc_w;\nsqf_mac #(.SIMD({s}){mul}) u (.clock(clock), .en(en), .first(first), .x(x[{bm}:0]), .w(w[{bm}:0]), .bias(bias), .acc(acc_w));\nalways @(*) acc = acc_w;",
            s = self._simd,
            mul = if self._ecp5 {
                ", .ECP5_MUL(1)"
            } else if self._dsp48e2 {
                ", .DSP48E2(1)"
            } else {
                ""
            },
            bm = b - 1
        ))
    }
}

/// One `sqf_mac2` (two PEs, SIMD lanes packed into 64-bit ports here). Latency 6, as
/// [`MacLane`].
#[derive(LogicBlock)]
pub struct MacPair {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub x: Signal<In, Bits<64>>,
    pub w0: Signal<In, Bits<64>>,
    pub w1: Signal<In, Bits<64>>,
    pub bias0: Signal<In, Bits<32>>,
    pub bias1: Signal<In, Bits<32>>,
    pub acc0: Signal<Out, Bits<32>>,
    pub acc1: Signal<Out, Bits<32>>,
    _simd: usize,
    /// `DSP48E2 = 1`: the lanes' products in `sqf_mul_dsp48e2` (the same stages).
    _dsp48e2: bool,
    _acc: (i32, i32),
    /// The registered inputs: (en, first, biases, x, w0, w1).
    _input: PairInput,
    /// The products', lanes', half sums' and sums' stages, each (en, first, biases, the sums
    /// of products they carry), the oldest last.
    _pipe: [PairStage; 4],
}

type PairStage = (bool, bool, (i32, i32), (i32, i32));

type PairInput = (bool, bool, (i32, i32), u64, u64, u64);

impl MacPair {
    pub fn new(simd: usize) -> Self {
        assert!((1..=8).contains(&simd), "simd must be 1..=8");
        MacPair {
            clock: Default::default(),
            en: Default::default(),
            first: Default::default(),
            x: Default::default(),
            w0: Default::default(),
            w1: Default::default(),
            bias0: Default::default(),
            bias1: Default::default(),
            acc0: Default::default(),
            acc1: Default::default(),
            _simd: simd,
            _dsp48e2: false,
            _acc: (0, 0),
            _input: (false, false, (0, 0), 0, 0, 0),
            _pipe: [(false, false, (0, 0), (0, 0)); 4],
        }
    }
    /// The Verilog with `DSP48E2 = 1` (each lane in `sqf_mul_dsp48e2`); the behaviour is the
    /// same.
    pub fn with_dsp48e2(mut self, on: bool) -> Self {
        self._dsp48e2 = on;
        self
    }
}

impl Logic for MacPair {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let (en, first, bias, sum) = self._pipe[3];
            if en {
                let base = if first { bias } else { self._acc };
                self._acc = (base.0.wrapping_add(sum.0), base.1.wrapping_add(sum.1));
            }
            self._pipe.rotate_right(1);
            let (en, first, bias, x, w0, w1) = self._input;
            self._pipe[0] = (en, first, bias, mac_pair((0, 0), x, w0, w1, self._simd));
            self._input = (
                self.en.val(),
                self.first.val(),
                (
                    self.bias0.val().to_u64() as u32 as i32,
                    self.bias1.val().to_u64() as u32 as i32,
                ),
                self.x.val().to_u64(),
                self.w0.val().to_u64(),
                self.w1.val().to_u64(),
            );
        }
        self.acc0.next = (self._acc.0 as u32 as u64).into();
        self.acc1.next = (self._acc.1 as u32 as u64).into();
    }
    fn connect(&mut self) {
        self.acc0.connect();
        self.acc1.connect();
    }
    fn hdl(&self) -> Verilog {
        let b = 8 * self._simd;
        let unused = if b < 64 {
            format!(
                "/* verilator lint_off UNUSEDSIGNAL */\nwire [{u}:0] unused_hi = {{x[63:{b}], w0[63:{b}], w1[63:{b}]}};\n/* verilator lint_on UNUSEDSIGNAL */\n",
                u = 3 * (64 - b) - 1
            )
        } else {
            String::new()
        };
        Verilog::Custom(format!(
            "{unused}wire signed [31:0] acc0_w, acc1_w;\nsqf_mac2 #(.SIMD({s}){dsp}) u (.clock(clock), .en(en), .first(first), .x(x[{bm}:0]), .w0(w0[{bm}:0]), .w1(w1[{bm}:0]), .bias0(bias0), .bias1(bias1), .acc0(acc0_w), .acc1(acc1_w));\nalways @(*) begin acc0 = acc0_w; acc1 = acc1_w; end",
            s = self._simd,
            dsp = if self._dsp48e2 { ", .DSP48E2(1)" } else { "" },
            bm = b - 1
        ))
    }
}

/// One `sqf_requant`: product, rounding add, shift and clamp, one stage each. Latency 3, or 4
/// with [`Requantizer::with_round_reg`] (`ROUND_REG`: the shifted value's facts in registers,
/// the round and the clamp a stage later).
#[derive(LogicBlock)]
pub struct Requantizer {
    pub clock: Signal<In, Clock>,
    pub acc: Signal<In, Bits<32>>,
    pub mult: Signal<In, Bits<16>>,
    pub shift: Signal<In, Bits<6>>,
    pub y: Signal<Out, Bits<16>>,
    _out_bits: u32,
    _m: i64,
    _shm: u8,
    _p: i64,
    _sh: u8,
    _round_reg: bool,
    /// `ECP5_MUL = 1`: the products in `sqf_mul_ecp5` (the same stages).
    _ecp5: bool,
    _yq: i32,
    _y: i32,
}

impl Requantizer {
    /// `out_bits` is 8 (activations) or 16 (logits).
    pub fn new(out_bits: u32) -> Self {
        assert!(out_bits == 8 || out_bits == 16);
        Requantizer {
            clock: Default::default(),
            acc: Default::default(),
            mult: Default::default(),
            shift: Default::default(),
            y: Default::default(),
            _out_bits: out_bits,
            _m: 0,
            _shm: 1,
            _p: 0,
            _sh: 1,
            _round_reg: false,
            _ecp5: false,
            _yq: 0,
            _y: 0,
        }
    }
    /// The fourth stage (`ROUND_REG`, as in the convolution engines' chains).
    pub fn with_round_reg(mut self, on: bool) -> Self {
        self._round_reg = on;
        self
    }
    /// The Verilog with `ECP5_MUL = 1` (the products in `sqf_mul_ecp5`); the behaviour is the
    /// same.
    pub fn with_ecp5(mut self, on: bool) -> Self {
        self._ecp5 = on;
        self
    }
}

impl Logic for Requantizer {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = Requant {
                mult: self.mult.val().to_u64() as u16,
                shift: self.shift.val().to_u64() as u8,
            };
            let y = requant_stage2(self._p, self._sh, self._out_bits);
            if self._round_reg {
                self._y = self._yq;
                self._yq = y;
            } else {
                self._y = y;
            }
            self._p = self._m;
            self._sh = self._shm;
            self._m = requant_product(self.acc.val().to_u64() as u32 as i32, r.mult);
            self._shm = r.shift;
        }
        self.y.next = (self._y as u64).into();
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        let ob = self._out_bits;
        let pad = if ob < 16 {
            format!("{{{}'d0, y_w}}", 16 - ob)
        } else {
            "y_w".to_string()
        };
        Verilog::Custom(format!(
            "wire [{obm}:0] y_w;\nsqf_requant #(.OUT_BITS({ob}), .ROUND_REG({rr}){mul}) u (.clock(clock), .acc(acc), .mult(mult), .shift(shift), .y(y_w));\nalways @(*) y = {pad};",
            obm = ob - 1,
            rr = u8::from(self._round_reg),
            mul = if self._ecp5 { ", .ECP5_MUL(1)" } else { "" }
        ))
    }
}

/// The glue of a ROM leaf's wrapper: the address bits of `depth` words, the 64-bit output
/// padded from a `width`-bit `d`, and the unused high address bits waived for Verilator.
fn rom_glue(depth: usize, width: usize) -> (usize, String, String) {
    let ab = abits(depth);
    let pad = if width < 64 {
        format!("{{{}'d0, d}}", 64 - width)
    } else {
        "d".to_string()
    };
    let unused = if ab < 20 {
        format!("/* verilator lint_off UNUSEDSIGNAL */\nwire [{}:0] unused_hi = addr[19:{ab}];\n/* verilator lint_on UNUSEDSIGNAL */\n", 19 - ab)
    } else {
        String::new()
    };
    (ab, pad, unused)
}

/// One `sqf_rom` of up to 64-bit words, read from `file` (relative to the simulator's or
/// synthesizer's working directory). Latency 1.
#[derive(LogicBlock)]
pub struct WeightRom {
    pub clock: Signal<In, Clock>,
    pub addr: Signal<In, Bits<20>>,
    pub data: Signal<Out, Bits<64>>,
    _words: Vec<u64>,
    _width: usize,
    _file: String,
    _data: u64,
}

impl WeightRom {
    pub fn new(words: Vec<u64>, width: usize, file: &str) -> Self {
        assert!(!words.is_empty() && words.len() <= 1 << 20 && (1..=64).contains(&width));
        WeightRom {
            clock: Default::default(),
            addr: Default::default(),
            data: Default::default(),
            _words: words,
            _width: width,
            _file: file.to_string(),
            _data: 0,
        }
    }
    /// The `.mem` file contents.
    pub fn mem_text(&self) -> String {
        mem_text(&self._words, self._width)
    }
}

impl Logic for WeightRom {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let a = self.addr.val().to_u64() as usize;
            // Out-of-range reads return 0 (Verilog would return x).
            self._data = self._words.get(a).copied().unwrap_or(0);
        }
        self.data.next = self._data.into();
    }
    fn connect(&mut self) {
        self.data.connect();
    }
    fn hdl(&self) -> Verilog {
        let w = self._width;
        let (ab, pad, unused) = rom_glue(self._words.len(), w);
        Verilog::Custom(format!(
            "{unused}wire [{wm}:0] d;\nsqf_rom #(.WIDTH({w}), .DEPTH({depth}), .ABITS({ab}), .FILE(\"{file}\")) u (.clock(clock), .addr(addr[{abm}:0]), .data(d));\nalways @(*) data = {pad};",
            wm = w - 1,
            depth = self._words.len(),
            abm = ab - 1,
            file = self._file
        ))
    }
}

/// A weight memory of codebook indices and its decoder, as a convolution engine holds them: an
/// `sqf_rom` of `simd` lanes of `bits`-bit indices read from `file`, then an `sqf_codebook`
/// of `entries` read from `book_file`. `data` is the decoded int8 word. Latency 1.
#[derive(LogicBlock)]
pub struct CodebookRom {
    pub clock: Signal<In, Clock>,
    pub addr: Signal<In, Bits<20>>,
    pub data: Signal<Out, Bits<64>>,
    _rom: WeightRom,
    _simd: usize,
    _bits: usize,
    _entries: Vec<i8>,
    _book_file: String,
}

impl CodebookRom {
    pub fn new(
        words: Vec<u64>,
        simd: usize,
        bits: usize,
        entries: Vec<i8>,
        files: (&str, &str),
    ) -> Self {
        assert!((1..=8).contains(&simd) && (1..=8).contains(&bits) && simd * bits <= 64);
        CodebookRom {
            clock: Default::default(),
            addr: Default::default(),
            data: Default::default(),
            _rom: WeightRom::new(words, simd * bits, files.0),
            _simd: simd,
            _bits: bits,
            _entries: entries,
            _book_file: files.1.to_string(),
        }
    }
    /// The `.mem` files: (name, contents) of the index ROM and the codebook.
    pub fn mem_files(&self) -> Vec<(String, String)> {
        vec![
            (self._rom._file.clone(), self._rom.mem_text()),
            (
                self._book_file.clone(),
                codebook_mem(self._bits, &self._entries),
            ),
        ]
    }
}

impl Logic for CodebookRom {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let a = self.addr.val().to_u64() as usize;
            self._rom._data = self._rom._words.get(a).copied().unwrap_or(0);
        }
        let w = decode_word(self._rom._data, self._bits, self._simd, &self._entries);
        self.data.next = w.into();
    }
    fn connect(&mut self) {
        self.data.connect();
    }
    fn hdl(&self) -> Verilog {
        let (iw, ow) = (self._simd * self._bits, 8 * self._simd);
        let (ab, pad, unused) = rom_glue(self._rom._words.len(), ow);
        Verilog::Custom(format!(
            "{unused}wire [{iwm}:0] i;\nwire [{owm}:0] d;\nsqf_rom #(.WIDTH({iw}), .DEPTH({depth}), .ABITS({ab}), .FILE(\"{file}\")) u (.clock(clock), .addr(addr[{abm}:0]), .data(i));\nsqf_codebook #(.SIMD({simd}), .K({k}), .FILE(\"{book}\")) b (.idx(i), .w(d));\nalways @(*) data = {pad};",
            iwm = iw - 1,
            owm = ow - 1,
            depth = self._rom._words.len(),
            abm = ab - 1,
            file = self._rom._file,
            simd = self._simd,
            k = self._bits,
            book = self._book_file,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{mac, mac_pair};

    /// The packed two-products-per-multiply form equals two plain products for every
    /// activation and every pair of weights (one lane), and sums over lanes like two MACs.
    #[test]
    fn mac_pair_equals_two_macs_exhaustively() {
        for x in 0..=255u64 {
            for w0 in 0..=255u64 {
                for w1 in 0..=255u64 {
                    let got = mac_pair((0, 0), x, w0, w1, 1);
                    assert_eq!(
                        got,
                        (mac(0, x, w0, 1), mac(0, x, w1, 1)),
                        "x {x} w0 {w0} w1 {w1}"
                    );
                }
            }
        }
        let (x, w0, w1) = (
            0xff80_0102_ffff_ff00u64,
            0x8080_8080_7f01_ff80,
            0x7f80_0180_8081_8001,
        );
        for (b, simd) in [((i32::MIN, i32::MAX), 8), ((7, -9), 5)] {
            assert_eq!(
                mac_pair(b, x, w0, w1, simd),
                (mac(b.0, x, w0, simd), mac(b.1, x, w1, simd))
            );
        }
    }
}
