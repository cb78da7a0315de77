//! [`ShellCore`], the shell's one stateful leaf, as a Rust cycle model: UART receiver and
//! transmitter, request parser, frame and logit buffers, streamer and reply sequencer. Its
//! `update()` is an independent cycle-exact model of `sqf_shell_core` (hw/verilog/), which
//! [`super::core_verilog`] instantiates; the shell tests hold the two equal.

use rust_hdl::prelude::*;

use super::config::ShellConfig;
use super::protocol::{
    cmd, crc16_byte, err, flag, REPLY_ERROR, REPLY_OK, SYNC_REPLY, SYNC_REQUEST,
};
use crate::axis::{AxisIn, AxisOut};

// Parser states.
const P_IDLE: u8 = 0;
const P_CMD: u8 = 1;
const P_LEN0: u8 = 2;
const P_LEN1: u8 = 3;
pub(super) const P_PAY: u8 = 4;
const P_CRC0: u8 = 5;
const P_CRC1: u8 = 6;
const P_DRAIN: u8 = 7;
const P_RESP: u8 = 8;

/// The core's registers and memories (the Rust model).
#[derive(Clone, Debug, Default)]
struct CoreState {
    // UART receiver
    rx_s1: bool,
    rx_s2: bool,
    rx_st: u8,
    rx_cnt: u16,
    rx_bit: u8,
    rx_sh: u8,
    /// A byte taken a cycle before the parser sees it (the Verilog's `rx_pre`).
    rx_pre: bool,
    rx_valid: bool,
    rx_data: u8,
    // UART transmitter
    tx_busy: bool,
    tx_cnt: u16,
    tx_bit: u8,
    tx_sh: u16,
    tx_out: bool,
    // parser
    p_st: u8,
    cmd: u8,
    len: u16,
    cnt: u16,
    crc: u16,
    perr: u8,
    tmo: u32,
    off_lo: u8,
    waddr: u32,
    phase: u8,
    pbuf: u16,
    // frame control
    loaded: u32,
    busy: bool,
    feeding: bool,
    primed: bool,
    pix: u32,
    lidx: u32,
    cyc: u32,
    last_cyc: u32,
    frames_done: u32,
    logits_valid: bool,
    errs: u8,
    // reply sequencer
    r_act: bool,
    r_rdy0: bool,
    r_rdy1: bool,
    r_rdy2: bool,
    r_rdy: bool,
    /// The reply byte at `r_i`, registered (the Verilog's `r_byte_q`).
    r_byte_q: u8,
    /// The payload's byte at `r_i - 4`, registered (`p_byte_q`; 0 outside the payload, where
    /// the Verilog's is unused).
    p_byte_q: u8,
    r_kind: u8,
    r_code: u8,
    r_cmd: u8,
    r_i: u16,
    r_crc: u16,
    /// The parser's outcome, registered and acted on a cycle later (the Verilog's
    /// `do_reply_q`/`kind_q`/`code_q`, `start_q`, `clear_q`), and the cycle's error flags
    /// (`sb_q`, which STATUS's clear keeps).
    q_reply: Option<(u8, u8)>,
    q_start: bool,
    q_clear: bool,
    q_sb: u8,
    /// The frame's output register (the Verilog's `o_v`, `o_l`, `o_d`): it moves when empty
    /// or taken; `o_d` keeps its value through a reset.
    o_v: bool,
    o_l: bool,
    o_d: u32,
    // memories' read registers
    fr_rdata: u32,
    lg_rdata: u16,
    /// The logit RAM's read registered again (the Verilog's `lg_q`): the reply byte's
    /// multiplexers take it, not the block RAM's output.
    lg_q: u16,
    // weights: the message's memory and next word, the word being assembled (byte w_ph), the
    // watermark (every word before (wm_sel, wm_adr) in load order was written by a message
    // whose CRC checked), and the load port's registered outputs
    w_sel: u16,
    w_adr: u16,
    w_ph: u8,
    w_buf: u64,
    wm_sel: u16,
    wm_adr: u16,
    wl_v: bool,
    wl_s: u16,
    wl_a: u16,
    wl_d: u64,
}

