//! The convolution engine: any k x k convolution with stride and zero padding, followed by bias,
//! requantization and ReLU, folded over `pe` output channels and `simd` input channels.
//!
//! Dataflow, per frame:
//! - a **writer** stores incoming beats (`simd` channels of one pixel each) into a line buffer of
//!   `lb_rows` rows (a power of two, at least `k + stride`): row `g` of the stream lives in slot
//!   `g mod lb_rows`, so only the rows the window needs are on chip;
//! - an **issuer** walks output pixel, output group (`pe` channels), kernel row, kernel column and
//!   input group; every cycle it issues one line-buffer read (`simd` activations, zero for padding)
//!   and one read of each PE's weight ROM (`simd` weights; the ROM address is a plain counter).
//!   It waits at the start of an output group until the window's rows are in and the output FIFO
//!   has room for the result (credits), so the MAC pipeline itself never stalls;
//! - `pe` MAC lanes (`sqf_mac`, `simd` products a cycle; with [`ConvGeom::pairs`] two PEs share
//!   one `sqf_mac2`, two products per multiplier) accumulate; at the end of a group their
//!   accumulators are copied into chains of [`ConvGeom::rq_share`] registers, each chain
//!   shifting one value a cycle into its requantizer (`sqf_requant`, a 32x17 multiply: `pe /
//!   rq_share` of them instead of one per PE), whose multipliers and shifts come from its own
//!   ROM in the order the chain delivers (so no PE carries them); the `u8` outputs are collected
//!   into one beat of `pe` channels for a 16-deep output FIFO that drives `m_axis`.
//!
//! Throughput: one output group every `k * k * cin / simd` cycles (a chain is never longer
//! than that, so the requantizers keep up); latency `9 + rq_share` cycles from the last MAC
//! cycle of a group to its beat at the FIFO head.
//!
//! The Rust model in [`ConvEngine`]'s `update()` and the Verilog of [`ConvEngine::verilog_body`]
//! are the same machine register for register; tests run both against the integer reference.

use rust_hdl::prelude::*;
use squeezeflow_model::network::ConvLayer;
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::quant::Requant;

use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::leaf;
use crate::load::{LoadMemory, WeightLoad};
use crate::HwError;

/// Depth of the output FIFO (beats): above the latency from issue to the FIFO (10 cycles when
/// a group takes one MAC cycle, and the chains are one long), so such an engine still issues
/// every cycle; longer groups have fewer in flight (at most `(9 + rq_share) / dg + 1 <= 11`).
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
    /// The weight ROMs are LUTs (`sqf_rom_lut`, `rom_style = "logic"`) rather than block RAM.
    /// The contents and timing are the same.
    pub rom_logic: bool,
    /// The weights are in RAM filled through the load port ([`crate::load`]) instead of ROM:
    /// PE i's memory is number `base + i` on the port. Contents and timing are the same once
    /// loaded; before, every weight reads 0.
    pub load_base: Option<u16>,
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
            rom_logic: false,
            load_base: None,
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
    /// head: 9 plus the requantizer's share.
    pub fn latency(&self) -> usize {
        9 + self.rq_share()
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
        let rom = self.pe * self.rom_depth() * self.simd * 8;
        let params = self.cout * (32 + leaf::REQUANT_BITS);
        let lb = self.lb_depth() * self.simd * 8;
        let fifo = OUT_FIFO_DEPTH * (self.pe * 8 + 1);
        (rom + params + lb + fifo) as u64
    }
}

/// The quantized parameters laid out for the engine's memories.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvMemories {
    /// Per PE: `rom_depth` words of `simd` weights (lane l in bits 8l..8l+7).
    pub weights: Vec<Vec<u64>>,
    /// Per PE: one (bias, requantizer) per output group.
    pub params: Vec<Vec<(i32, Requant)>>,
}

