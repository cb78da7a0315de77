//! [`ConvGeom`]: a convolution engine's geometry and folding, and the cycle, multiplier and
//! memory estimates that follow from them; the engine's fixed limits.

use squeezeflow_model::network::ConvLayer;

use crate::leaf;
use crate::HwError;

/// Depth of the output FIFO (beats): above the latency from issue to the FIFO (13 cycles when
/// a group takes one MAC cycle, and the chains are one long; 14 with the ECP5 multipliers), so
/// such an engine still issues every cycle; longer groups have fewer in flight (at most
/// `latency / dg + 1 <= 15`).
pub const OUT_FIFO_DEPTH: usize = 16;
/// Largest `simd`: one line-buffer word and one weight word are at most 64 bits.
pub const MAX_SIMD: usize = 8;

/// Geometry and folding of one convolution engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Layer name (`fire2.expand3x3`).
    pub name: String,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    pub ho: usize,
    pub wo: usize,
    /// Output channels in parallel (MAC lanes = pe x simd).
    pub pe: usize,
    /// Input channels in parallel.
    pub simd: usize,
    /// Rows held in the line buffer (a power of two).
    pub lb_rows: usize,
    /// PEs 2i and 2i+1 share one `sqf_mac2` (two products per multiplier); an odd last PE
    /// keeps an `sqf_mac`. The arithmetic is the same either way.
    pub pairs: bool,
    /// Each `sqf_mac` lane is an ECP5 MULT18X18D with its input and output registers, and each
    /// requantizer's two products are MULT18X18Ds' output registers (`ECP5_MUL = 1`,
    /// `sqf_mul_ecp5`). The arithmetic is the same; the MACs are a stage longer (latency 7,
    /// `sqf_conv_ctrl`'s `MAC_LAT`), the cycles a frame the same.
    pub mul_ecp5: bool,
    /// Each `sqf_mac2` lane's product register, and an odd last PE's `sqf_mac` lanes', is the
    /// P register of an UltraScale+ DSP48E2 (`DSP48E2 = 1`, `sqf_mul_dsp48e2`; the operands
    /// stay in fabric registers). The arithmetic and timing are the same.
    pub dsp48e2: bool,
    /// The line buffer's word registered as it leaves the memory, the padding's zero after
    /// the register (`sqf_conv_ctrl`'s `LB_REG`; on ECP5 the block RAM's output register,
    /// [`crate::ecp5_outreg`]): read a cycle early, or with [`Self::mul_ecp5`] at the tap's
    /// address register a cycle later ([`Self::lb_late`], the MACs a stage longer, the cycles
    /// a frame the same). Geometries of K = 1 and one beat a row keep the plain read unless
    /// late. The arithmetic is the same.
    pub lb_reg: bool,
    /// Words of each bank a block RAM weight ROM deeper than it is split into (0: one memory),
    /// the banks' words registered as they leave the block RAMs and picked after
    /// (`sqf_bank_pick`, see [`ConvGeom::rom_banks`]). The contents and timing are the same.
    pub rom_bank_words: usize,
    /// The weight ROMs are LUTs (`sqf_rom_lut`, `rom_style = "logic"`) rather than block RAM.
    /// The contents and timing are the same.
    pub rom_logic: bool,
    /// The weights are in RAM filled through the load port ([`crate::load`]) instead of ROM:
    /// PE i's memory is number `base + i` on the port. Contents and timing are the same once
    /// loaded; before, every weight reads 0.
    pub load_base: Option<u16>,
    /// Bits of a stored weight: 8 (int8), or `k` for a layer of k-bit codebook indices
    /// (`sqf_codebook` decodes them to int8 between the weight memory and the MACs).
    pub wbits: usize,
}