/// The shell's stateful leaf (see the module documentation).
#[derive(LogicBlock)]
pub struct ShellCore {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    /// Pixels into the network (3 lanes: R, G, B).
    pub m_axis: AxisOut,
    /// Logits from the network (2 lanes: a little-endian `u16`).
    pub s_axis: AxisIn,
    /// The network's weight-load port ([`crate::load`]), driven from WEIGHTS messages.
    pub wl_valid: Signal<Out, Bit>,
    pub wl_sel: Signal<Out, Bits<16>>,
    pub wl_addr: Signal<Out, Bits<16>>,
    pub wl_data: Signal<Out, Bits<64>>,
    _cfg: ShellConfig,
    _st: Box<CoreState>,
    /// The frame buffer (one RGB word per pixel) and the logit buffer.
    _fr: Vec<u32>,
    _lg: Vec<u16>,
}

impl ShellCore {
    pub fn new(cfg: &ShellConfig) -> Self {
        let st = CoreState {
            rx_s1: true,
            rx_s2: true,
            tx_out: true,
            ..Default::default()
        };
        ShellCore {
            clock: Default::default(),
            reset: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            m_axis: AxisOut::new(3),
            s_axis: AxisIn::new(2),
            wl_valid: Default::default(),
            wl_sel: Default::default(),
            wl_addr: Default::default(),
            wl_data: Default::default(),
            _cfg: cfg.clone(),
            _st: Box::new(st),
            _fr: vec![0; cfg.pixels()],
            _lg: vec![0; cfg.num_classes as usize],
        }
    }

    fn reset_state(&mut self) {
        let (frd, lrd, lq) = (self._st.fr_rdata, self._st.lg_rdata, self._st.lg_q);
        let od = self._st.o_d;
        *self._st = CoreState {
            o_d: od,
            fr_rdata: frd,
            lg_rdata: lrd,
            lg_q: lq,
            rx_s1: true,
            rx_s2: true,
            tx_out: true,
            ..Default::default()
        };
    }

    fn header_err(c: u8, l: u16, busy: bool) -> u8 {
        if c == 0 || c > cmd::WEIGHTS {
            err::COMMAND
        } else if c == cmd::WEIGHTS {
            if l < 12 || !(l - 4).is_multiple_of(8) {
                err::LENGTH
            } else if busy {
                err::BUSY
            } else {
                0
            }
        } else if c == cmd::LOAD {
            if l < 5 {
                err::LENGTH
            } else if busy {
                err::BUSY
            } else {
                0
            }
        } else if l != 0 {
            err::LENGTH
        } else {
            0
        }
    }

    fn err_flag(code: u8) -> u8 {
        match code {
            err::CRC => flag::CRC,
            err::LENGTH => flag::LENGTH,
            err::COMMAND => flag::COMMAND,
            err::TIMEOUT => flag::TIMEOUT,
            _ => flag::REJECTED,
        }
    }

    /// The reply byte at index `r_i` (from the old state; the payload's registered).
    fn reply_byte(cfg: &ShellConfig, o: &CoreState) -> u8 {
        let len = cfg.reply_len(o.r_kind);
        let i = o.r_i;
        if i == 0 {
            return SYNC_REPLY;
        }
        if i == 1 {
            return if o.r_kind == 0 {
                REPLY_ERROR
            } else {
                o.r_kind | REPLY_OK
            };
        }
        if i == 2 {
            return len as u8;
        }
        if i == 3 {
            return (len >> 8) as u8;
        }
        if i == 4 + len {
            return (o.r_crc >> 8) as u8;
        }
        if i > 4 + len {
            return o.r_crc as u8;
        }
        o.p_byte_q
    }