impl ConvMemories {
    /// Word at address ((g * k + ky) * k + kx) * cg + j of PE i holds the weights of output
    /// channel g * pe + i, input channels j * simd .. j * simd + simd - 1, tap (ky, kx).
    pub fn new(geom: &ConvGeom, layer: &ConvLayer, q: &QConv) -> Self {
        let (pe, simd, k, cg) = (geom.pe, geom.simd, geom.k, geom.cg());
        let mut weights = vec![Vec::with_capacity(geom.rom_depth()); pe];
        let mut params = vec![Vec::with_capacity(geom.og()); pe];
        for (i, (wrom, prom)) in weights.iter_mut().zip(params.iter_mut()).enumerate() {
            for g in 0..geom.og() {
                let co = g * pe + i;
                prom.push((q.bias[co], q.requant[co]));
                for ky in 0..k {
                    for kx in 0..k {
                        for j in 0..cg {
                            let mut word = 0u64;
                            for l in 0..simd {
                                let w = q.w(layer, co, j * simd + l, ky, kx) as u8;
                                word |= (w as u64) << (8 * l);
                            }
                            wrom.push(word);
                        }
                    }
                }
            }
        }
        ConvMemories { weights, params }
    }
}

/// Registers of the engine (the Rust model's state; the Verilog has the same names, except that
/// stages b, p and a live inside the MAC leaves, and that the Verilog keeps the window's bounds in
/// registers derived from `oy`, `ox` and `frame_base`).
#[derive(Clone, Debug, Default)]
struct State {
    lb: Vec<u64>,
    // writer
    rows_done: u32,
    wr_addr: u32,
    wr_x: u32,
    wr_j: u32,
    // issuer
    oy: u32,
    ox: u32,
    g: u32,
    ky: u32,
    kx: u32,
    j: u32,
    frame_base: u32,
    w_addr: u32,
    inflight: u32,
    // stage 1: memory outputs and flags
    v1: bool,
    first1: bool,
    last1: bool,
    pad1: bool,
    tlast1: bool,
    lb_data1: u64,
    w_data1: Vec<u64>,
    par1: Vec<i32>,
    // stage b: the MAC leaves' registered inputs (activations, weights, flags, parameters)
    vb: bool,
    firstb: bool,
    lastb: bool,
    tlastb: bool,
    xb: u64,
    wb: Vec<u64>,
    parb: Vec<i32>,
    // stage p: the MAC leaves' registered products (modelled by their sum)
    vp: bool,
    firstp: bool,
    lastp: bool,
    tlastp: bool,
    sump: Vec<i32>,
    parp: Vec<i32>,
    // stage a: the MAC leaves' registered sums of products (and the flags, parameters)
    va: bool,
    firsta: bool,
    lasta: bool,
    tlasta: bool,
    suma: Vec<i32>,
    para: Vec<i32>,
    acc: Vec<i32>,
    // stage 2: final accumulators (acc)
    v2: bool,
    tlast2: bool,
    // stage h: per requantizer, a chain of `rq_share` held accumulators, loaded from stage 2
    // and shifted one a cycle into the requantizer
    h: Vec<i32>,
    // per requantizer, its parameter ROM's output (`<layer>_q<r>.mem`: word g * rq_share + t
    // for position t of output group g), read one step ahead (address `pa` after this step)
    pa: u32,
    q: Vec<Requant>,
    vh: bool,
    cnt: u32,
    tlasth: bool,
    // requantizer internals (stage m: product; stage 3: rounded) and outputs (stage 4), one
    // per requantizer
    m3: Vec<i64>,
    shm3: Vec<u8>,
    vm: bool,
    lastm: bool,
    tlastm: bool,
    p3: Vec<i64>,
    sh3: Vec<u8>,
    v3: bool,
    last3: bool,
    tlast3: bool,
    y4: Vec<u8>,
    v4: bool,
    last4: bool,
    tlast4: bool,
    // per PE: the requantized outputs of the group so far (position t of a chain is in o[t + 1]
    // until the chain's last output arrives, which goes to the FIFO straight from y4)
    o: Vec<u8>,
    // output FIFO
    fifo: std::collections::VecDeque<(Vec<u8>, bool)>,
}