impl ConvGeom {
    /// Geometry for a layer with the given folding; `min_lookahead_rows` asks for extra line-buffer
    /// rows (the Fire module's 1x1 expand needs them, see [`crate::fire`]).
    pub fn new(
        layer: &ConvLayer,
        pe: usize,
        simd: usize,
        min_rows: usize,
    ) -> Result<Self, HwError> {
        let (cin, cout) = (layer.in_channels(), layer.out_channels());
        if pe == 0 || cout % pe != 0 {
            return Err(HwError::Folding(format!(
                "{}: pe = {pe} does not divide its {cout} output channels",
                layer.name
            )));
        }
        if simd == 0 || cin % simd != 0 || simd > MAX_SIMD {
            return Err(HwError::Folding(format!(
                "{}: simd = {simd} must divide its {cin} input channels and be at most {MAX_SIMD}",
                layer.name
            )));
        }
        if layer.pad >= layer.kernel {
            return Err(HwError::Folding(format!(
                "{}: padding {} is not below the kernel size {}: the engine needs every window \
                 to touch the frame (whole rows of padding are not supported)",
                layer.name, layer.pad, layer.kernel
            )));
        }
        // Rows: the window plus one stride (writing overlaps computing), and at a frame's end the
        // last window's rows plus the next frame's first window (frames follow without a bubble).
        let (k, s, p) = (layer.kernel, layer.stride, layer.pad);
        let last_top = ((layer.output.h - 1) * s).saturating_sub(p);
        let across_frames = layer.input.h.saturating_sub(last_top) + k.saturating_sub(p);
        let lb_rows = (k + s).max(across_frames).max(min_rows).next_power_of_two();
        Ok(ConvGeom {
            name: layer.name.clone(),
            h: layer.input.h,
            w: layer.input.w,
            cin,
            cout,
            k: layer.kernel,
            stride: layer.stride,
            pad: layer.pad,
            ho: layer.output.h,
            wo: layer.output.w,
            pe,
            simd,
            lb_rows,
            pairs: false,
            mul_ecp5: false,
            dsp48e2: false,
            lb_reg: false,
            rom_bank_words: 0,
            rom_logic: false,
            load_base: None,
            wbits: layer.weight_bits as usize,
        })
    }
    /// Input groups per pixel.
    pub fn cg(&self) -> usize {
        self.cin / self.simd
    }
    /// Output groups per pixel.
    pub fn og(&self) -> usize {
        self.cout / self.pe
    }
    /// MAC cycles per output group.
    pub fn dg(&self) -> usize {
        self.k * self.k * self.cg()
    }
    /// Bits of a weight memory word: `simd` weights (or indices) of `wbits` bits.
    pub fn weight_word_bits(&self) -> usize {
        self.simd * self.wbits
    }
    /// Whether the weights are codebook indices (decoded by `sqf_codebook`).
    pub fn codebook(&self) -> bool {
        self.wbits < 8
    }
    /// PEs whose index ROMs share one memory: the PEs read the same address every cycle, so
    /// `m` of them can hold their words side by side in one `m`-times-wider ROM, and block RAM
    /// columns (36 bits at 512 words, 18 at 1,024, ...) fill better than with one narrow index
    /// word each. The `m` (a divisor of `pe`, the word at most 288 bits) with the fewest RAMB18
    /// columns a PE; 1 for int8 words (as before) and for loaded weights (one RAM a load-port
    /// number).
    pub fn rom_group(&self) -> usize {
        if !self.codebook() || self.load_base.is_some() {
            return 1;
        }
        let w = self.weight_word_bits();
        // Bits a RAMB18 column holds at this depth (512x36, 1Kx18, 2Kx9, 4Kx4).
        let column = (36 * 512 / self.rom_depth().next_power_of_two().max(512)).max(1);
        let cost = |m: usize| (m * w).div_ceil(column) as f64 / m as f64;
        (1..=self.pe)
            .filter(|m| self.pe.is_multiple_of(*m) && m * w <= 288)
            .min_by(|a, b| cost(*a).total_cmp(&cost(*b)).then(a.cmp(b)))
            .unwrap_or(1)
    }
    /// Bits of a weight ROM's word: a group's words side by side ([`ConvGeom::rom_group`]).
    pub fn rom_width(&self) -> usize {
        self.rom_group() * self.weight_word_bits()
    }
    /// The banks of each weight ROM, (words a bank, banks), when `rom_bank_words` splits it:
    /// a ROM of int8 words in block RAM deeper than a bank. None for one memory: banks off, the
    /// ROM in LUTs, weights loaded through the port, or codebook indices (read a cycle early
    /// already, into registers in front of the decoders).
    pub fn rom_banks(&self) -> Option<(usize, usize)> {
        let (b, depth) = (self.rom_bank_words, self.rom_depth());
        let in_logic = self.rom_logic || crate::device::rom_in_logic(self.rom_width(), depth);
        if b == 0 || depth <= b || in_logic || self.load_base.is_some() || self.codebook() {
            return None;
        }
        Some((b, depth.div_ceil(b)))
    }
    /// The words each bank of a weight ROM holds, in order ([`ConvGeom::rom_banks`]; the last
    /// may be shorter), or None for one memory.
    pub fn rom_bank_ranges(&self) -> Option<Vec<std::ops::Range<usize>>> {
        let (b, nb) = self.rom_banks()?;
        let depth = self.rom_depth();
        Some((0..nb).map(|k| k * b..depth.min((k + 1) * b)).collect())
    }
    /// Words of one ECP5 block RAM (DP16KD) at `width` bits a word, the bank a weight ROM is
    /// split into on ECP5: 16,384 x 1 to 1,024 x 18, and 512 words of up to 36 bits (wider words
    /// take DP16KDs side by side, which need no multiplexer).
    pub fn ecp5_bank_words(width: usize) -> usize {
        match width {
            0..=1 => 16384,
            2 => 8192,
            3..=4 => 4096,
            5..=9 => 2048,
            10..=18 => 1024,
            _ => 512,
        }
    }
    /// Words in each PE's weight ROM.
    pub fn rom_depth(&self) -> usize {
        self.og() * self.dg()
    }
    /// Words in the line buffer.
    pub fn lb_depth(&self) -> usize {
        self.lb_rows * self.w * self.cg()
    }
    pub fn mac_lanes(&self) -> usize {
        self.pe * self.simd
    }
    /// Multipliers of the MAC lanes: one per lane pair when `pairs`, else one per lane.
    pub fn multipliers(&self) -> usize {
        if self.pairs {
            self.pe.div_ceil(2) * self.simd
        } else {
            self.pe * self.simd
        }
    }
    /// PEs served by one requantizer ([`Self::requantizers`] of them, each a 32x17 multiply):
    /// the largest divisor of `pe` that is at most [`Self::dg`], so a requantizer finishes
    /// its PEs' outputs of one group before the next group's accumulators are final.
    pub fn rq_share(&self) -> usize {
        (1..=self.pe.min(self.dg()))
            .rev()
            .find(|s| self.pe.is_multiple_of(*s))
            .unwrap_or(1)
    }
    /// Requantizers of the engine (`pe / rq_share`).
    pub fn requantizers(&self) -> usize {
        self.pe / self.rq_share()
    }
    /// Cycles from the last MAC cycle of an output group (issued) to its beat at the FIFO
    /// head: 12 plus the requantizer's share, one more each with [`Self::mac_ecp5`],
    /// [`Self::lb_late`] and [`Self::rq_in_reg`].
    pub fn latency(&self) -> usize {
        12 + usize::from(self.mac_ecp5())
            + usize::from(self.lb_late())
            + usize::from(self.rq_in_reg())
            + self.rq_share()
    }
    /// The requantizers' multipliers take their operands into their input registers, a stage
    /// more (`sqf_conv_chain`'s `MUL_IN_REG`, `sqf_conv_ctrl`'s `RQ_IN`): with
    /// [`Self::mul_ecp5`], where a fabric register into an unregistered multiplier has the
    /// multiply in its setup time.
    pub fn rq_in_reg(&self) -> bool {
        self.mul_ecp5
    }
    /// The line buffer's word registered a cycle after the tap issues, its read address a
    /// register (`sqf_conv_ctrl`'s `LB_REG` 2): with [`Self::lb_reg`] on ECP5 multipliers,
    /// whose MACs take the other operands a register later (`sqf_mac`'s `X_LATE`). Read a
    /// cycle early instead (`LB_REG` 1), the next address's adds reached the block RAM's
    /// address pins in the issuing cycle (the ULX3S network's critical path, docs/timing.md).
    pub fn lb_late(&self) -> bool {
        self.lb_reg && self.mac_ecp5()
    }
    /// `sqf_conv_ctrl`'s `LB_REG`: 2 with [`Self::lb_late`], else 1 with [`Self::lb_reg`]
    /// where a row holds more than one beat or the kernel more than one row (the early read
    /// needs it), else 0.
    pub fn lb_reg_mode(&self) -> usize {
        if self.lb_late() {
            2
        } else {
            usize::from(self.lb_reg && (self.k > 1 || self.w * self.cg() > 1))
        }
    }
    /// The `sqf_mac`s' lanes are ECP5 multipliers with input registers (latency 7): with
    /// `mul_ecp5` and no pairs (`sqf_mac2` has no ECP5 form; an engine's MACs share one latency).
    pub fn mac_ecp5(&self) -> bool {
        self.mul_ecp5 && !self.pairs
    }
    /// The MAC leaves' stages from the products to the sums the accumulators take: 4, 5
    /// with [`Self::mac_ecp5`], 6 with [`Self::lb_late`] too.
    pub fn mac_stages(&self) -> usize {
        4 + usize::from(self.mac_ecp5()) + usize::from(self.lb_late())
    }
    /// Verilog-safe name prefix (`fire2_expand3x3`).
    pub fn ident(&self) -> String {
        self.name.replace('.', "_")
    }
    /// Steady-state cycles per frame: the slowest of MAC cycles, input beats and output beats
    /// (one beat a cycle at most on each stream).
    pub fn cycles_per_frame(&self) -> u64 {
        let compute = (self.ho * self.wo * self.og() * self.dg()) as u64;
        let input = (self.h * self.w * self.cg()) as u64;
        let output = (self.ho * self.wo * self.og()) as u64;
        compute.max(input).max(output)
    }
    /// Useful MACs per frame.
    pub fn macs(&self) -> u64 {
        (self.ho * self.wo * self.cout * self.k * self.k * self.cin) as u64
    }
    /// Memory bits: weight ROMs, per-channel parameters, line buffer, output FIFO.
    pub fn memory_bits(&self) -> u64 {
        let rom = self.pe * self.rom_depth() * self.weight_word_bits();
        let params = self.cout * (32 + leaf::REQUANT_BITS);
        let lb = self.lb_depth() * self.simd * 8;
        let fifo = OUT_FIFO_DEPTH * (self.pe * 8 + 1);
        (rom + params + lb + fifo) as u64
    }
}