    /// The payload's byte at `r_i - 4` (0 outside the payload).
    fn payload_byte(cfg: &ShellConfig, o: &CoreState) -> u8 {
        let len = cfg.reply_len(o.r_kind);
        let i = o.r_i;
        if i < 4 || i >= 4 + len {
            return 0;
        }
        let j = (i - 4) as usize;
        let c = cfg;
        match o.r_kind {
            cmd::IDENTIFY => c.identify_payload()[j],
            cmd::LOAD => (o.loaded >> (8 * j)) as u8,
            cmd::WEIGHTS => Self::watermark_bytes(o)[j],
            cmd::STATUS => {
                let flags = o.busy as u8
                    | ((o.loaded == c.pixels() as u32) as u8) << 1
                    | (o.logits_valid as u8) << 2
                    | ((o.wm_sel as usize == c.load_depths.len()) as u8) << 3;
                match j {
                    0 => flags,
                    1 => o.r_code,
                    2..=5 => (o.frames_done >> (8 * (j - 2))) as u8,
                    6..=9 => (o.last_cyc >> (8 * (j - 6))) as u8,
                    10 | 11 => (o.loaded >> (8 * (j - 10))) as u8,
                    _ => Self::watermark_bytes(o)[j - 12],
                }
            }
            cmd::READ_LOGITS => {
                if j & 1 == 0 {
                    o.lg_q as u8
                } else {
                    (o.lg_q >> 8) as u8
                }
            }
            _ => {
                if j == 0 {
                    o.r_code
                } else {
                    o.r_cmd
                }
            }
        }
    }

    /// The weight watermark as a reply carries it: memory, then word (each `u16`, LE).
    fn watermark_bytes(o: &CoreState) -> [u8; 4] {
        let (a, b) = (o.wm_sel.to_le_bytes(), o.wm_adr.to_le_bytes());
        [a[0], a[1], b[0], b[1]]
    }

    /// Words of weight memory `sel` (0 past the last).
    fn depth_of(cfg: &ShellConfig, sel: u16) -> u16 {
        cfg.load_depths.get(sel as usize).copied().unwrap_or(0)
    }