/// A convolution engine (see the module documentation).
#[derive(LogicBlock)]
pub struct ConvEngine {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high.
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    /// The weight-load port (used when [`ConvGeom::load_base`] is set).
    pub wl: WeightLoad,
    _geom: ConvGeom,
    _mem: ConvMemories,
    /// The weights the model reads: `_mem.weights`, or the loadable RAMs' contents.
    _w: Vec<Vec<u64>>,
    _st: Box<State>,
}

impl ConvEngine {
    pub fn new(geom: ConvGeom, mem: ConvMemories) -> Self {
        let pe = geom.pe;
        let st = State {
            lb: vec![0; geom.lb_depth()],
            w_data1: vec![0; pe],
            par1: vec![0; pe],
            wb: vec![0; pe],
            parb: vec![0; pe],
            sump: vec![0; pe],
            parp: vec![0; pe],
            suma: vec![0; pe],
            para: vec![0; pe],
            acc: vec![0; pe],
            h: vec![0; pe],
            q: vec![Requant::ZERO; geom.requantizers()],
            m3: vec![0; geom.requantizers()],
            shm3: vec![1; geom.requantizers()],
            p3: vec![0; geom.requantizers()],
            sh3: vec![1; geom.requantizers()],
            y4: vec![0; geom.requantizers()],
            o: vec![0; pe],
            ..Default::default()
        };
        ConvEngine {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(geom.simd),
            m_axis: AxisOut::new(pe),
            wl: WeightLoad::default(),
            _w: mem.weights.clone(),
            _geom: geom,
            _mem: mem,
            _st: Box::new(st),
        }
    }

    pub fn from_layer(
        layer: &ConvLayer,
        q: &QConv,
        pe: usize,
        simd: usize,
        min_rows: usize,
    ) -> Result<Self, HwError> {
        let geom = ConvGeom::new(layer, pe, simd, min_rows)?;
        let mem = ConvMemories::new(&geom, layer, q);
        Ok(Self::new(geom, mem))
    }

    pub fn geom(&self) -> &ConvGeom {
        &self._geom
    }

    /// Pairs the PEs in `sqf_mac2` (see [`ConvGeom::pairs`]); changes only the Verilog.
    pub fn with_pairs(mut self, on: bool) -> Self {
        self._geom.pairs = on;
        self
    }

    /// Puts the weight ROMs in LUTs (see [`ConvGeom::rom_logic`]); changes only the Verilog.
    pub fn with_rom_logic(mut self, on: bool) -> Self {
        self._geom.rom_logic = on;
        self
    }

    /// Puts the weights in RAM loaded through the load port as memories `base ..= base + pe -
    /// 1` (see [`ConvGeom::load_base`]); the model's weights read 0 until loaded.
    pub fn with_load(mut self, base: Option<u16>) -> Result<Self, HwError> {
        let g = &self._geom;
        if let Some(b) = base {
            if g.rom_depth() >= 1 << 16 || b as usize + g.pe > 1 << 16 {
                return Err(HwError::Folding(format!(
                    "{}: {} weight memories of {} words do not fit the load port's 16-bit \
                     select and address from memory {b}",
                    g.name,
                    g.pe,
                    g.rom_depth()
                )));
            }
            self._w = vec![vec![0; g.rom_depth()]; g.pe];
        } else {
            self._w = self._mem.weights.clone();
        }
        self._geom.load_base = base;
        Ok(self)
    }

    /// The engine's loadable weight memories (none unless [`Self::with_load`]), with the
    /// files [`Self::mem_files`] writes their contents to.
    pub fn load_memories(&self) -> Vec<LoadMemory> {
        let g = &self._geom;
        match g.load_base {
            None => Vec::new(),
            Some(b) => (0..g.pe)
                .map(|i| LoadMemory {
                    sel: b + i as u16,
                    file: format!("{}_w{i}.mem", g.ident()),
                    width: 8 * g.simd,
                    depth: g.rom_depth(),
                })
                .collect(),
        }
    }

    pub fn memories(&self) -> &ConvMemories {
        &self._mem
    }

