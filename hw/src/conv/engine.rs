//! [`ConvEngine`]: the block (ports, weight-load port) and its Rust cycle model, `update()`
//! register for register the machine the Verilog of [`super::verilog`] describes.

use rust_hdl::prelude::*;
use squeezeflow_model::network::ConvLayer;
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::quant::Requant;

use super::geom::{ConvGeom, OUT_FIFO_DEPTH};
use super::memories::ConvMemories;
use crate::axis::{AxisIn, AxisOut};
use crate::leaf;
use crate::load::{LoadMemory, WeightLoad};
use crate::HwError;

/// Registers of the engine (the Rust model's state; the Verilog has the same names, except that
/// stages b, p and a live inside the MAC leaves, that the Verilog keeps the window's bounds in
/// registers derived from `oy`, `ox` and `frame_base`, and that every PE of a requantizer chain
/// keeps its own copy of hold, out_en, push and the FIFO pointers, all equal at every cycle).
/// One stage of the MAC leaves from the products on: the flags, the sums of products per PE
/// and the PEs' parameters it carries.
#[derive(Clone, Debug, Default)]
struct MacStage {
    v: bool,
    first: bool,
    last: bool,
    tlast: bool,
    sum: Vec<i32>,
    par: Vec<i32>,
}

impl MacStage {
    fn new(pe: usize) -> Self {
        MacStage {
            sum: vec![0; pe],
            par: vec![0; pe],
            ..Default::default()
        }
    }
}

#[derive(Clone, Debug, Default)]
struct State {
    lb: Vec<u64>,
    // the weight RAMs' registered write (PE, address, word), as sqf_wmem_loaded's: decoded
    // (wl_r), then written from the write registers (wl_rr)
    wl_r: Option<(usize, usize, u64)>,
    wl_rr: Option<(usize, usize, u64)>,
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
    /// A beat left the output FIFO last cycle: its credit returns this cycle (sqf_conv_ctrl's
    /// pop_r).
    popped: bool,
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
    // stages p, l, s and a: the MAC leaves' product, lane, half-sum and sum registers, each
    // modelled by the sums of products it carries (mid[0] the products, mid[1] the lanes,
    // mid[2] the half sums, mid[3] the sums, which the accumulators take); with the ECP5
    // multipliers a stage more (their input registers: sqf_mac's stage x), mid[4] the sums,
    // and with the line buffer's late register another (sqf_mac's stage y), mid[5] the sums;
    // ConvGeom::mac_stages of the six are used
    mid: Vec<MacStage>,
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
    // with ConvGeom::rq_in_reg, the requantizers' operands in their multipliers' input
    // registers (stage i: the accumulator and the word), one per requantizer
    hi: Vec<i32>,
    qi: Vec<Requant>,
    vi: bool,
    lasti: bool,
    tlasti: bool,
    // requantizer internals (stage m: product; stage 3: shifted; stage q: rounded) and outputs
    // (stage 4), one per requantizer
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
    yq: Vec<u8>,
    vq: bool,
    lastq: bool,
    tlastq: bool,
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
            mid: vec![MacStage::new(pe); 6],
            acc: vec![0; pe],
            h: vec![0; pe],
            q: vec![Requant::ZERO; geom.requantizers()],
            hi: vec![0; geom.requantizers()],
            qi: vec![Requant::ZERO; geom.requantizers()],
            m3: vec![0; geom.requantizers()],
            shm3: vec![1; geom.requantizers()],
            p3: vec![0; geom.requantizers()],
            sh3: vec![1; geom.requantizers()],
            yq: vec![0; geom.requantizers()],
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
        if q.weight_bits() as usize != geom.wbits {
            return Err(HwError::Folding(format!(
                "{}: the model stores {}-bit weights, the network says {} bits",
                layer.name,
                q.weight_bits(),
                geom.wbits
            )));
        }
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

    /// Each lane in an ECP5 MULT18X18D with its input and output registers (see
    /// [`ConvGeom::mul_ecp5`]): the MACs a stage longer, the arithmetic the same.
    pub fn with_mul_ecp5(mut self, on: bool) -> Self {
        self._geom.mul_ecp5 = on;
        self
    }

    /// The line buffer's word registered as it leaves the memory (see [`ConvGeom::lb_reg`]);
    /// changes only the Verilog.
    pub fn with_lb_reg(mut self, on: bool) -> Self {
        self._geom.lb_reg = on;
        self
    }

    /// Each paired lane's product in an UltraScale+ DSP48E2's P register (see
    /// [`ConvGeom::dsp48e2`]); changes only the Verilog.
    pub fn with_dsp48e2(mut self, on: bool) -> Self {
        self._geom.dsp48e2 = on;
        self
    }

    /// Splits each block RAM weight ROM into banks of one ECP5 block RAM
    /// ([`ConvGeom::ecp5_bank_words`] at the ROM's width; see [`ConvGeom::rom_banks`]); changes
    /// only the Verilog.
    pub fn with_rom_banks(self, on: bool) -> Self {
        let words = ConvGeom::ecp5_bank_words(self._geom.rom_width());
        self.with_rom_bank_words(if on { words } else { 0 })
    }

    /// Banks of `words` words (a power of two; 0: one memory) for each block RAM weight ROM
    /// deeper than that ([`ConvGeom::rom_bank_words`]); changes only the Verilog.
    pub fn with_rom_bank_words(mut self, words: usize) -> Self {
        assert!(
            words == 0 || words.is_power_of_two(),
            "a bank of {words} words"
        );
        self._geom.rom_bank_words = words;
        self
    }