    /// One rising clock edge (not in reset).
    fn edge(&mut self) {
        let o = (*self._st).clone();
        let c = &self._cfg;
        let div = c.divisor as u16;
        let pixels = c.pixels() as u32;
        let classes = c.num_classes;
        let rx_in = self.uart_rx.val();
        let tready = self.m_axis.tready.val();
        let lg_valid = self.s_axis.tvalid.val();
        let lg_last = self.s_axis.tlast.val();
        let lg_data = self.s_axis.tdata[0].val().index() as u16
            | (self.s_axis.tdata[1].val().index() as u16) << 8;
        let s = &mut *self._st;
        let mut set_bits = 0u8;
        let mut status_clear = false;

        // --- UART receiver
        s.rx_s1 = rx_in;
        s.rx_s2 = o.rx_s1;
        s.rx_pre = false;
        s.rx_valid = o.rx_pre;
        match o.rx_st {
            0 => {
                if !o.rx_s2 {
                    s.rx_st = 1;
                    s.rx_cnt = 0;
                }
            }
            1 => {
                if o.rx_cnt == div / 2 - 1 {
                    if o.rx_s2 {
                        s.rx_st = 0;
                    } else {
                        s.rx_st = 2;
                        s.rx_cnt = 0;
                        s.rx_bit = 0;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
            2 => {
                if o.rx_cnt == div - 1 {
                    s.rx_cnt = 0;
                    s.rx_sh = (o.rx_sh >> 1) | (o.rx_s2 as u8) << 7;
                    if o.rx_bit == 7 {
                        s.rx_st = 3;
                    } else {
                        s.rx_bit = o.rx_bit + 1;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
            _ => {
                if o.rx_cnt == div - 1 {
                    s.rx_st = 0;
                    if o.rx_s2 {
                        s.rx_pre = true;
                        s.rx_data = o.rx_sh;
                    } else {
                        set_bits |= flag::FRAMING;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
        }

        // --- parser
        let mut reply: Option<(u8, u8)> = None;
        let mut start = false;
        let mut fr_write: Option<(u32, u32)> = None;
        let mut wl_write: Option<(u16, u16, u64)> = None;
        match o.p_st {
            P_IDLE => {
                s.tmo = 0;
                if o.rx_valid && o.rx_data == SYNC_REQUEST {
                    s.p_st = P_CMD;
                    s.crc = 0xFFFF;
                    s.perr = 0;
                }
            }
            P_RESP => {
                s.tmo = 0;
                if o.rx_valid {
                    set_bits |= flag::OVERRUN;
                }
                if !o.r_act && o.q_reply.is_none() {
                    s.p_st = P_IDLE;
                }
            }
            _ => {
                if o.rx_valid {
                    let b = o.rx_data;
                    let crc = crc16_byte(o.crc, b);
                    s.tmo = 0;
                    s.crc = crc;
                    match o.p_st {
                        P_CMD => {
                            s.cmd = b;
                            s.p_st = P_LEN0;
                        }
                        P_LEN0 => {
                            s.len = b as u16;
                            s.p_st = P_LEN1;
                        }
                        P_LEN1 => {
                            let l = (b as u16) << 8 | (o.len & 0xff);
                            s.len = l;
                            s.cnt = 0;
                            s.phase = 0;
                            if l as u32 > c.max_payload() {
                                s.p_st = P_DRAIN;
                            } else {
                                s.perr = Self::header_err(o.cmd, l, o.busy);
                                s.p_st = if l == 0 { P_CRC0 } else { P_PAY };
                            }
                        }
                        P_PAY => {
                            if o.cmd == cmd::LOAD && o.perr == 0 {
                                if o.cnt == 0 {
                                    s.off_lo = b;
                                } else if o.cnt == 1 {
                                    let off = (b as u32) << 8 | o.off_lo as u32;
                                    if off > o.loaded {
                                        s.perr = err::OFFSET;
                                    } else {
                                        s.waddr = off;
                                        if off < o.loaded {
                                            s.loaded = off;
                                        }
                                    }
                                } else if o.phase == 0 {
                                    s.pbuf = (o.pbuf & 0xff00) | b as u16;
                                    s.phase = 1;
                                } else if o.phase == 1 {
                                    s.pbuf = (o.pbuf & 0x00ff) | (b as u16) << 8;
                                    s.phase = 2;
                                } else {
                                    s.phase = 0;
                                    if o.waddr < pixels {
                                        fr_write =
                                            Some((o.waddr, (b as u32) << 16 | o.pbuf as u32));
                                        s.waddr = o.waddr + 1;
                                    } else {
                                        s.perr = err::RANGE;
                                    }
                                }
                            }
                            if o.cmd == cmd::WEIGHTS && o.perr == 0 {
                                let n_mem = c.load_depths.len();
                                match o.cnt {
                                    0 | 2 => s.off_lo = b,
                                    1 => {
                                        let sel = (b as u16) << 8 | o.off_lo as u16;
                                        if sel as usize >= n_mem {
                                            s.perr = err::RANGE;
                                        } else {
                                            s.w_sel = sel;
                                        }
                                    }
                                    3 => {
                                        let adr = (b as u16) << 8 | o.off_lo as u16;
                                        let at = (o.w_sel, adr);
                                        if at > (o.wm_sel, o.wm_adr) {
                                            s.perr = err::OFFSET;
                                        } else if adr >= Self::depth_of(c, o.w_sel) {
                                            s.perr = err::RANGE;
                                        } else {
                                            s.w_adr = adr;
                                            s.w_ph = 0;
                                            if at < (o.wm_sel, o.wm_adr) {
                                                s.wm_sel = o.w_sel;
                                                s.wm_adr = adr;
                                            }
                                        }
                                    }
                                    _ => {
                                        if o.w_ph < 7 {
                                            let keep = if o.w_ph == 0 { 0 } else { o.w_buf };
                                            s.w_buf = keep | (b as u64) << (8 * o.w_ph);
                                            s.w_ph = o.w_ph + 1;
                                        } else {
                                            s.w_ph = 0;
                                            if o.w_adr < Self::depth_of(c, o.w_sel) {
                                                wl_write = Some((
                                                    o.w_sel,
                                                    o.w_adr,
                                                    o.w_buf | (b as u64) << 56,
                                                ));
                                                s.w_adr = o.w_adr + 1;
                                            } else {
                                                s.perr = err::RANGE;
                                            }
                                        }
                                    }
                                }
                            }
                            s.cnt = o.cnt.wrapping_add(1);
                            if o.cnt.wrapping_add(1) == o.len {
                                s.p_st = P_CRC0;
                            }
                        }
                        P_CRC0 => s.p_st = P_CRC1,
                        P_CRC1 => {
                            if crc != 0 {
                                reply = Some((0, err::CRC));
                            } else if o.perr != 0 {
                                reply = Some((0, o.perr));
                            } else {
                                match o.cmd {
                                    cmd::LOAD => {
                                        if o.phase != 0 {
                                            reply = Some((0, err::LENGTH));
                                        } else {
                                            reply = Some((cmd::LOAD, 0));
                                        }
                                    }
                                    cmd::WEIGHTS => reply = Some((cmd::WEIGHTS, 0)),
                                    cmd::START => {
                                        if o.busy {
                                            reply = Some((0, err::BUSY));
                                        } else if o.loaded != pixels
                                            || o.wm_sel as usize != c.load_depths.len()
                                        {
                                            reply = Some((0, err::NOT_LOADED));
                                        } else {
                                            start = true;
                                            reply = Some((cmd::START, 0));
                                        }
                                    }
                                    cmd::STATUS => {
                                        status_clear = true;
                                        reply = Some((cmd::STATUS, o.errs));
                                    }
                                    cmd::READ_LOGITS => {
                                        if o.busy {
                                            reply = Some((0, err::BUSY));
                                        } else if !o.logits_valid {
                                            reply = Some((0, err::NO_LOGITS));
                                        } else {
                                            reply = Some((cmd::READ_LOGITS, 0));
                                        }
                                    }
                                    _ => reply = Some((cmd::IDENTIFY, 0)),
                                }
                            }
                        }
                        _ => {}
                    }
                } else if o.tmo == c.timeout - 1 {
                    s.tmo = 0;
                    reply = Some((
                        0,
                        if o.p_st == P_DRAIN {
                            err::LENGTH
                        } else {
                            err::TIMEOUT
                        },
                    ));
                } else {
                    s.tmo = o.tmo + 1;
                }
            }
        }
        if reply.is_some() {
            s.p_st = P_RESP;
        }
        s.q_reply = reply;
        s.q_start = start;
        s.q_clear = status_clear;
        if let Some((kind, code)) = o.q_reply {
            // A message taken moves `loaded` or the watermark a cycle after its last byte
            // (sqf_shell_core's load_q and wm_q); complete memories move the watermark to the
            // next.
            if kind == cmd::LOAD {
                s.loaded = o.waddr;
            } else if kind == cmd::WEIGHTS {
                if o.w_adr == Self::depth_of(c, o.w_sel) {
                    s.wm_sel = o.w_sel + 1;
                    s.wm_adr = 0;
                } else {
                    s.wm_sel = o.w_sel;
                    s.wm_adr = o.w_adr;
                }
            }
            s.r_act = true;
            s.r_rdy0 = false;
            s.r_rdy1 = false;
            s.r_rdy2 = false;
            s.r_rdy = false;
            s.r_kind = kind;
            s.r_code = code;
            s.r_cmd = o.cmd;
            s.r_i = 0;
            s.r_crc = 0xFFFF;
            if kind == 0 {
                set_bits |= Self::err_flag(code);
            }
        }

        // --- reply sequencer and UART transmitter
        let rlen = c.reply_len(o.r_kind);
        s.p_byte_q = Self::payload_byte(c, &o);
        s.r_byte_q = Self::reply_byte(c, &o);
        let mut tx_load: Option<u8> = None;
        if o.r_act {
            if !o.r_rdy0 {
                s.r_rdy0 = true;
            } else if !o.r_rdy1 {
                s.r_rdy1 = true;
            } else if !o.r_rdy2 {
                s.r_rdy2 = true;
            } else if !o.r_rdy {
                s.r_rdy = true;
            } else if !o.tx_busy {
                let b = o.r_byte_q;
                tx_load = Some(b);
                if o.r_i >= 1 && o.r_i < 4 + rlen {
                    s.r_crc = crc16_byte(o.r_crc, b);
                }
                s.r_i = o.r_i + 1;
                s.r_rdy0 = false;
                s.r_rdy1 = false;
                s.r_rdy2 = false;
                s.r_rdy = false;
                if o.r_i == 5 + rlen {
                    s.r_act = false;
                }
            }
        }
        if let Some(b) = tx_load {
            s.tx_busy = true;
            s.tx_sh = 0x100 | b as u16;
            s.tx_out = false;
            s.tx_cnt = 0;
            s.tx_bit = 0;
        } else if o.tx_busy {
            if o.tx_cnt == div - 1 {
                s.tx_cnt = 0;
                if o.tx_bit == 9 {
                    s.tx_busy = false;
                } else {
                    s.tx_out = o.tx_sh & 1 != 0;
                    s.tx_sh = 0x100 | (o.tx_sh >> 1);
                    s.tx_bit = o.tx_bit + 1;
                }
            } else {
                s.tx_cnt = o.tx_cnt + 1;
            }
        }

        // --- streamer, cycle counter, logit capture
        let advance = !o.o_v || tready;
        let fire = o.feeding && o.primed && advance;
        let last = o.pix == pixels - 1;
        if advance {
            s.o_v = o.feeding && o.primed;
            s.o_l = last;
            s.o_d = o.fr_rdata;
        }
        let fr_raddr = if fire && !last { o.pix + 1 } else { o.pix };
        s.fr_rdata = self._fr[fr_raddr as usize];
        let lg_raddr = if o.r_i >= 4 && ((o.r_i - 4) as u32) < 2 * classes {
            ((o.r_i - 4) >> 1) as usize
        } else {
            0
        };
        s.lg_rdata = self._lg[lg_raddr];
        s.lg_q = o.lg_rdata;
        if let Some((a, d)) = fr_write {
            self._fr[a as usize] = d;
        }
        s.wl_v = wl_write.is_some();
        if let Some((sel, a, d)) = wl_write {
            s.wl_s = sel;
            s.wl_a = a;
            s.wl_d = d;
        }
        if o.q_start {
            s.busy = true;
            s.feeding = true;
            s.primed = false;
            s.pix = 0;
            s.cyc = 0;
            s.lidx = 0;
            s.loaded = 0;
            s.logits_valid = false;
        } else {
            if o.feeding {
                s.primed = true;
                if fire {
                    if last {
                        s.feeding = false;
                        s.primed = false;
                    } else {
                        s.pix = o.pix + 1;
                    }
                }
            }
            if o.busy {
                s.cyc = o.cyc.wrapping_add(1);
                if lg_valid {
                    self._lg[o.lidx as usize] = lg_data;
                    if o.lidx == classes - 1 {
                        s.lidx = 0;
                        s.busy = false;
                        s.frames_done = o.frames_done.wrapping_add(1);
                        s.last_cyc = o.cyc.wrapping_add(1);
                        s.logits_valid = true;
                        if !lg_last {
                            set_bits |= flag::STREAM;
                        }
                    } else {
                        s.lidx = o.lidx + 1;
                        if lg_last {
                            set_bits |= flag::STREAM;
                        }
                    }
                }
            }
        }
        s.errs = (if o.q_clear { o.q_sb } else { o.errs }) | set_bits;
        s.q_sb = set_bits;
    }
}

impl Logic for ShellCore {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.reset.val() {
                self.reset_state();
            } else {
                self.edge();
            }
        }
        let s = &self._st;
        self.uart_tx.next = s.tx_out;
        self.m_axis.tvalid.next = s.o_v;
        self.m_axis.tlast.next = s.o_l;
        let d = s.o_d;
        self.m_axis
            .set_data([d as u8, (d >> 8) as u8, (d >> 16) as u8]);
        self.s_axis.tready.next = true;
        self.wl_valid.next = s.wl_v;
        self.wl_sel.next = (s.wl_s as u64).into();
        self.wl_addr.next = (s.wl_a as u64).into();
        self.wl_data.next = s.wl_d.into();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        self.m_axis.connect_outputs();
        self.s_axis.tready.connect();
        self.wl_valid.connect();
        self.wl_sel.connect();
        self.wl_addr.connect();
        self.wl_data.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(super::core_verilog::core_verilog(&self._cfg))
    }
}