    fn rows_ready_and_low(&self) -> (bool, u32) {
        let g = &self._geom;
        let st = &self._st;
        let top = st.oy as i64 * g.stride as i64 - g.pad as i64;
        let lo = top.max(0) as u32;
        let hi = (top + g.k as i64 - 1).min(g.h as i64 - 1) as u32;
        let low = st.frame_base.wrapping_add(lo);
        let need = st.frame_base.wrapping_add(hi);
        let ready = (st.rows_done.wrapping_sub(need) as i32) > 0;
        (ready, low)
    }

    fn s_ready(&self) -> bool {
        let (_, low) = self.rows_ready_and_low();
        (self._st.rows_done.wrapping_sub(low) as i32) < self._geom.lb_rows as i32
    }

    fn edge(&mut self) {
        let g = self._geom.clone();
        let (pe, simd, cg) = (g.pe, g.simd, g.cg() as u32);
        // The weight RAMs' write port (reset does not touch memories). A read in the same
        // cycle below sees the old word, as the Verilog's.
        let load = match (g.load_base, self.wl.word()) {
            (Some(b), Some(w)) if (w.sel as usize).wrapping_sub(b as usize) < pe => {
                let mask = if simd == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * simd)) - 1
                };
                ((w.addr as usize) < g.rom_depth())
                    .then(|| ((w.sel - b) as usize, w.addr as usize, w.data & mask))
            }
            _ => None,
        };
        if self.reset.val() {
            if let Some((i, a, d)) = load {
                self._w[i][a] = d;
            }
            let st = &mut self._st;
            st.rows_done = 0;
            st.wr_addr = 0;
            st.wr_x = 0;
            st.wr_j = 0;
            st.oy = 0;
            st.ox = 0;
            st.g = 0;
            st.ky = 0;
            st.kx = 0;
            st.j = 0;
            st.frame_base = 0;
            st.w_addr = 0;
            st.inflight = 0;
            st.v1 = false;
            st.va = false;
            st.vp = false;
            st.vb = false;
            st.v2 = false;
            st.vh = false;
            st.cnt = 0;
            st.pa = 0;
            st.vm = false;
            st.lastm = false;
            st.v3 = false;
            st.v4 = false;
            st.last3 = false;
            st.last4 = false;
            st.fifo.clear();
            return;
        }
        // Values of this cycle, from the registers.
        let (rows_ok, _) = self.rows_ready_and_low();
        let s_ready = self.s_ready();
        let wr_fire = s_ready && self.s_axis.tvalid.val();
        let pop = !self._st.fifo.is_empty() && self.m_axis.tready.val();
        let in_word: u64 = self
            .s_axis
            .data()
            .enumerate()
            .fold(0u64, |w, (l, b)| w | ((b as u64) << (8 * l)));
        let st = &mut self._st;
        let k = g.k as u32;
        let group_start = st.ky == 0 && st.kx == 0 && st.j == 0;
        let group_end = st.ky == k - 1 && st.kx == k - 1 && st.j == cg - 1;
        let credit_ok = st.fifo.len() as u32 + st.inflight < OUT_FIFO_DEPTH as u32;
        let issue = !group_start || (rows_ok && credit_ok);
        let frame_end = group_end
            && st.g == g.og() as u32 - 1
            && st.ox == g.wo as u32 - 1
            && st.oy == g.ho as u32 - 1;
        let iy = st.oy as i64 * g.stride as i64 - g.pad as i64 + st.ky as i64;
        let ix = st.ox as i64 * g.stride as i64 - g.pad as i64 + st.kx as i64;
        let pad = iy < 0 || iy >= g.h as i64 || ix < 0 || ix >= g.w as i64;
        let rd_addr = if pad {
            0
        } else {
            let slot = (st.frame_base as i64 + iy) as u64 & (g.lb_rows as u64 - 1);
            ((slot as usize * g.w + ix as usize) * cg as usize) + st.j as usize
        };

        // Memories (synchronous read returns the old word when written in the same cycle).
        let lb_data = st.lb[rd_addr];
        let w_data: Vec<u64> = (0..pe).map(|i| self._w[i][st.w_addr as usize]).collect();
        if let Some((i, a, d)) = load {
            self._w[i][a] = d;
        }
        let par: Vec<i32> = (0..pe)
            .map(|i| self._mem.params[i][st.g as usize].0)
            .collect();
        if wr_fire {
            st.lb[st.wr_addr as usize] = in_word;
        }

        // Pipeline, back to front (every right-hand side is an old register value).
        let (share, nrq) = (g.rq_share(), g.requantizers());
        let push = st.v4 && st.last4;
        if push {
            // Position t of chain r is PE r * share + t.
            let beat: Vec<u8> = (0..pe)
                .map(|i| {
                    if i % share == share - 1 {
                        st.y4[i / share]
                    } else {
                        st.o[i + 1]
                    }
                })
                .collect();
            st.fifo.push_back((beat, st.tlast4));
        }
        if pop {
            st.fifo.pop_front();
        }
        if st.v4 {
            for r in 0..nrq {
                for t in 1..share - 1 {
                    st.o[r * share + t] = st.o[r * share + t + 1];
                }
                if share > 1 {
                    st.o[r * share + share - 1] = st.y4[r];
                }
            }
        }
        for r in 0..nrq {
            st.y4[r] = leaf::requant_stage2(st.p3[r], st.sh3[r], 8) as u8;
        }
        st.v4 = st.v3;
        st.last4 = st.last3;
        st.tlast4 = st.tlast3;
        for r in 0..nrq {
            st.p3[r] = leaf::requant_round(st.m3[r], st.shm3[r]);
            st.sh3[r] = st.shm3[r];
        }
        st.v3 = st.vm;
        st.last3 = st.lastm;
        st.tlast3 = st.tlastm;
        for r in 0..nrq {
            st.m3[r] = leaf::requant_product(st.h[r * share], st.q[r].mult);
            st.shm3[r] = st.q[r].shift;
        }
        // The parameter ROMs read the next step's word.
        let steps = (g.og() * share) as u32;
        let pa_next = if st.vh {
            if st.pa == steps - 1 {
                0
            } else {
                st.pa + 1
            }
        } else {
            st.pa
        };
        let (qg, qt) = (pa_next as usize / share, pa_next as usize % share);
        for r in 0..nrq {
            st.q[r] = self._mem.params[r * share + qt][qg].1;
        }
        st.pa = pa_next;
        st.vm = st.vh;
        st.lastm = st.vh && st.cnt == share as u32 - 1;
        st.tlastm = st.tlasth;
        // Stage h: load the chains at stage 2, else shift them towards the requantizers.
        if st.v2 {
            st.h.clone_from(&st.acc);
            st.vh = true;
            st.cnt = 0;
            st.tlasth = st.tlast2;
        } else {
            for i in 0..pe {
                if i % share != share - 1 {
                    st.h[i] = st.h[i + 1];
                }
            }
            if st.vh {
                if st.cnt == share as u32 - 1 {
                    st.vh = false;
                } else {
                    st.cnt += 1;
                }
            }
        }
        if st.va && st.lasta {
            st.tlast2 = st.tlasta;
        }
        st.v2 = st.va && st.lasta;
        if st.va {
            for i in 0..pe {
                let base = if st.firsta { st.para[i] } else { st.acc[i] };
                st.acc[i] = base.wrapping_add(st.suma[i]);
            }
        }
        // Stage a (inside sqf_mac / sqf_mac2): the sums of products, registered every cycle.
        st.suma.clone_from(&st.sump);
        st.va = st.vp;
        st.firsta = st.firstp;
        st.lasta = st.lastp;
        st.tlasta = st.tlastp;
        st.para.clone_from(&st.parp);
        // Stage p (inside the MAC leaves): the products, registered every cycle.
        for i in 0..pe {
            st.sump[i] = leaf::mac(0, st.xb, st.wb[i], simd);
        }
        st.vp = st.vb;
        st.firstp = st.firstb;
        st.lastp = st.lastb;
        st.tlastp = st.tlastb;
        st.parp.clone_from(&st.parb);
        // Stage b (inside the MAC leaves): their inputs, registered every cycle.
        st.xb = if st.pad1 { 0 } else { st.lb_data1 };
        st.wb.clone_from(&st.w_data1);
        st.vb = st.v1;
        st.firstb = st.first1;
        st.lastb = st.last1;
        st.tlastb = st.tlast1;
        st.parb.clone_from(&st.par1);
        st.lb_data1 = lb_data;
        st.w_data1 = w_data;
        st.par1 = par;
        st.v1 = issue;
        st.first1 = issue && group_start;
        st.last1 = issue && group_end;
        st.pad1 = pad;
        st.tlast1 = issue && frame_end;
        st.inflight = st.inflight + (issue && group_start) as u32 - push as u32;

        // Counters.
        if issue {
            st.w_addr = if st.w_addr as usize == g.rom_depth() - 1 {
                0
            } else {
                st.w_addr + 1
            };
            if st.j == cg - 1 {
                st.j = 0;
                if st.kx == k - 1 {
                    st.kx = 0;
                    if st.ky == k - 1 {
                        st.ky = 0;
                        if st.g == g.og() as u32 - 1 {
                            st.g = 0;
                            if st.ox == g.wo as u32 - 1 {
                                st.ox = 0;
                                if st.oy == g.ho as u32 - 1 {
                                    st.oy = 0;
                                    st.frame_base = st.frame_base.wrapping_add(g.h as u32);
                                } else {
                                    st.oy += 1;
                                }
                            } else {
                                st.ox += 1;
                            }
                        } else {
                            st.g += 1;
                        }
                    } else {
                        st.ky += 1;
                    }
                } else {
                    st.kx += 1;
                }
            } else {
                st.j += 1;
            }
        }
        if wr_fire {
            st.wr_addr = if st.wr_addr as usize == g.lb_depth() - 1 {
                0
            } else {
                st.wr_addr + 1
            };
            if st.wr_j == cg - 1 {
                st.wr_j = 0;
                if st.wr_x == g.w as u32 - 1 {
                    st.wr_x = 0;
                    st.rows_done = st.rows_done.wrapping_add(1);
                } else {
                    st.wr_x += 1;
                }
            } else {
                st.wr_j += 1;
            }
        }
    }
}