    /// Puts the weight ROMs in LUTs (see [`ConvGeom::rom_logic`]); changes only the Verilog.
    pub fn with_rom_logic(mut self, on: bool) -> Self {
        self._geom.rom_logic = on;
        self
    }

    /// Stores a codebook layer's weights decoded, as int8 words (no `sqf_codebook`; see
    /// [`crate::folding::Plan::decoded_weights`]): the same arithmetic and timing. Call before
    /// [`Self::with_load`]. A layer without a codebook is unchanged.
    pub fn with_decoded_weights(mut self, on: bool) -> Self {
        let g = &mut self._geom;
        let book = if on { self._mem.codebook.take() } else { None };
        if let Some(book) = book {
            let (bits, simd) = (g.wbits, g.simd);
            for pe in self._mem.weights.iter_mut() {
                for w in pe.iter_mut() {
                    *w = leaf::decode_word(*w, bits, simd, &book);
                }
            }
            g.wbits = 8;
            self._w = self._mem.weights.clone();
        }
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
                    width: g.weight_word_bits(),
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
        // The weight RAMs' write port (reset does not touch memories): the port's word is
        // decoded into registers, then the write registers, and written at the edge after, as
        // sqf_wmem_loaded's. A read in the same cycle below sees the old word, as the Verilog's.
        let decoded = match (g.load_base, self.wl.word()) {
            (Some(b), Some(w)) if (w.sel as usize).wrapping_sub(b as usize) < pe => {
                let mask = if g.weight_word_bits() == 64 {
                    u64::MAX
                } else {
                    (1u64 << g.weight_word_bits()) - 1
                };
                ((w.addr as usize) < g.rom_depth())
                    .then(|| ((w.sel - b) as usize, w.addr as usize, w.data & mask))
            }
            _ => None,
        };
        let decoded = std::mem::replace(&mut self._st.wl_r, decoded);
        let load = std::mem::replace(&mut self._st.wl_rr, decoded);
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
            st.popped = false;
            st.v1 = false;
            for m in st.mid.iter_mut() {
                m.v = false;
            }
            st.vb = false;
            st.v2 = false;
            st.vh = false;
            st.cnt = 0;
            st.pa = 0;
            st.vi = false;
            st.lasti = false;
            st.vm = false;
            st.lastm = false;
            st.v3 = false;
            st.vq = false;
            st.v4 = false;
            st.last3 = false;
            st.lastq = false;
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
        let credit_ok =
            st.fifo.len() as u32 + st.inflight + u32::from(st.popped) < OUT_FIFO_DEPTH as u32;
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
        // The codebook decoder (combinational) sits between the memory and the MACs' inputs.
        let w_data: Vec<u64> = (0..pe)
            .map(|i| {
                let word = self._w[i][st.w_addr as usize];
                match &self._mem.codebook {
                    Some(b) => leaf::decode_word(word, g.wbits, simd, b),
                    None => word,
                }
            })
            .collect();
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
        // sqf_requant's ROUND_REG: the byte a stage after the shift.
        st.y4.clone_from(&st.yq);
        st.v4 = st.vq;
        st.last4 = st.lastq;
        st.tlast4 = st.tlastq;
        for r in 0..nrq {
            st.yq[r] = leaf::requant_stage2(st.p3[r], st.sh3[r], 8) as u8;
        }
        st.vq = st.v3;
        st.lastq = st.last3;
        st.tlastq = st.tlast3;
        for r in 0..nrq {
            st.p3[r] = st.m3[r];
            st.sh3[r] = st.shm3[r];
        }
        st.v3 = st.vm;
        st.last3 = st.lastm;
        st.tlast3 = st.tlastm;
        // Stage m takes stage i's operands, or with no input registers stage h's and the word.
        let rq_in = g.rq_in_reg();
        for r in 0..nrq {
            let (a, q) = if rq_in {
                (st.hi[r], st.qi[r])
            } else {
                (st.h[r * share], st.q[r])
            };
            st.m3[r] = leaf::requant_product(a, q.mult);
            st.shm3[r] = q.shift;
        }
        let (vi, lasti, tlasti) = (st.vh, st.vh && st.cnt == share as u32 - 1, st.tlasth);
        for r in 0..nrq {
            st.hi[r] = st.h[r * share];
            st.qi[r] = st.q[r];
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
        if rq_in {
            (st.vm, st.lastm, st.tlastm) = (st.vi, st.lasti, st.tlasti);
        } else {
            (st.vm, st.lastm, st.tlastm) = (vi, lasti, tlasti);
        }
        (st.vi, st.lasti, st.tlasti) = (vi, lasti, tlasti);
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
        let stages = g.mac_stages();
        let a = &st.mid[stages - 1];
        if a.v && a.last {
            st.tlast2 = a.tlast;
        }
        st.v2 = a.v && a.last;
        if a.v {
            for i in 0..pe {
                let base = if a.first { a.par[i] } else { st.acc[i] };
                st.acc[i] = base.wrapping_add(a.sum[i]);
            }
        }
        // Stages a, s, l and p (inside sqf_mac / sqf_mac2), registered every cycle: each takes
        // the one before, and the products stage b (the last, just used, is written over).
        st.mid[..stages].rotate_right(1);
        let p = &mut st.mid[0];
        for i in 0..pe {
            p.sum[i] = leaf::mac(0, st.xb, st.wb[i], simd);
        }
        p.v = st.vb;
        p.first = st.firstb;
        p.last = st.lastb;
        p.tlast = st.tlastb;
        p.par.clone_from(&st.parb);
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
        st.popped = pop;

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
        self.s_axis.tready.next = self.s_ready();
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