impl Logic for ConvEngine {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        let reset: bool = self.reset.val();
        self.s_axis.tready.next = !reset && self.s_ready();
        let head = self._st.fifo.front().cloned();
        self.m_axis.tvalid.next = head.is_some();
        match head {
            Some((bytes, last)) => {
                self.m_axis.set_data(bytes);
                self.m_axis.tlast.next = last;
            }
            None => {
                self.m_axis.tlast.next = false;
            }
        }
    }

    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(self.verilog_body())
    }
}

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
        let g = &self._geom;
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
        let g = &self._geom;
        let id = g.ident();
        let mut files = Vec::new();
        for (i, (w, p)) in self._mem.weights.iter().zip(&self._mem.params).enumerate() {
            files.push((format!("{id}_w{i}.mem"), leaf::mem_text(w, 8 * g.simd)));
            let biases: Vec<u64> = p.iter().map(|&(b, _)| b as u32 as u64).collect();
            files.push((format!("{id}_p{i}.mem"), leaf::mem_text(&biases, 32)));
        }
        // Requantizer r's parameters: word og_index * share + t is PE r * share + t's.
        let share = g.rq_share();
        for r in 0..g.requantizers() {
            let words: Vec<u64> = (0..g.og())
                .flat_map(|gi| (0..share).map(move |t| (gi, t)))
                .map(|(gi, t)| leaf::requant_word(self._mem.params[r * share + t][gi].1))
                .collect();
            files.push((
                format!("{id}_q{r}.mem"),
                leaf::mem_text(&words, leaf::REQUANT_BITS),
            ));
        }
        files
    }
}
